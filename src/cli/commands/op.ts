// `agentiso op [NAME [--field value]...]`: every operation of the registry from the command
// line, its flags and help generated from its contract. The hand-written commands stay where
// they add something (exec's exit code, cp's streaming, tables, orchestrate's progress).
import { AgentisoError } from "../../core/errors.js";
import { contractNamed, CONTRACTS } from "../../contract/registry.js";
import type { OperationContract } from "../../contract/contract.js";
import type { CliCommand } from "../command.js";
import { runOperation } from "../cli-context.js";
import { operationFlags, readOperationFlags, type OperationFlag } from "../operation-flags.js";

export const opCommand: CliCommand = {
  name: "op",
  usage: "op [NAME [--field value]... [--input JSON|@FILE]]",
  summary: "run any operation by name (agentiso op lists them; agentiso op NAME --help shows its flags); prints its JSON result",
  rawArgs: true,
  help: (args) => {
    const contract = args[0] === undefined ? undefined : contractNamed(args[0]);
    return contract ? operationHelp(contract) : operationList();
  },
  async run(ctx, _values, args) {
    const [name, ...flags] = args;
    if (name === undefined) {
      ctx.out(operationList());
      return 0;
    }
    const contract = contractNamed(name);
    if (!contract) throw new AgentisoError("INVALID_INPUT", `unknown operation ${JSON.stringify(name)} (agentiso op lists them)`);
    ctx.json(await runOperation(ctx, contract, readOperationFlags(contract, flags)));
    return 0;
  },
};

// One line per operation: what `agentiso op` and `agentiso --help` show.
export function operationList(): string {
  const width = Math.max(...CONTRACTS.map((c) => c.name.length));
  return CONTRACTS.map((c) => `  op ${c.name.padEnd(width)}  ${c.title}`).join("\n") + "\n";
}

// The help of one operation, from its contract.
export function operationHelp(contract: OperationContract): string {
  const flags = operationFlags(contract);
  const required = flags.filter((f) => f.required).map((f) => `--${f.flag} ${placeholder(f)}`);
  const lines = [
    `usage: agentiso op ${contract.name} ${[...required, "[options]"].join(" ")}`,
    `  ${contract.title}. ${contract.description}`,
    "",
    "options:",
    ...flags.map((f) => `  --${f.flag} ${placeholder(f)}${f.required ? " (required)" : ""}\n      ${f.description || f.field}`),
    "  --input JSON|@FILE\n      the whole input as one JSON object (flags given after it override its fields)",
    "",
    `prints the result as JSON; exit codes as in agentiso --help`,
  ];
  return lines.join("\n") + "\n";
}

function placeholder(flag: OperationFlag): string {
  if (flag.choices) return flag.choices.join("|");
  switch (flag.kind) {
    case "number":
      return "N";
    case "boolean":
      return "(or --no-" + flag.flag + ")";
    case "strings":
      return "TEXT (repeatable)";
    case "json":
      return "JSON";
    case "scalar":
      return "N|TEXT";
    default:
      return "TEXT";
  }
}
