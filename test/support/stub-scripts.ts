// Stub model scripts shared by the opencode tests: what a scripted agent run does, step by step.
import type { StubScriptInput } from "../../src/llm/stub-script.js";

/** The task prompt the WRITE_AND_EDIT script answers to. */
export const WRITE_AND_EDIT_PROMPT = "agentiso-test: write NEW.md and edit a.txt";

// Step 1 writes a new file, step 2 edits a.txt ("hello" -> "hello edited"), step 3 answers.
export const WRITE_AND_EDIT: StubScriptInput = {
  usage: { promptTokens: 100, completionTokens: 20 },
  rules: [
    {
      name: "write-and-edit",
      match: { firstUserMessageContains: "agentiso-test: write NEW.md" },
      steps: [
        { toolCalls: [{ name: "write", arguments: { filePath: "{{workdir}}/NEW.md", content: "written by the model\n" } }] },
        { toolCalls: [{ name: "edit", arguments: { filePath: "{{workdir}}/a.txt", oldString: "hello", newString: "hello edited" } }] },
        { text: "Edited a.txt and wrote NEW.md" },
      ],
    },
  ],
  default: { text: "Test task" },
};

// Every request fails with HTTP 400 (opencode gives up at once; a 5xx would be retried for a minute).
export const ALWAYS_400: StubScriptInput = { default: { fail: { status: 400, message: "stub: scripted failure" } } };
