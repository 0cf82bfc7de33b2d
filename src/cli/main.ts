// agentiso command-line entry point. Thin: parse argv, call an operation, print the result.
import { readFileSync } from "node:fs";

const HELP = `agentiso — isolated, forkable Linux workspaces for AI coding agents

Usage: agentiso <command> [options]

Commands:
  version            print the version
  help               this text

Exit codes: 0 success, 1 failure, 2 invalid usage.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function main(argv: string[]): number {
  const [command] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === "version" || command === "--version") {
    process.stdout.write(version() + "\n");
    return 0;
  }
  process.stderr.write(`agentiso: unknown command ${JSON.stringify(command)} (see agentiso --help)\n`);
  return 2;
}

process.exitCode = main(process.argv.slice(2));
