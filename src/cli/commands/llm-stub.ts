// `agentiso llm-stub [--port N] [--host ADDR] [--script FILE.json]`: the OpenAI-compatible stub
// model for tests and offline demos (see docs/llm.md).
import type { CliCommand } from "../command.js";
import { stringValue } from "../command.js";

export const llmStubCommand: CliCommand = {
  name: "llm-stub",
  usage: "llm-stub [--port N] [--host 127.0.0.1] [--script FILE.json]",
  summary: "serve the scripted OpenAI-compatible stub model (prints its base URL)",
  options: { port: { type: "string" }, host: { type: "string" }, script: { type: "string" } },
  async run(_ctx, values) {
    const argv: string[] = [];
    for (const key of ["port", "host", "script"]) {
      const value = stringValue(values, key);
      if (value !== undefined) argv.push(`--${key}`, value);
    }
    const { runLlmStubCommand } = await import("../../llm/stub-command.js");
    return runLlmStubCommand(argv);
  },
};
