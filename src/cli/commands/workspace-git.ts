// `agentiso workspace git-log|git-checkout|merge`: git inside workspaces (never on the host).
import type { CliCommand } from "../command.js";
import { numberValue, requirePositionals, stringValue } from "../command.js";
import { EXIT_CODES } from "../exit-codes.js";
import { table } from "../format.js";
import { runOperation } from "../cli-context.js";
import { contracts } from "../../contract/registry.js";
import { DEFAULT_REPO_DIR } from "../../contract/git-contracts.js";

const PATH_OPTION = { path: { type: "string" as const } };

export const gitLogCommand: CliCommand = {
  name: "git-log",
  usage: `git-log WS [--path ${DEFAULT_REPO_DIR}] [-n 20] [--ref R] [--file F] [--json]`,
  summary: "show the latest commits of a repository in a workspace",
  options: { ...PATH_OPTION, "max-count": { type: "string", short: "n" }, ref: { type: "string" }, file: { type: "string" } },
  async run(ctx, values, positionals) {
    const [workspace] = requirePositionals(this, positionals, 1);
    const log = await runOperation(ctx, contracts.gitLog, {
      workspace,
      path: stringValue(values, "path"),
      maxCount: numberValue(values, "max-count"),
      ref: stringValue(values, "ref"),
      file: stringValue(values, "file"),
    });
    if (values.json) ctx.json(log);
    else ctx.out(table(log.commits.map((c) => [c.hash.slice(0, 12), c.date, c.author, c.subject]), ["COMMIT", "DATE", "AUTHOR", "SUBJECT"]) + (log.truncated ? "(more: raise -n)\n" : ""));
    return 0;
  },
};

export const gitCheckoutCommand: CliCommand = {
  name: "git-checkout",
  usage: `git-checkout WS REF [-b|--create] [--start-point R] [--path ${DEFAULT_REPO_DIR}] [--json]`,
  summary: "switch a workspace's repository to a branch, tag or commit (-b: create branch REF)",
  options: { ...PATH_OPTION, create: { type: "boolean", short: "b" }, "start-point": { type: "string" } },
  async run(ctx, values, positionals) {
    const [workspace, ref] = requirePositionals(this, positionals, 2);
    const head = await runOperation(ctx, contracts.gitCheckout, { workspace, ref, path: stringValue(values, "path"), create: values.create === true, startPoint: stringValue(values, "start-point") });
    if (values.json) ctx.json(head);
    else ctx.out(head.branch === null ? `detached at ${head.commit}\n` : `on ${head.branch} at ${head.commit}\n`);
    return 0;
  },
};

export const mergeCommand: CliCommand = {
  name: "merge",
  usage: `merge TARGET SOURCE... [--strategy branch-per-source|cherry-pick] [--path ${DEFAULT_REPO_DIR}] [--message M] [--base COMMIT] [--json]`,
  summary: "apply the sources' changes (commits and uncommitted edits) to TARGET's repository; exits 5 when one did not apply",
  options: { ...PATH_OPTION, strategy: { type: "string" }, message: { type: "string" }, base: { type: "string" } },
  async run(ctx, values, positionals) {
    const [target, ...sources] = requirePositionals(this, positionals, 2);
    const merged = await runOperation(ctx, contracts.workspaceMerge, {
      target,
      sources,
      strategy: stringValue(values, "strategy"),
      path: stringValue(values, "path"),
      commitMessage: stringValue(values, "message"),
      base: stringValue(values, "base"),
    });
    if (values.json) ctx.json(merged);
    else {
      const rows = merged.results.map((r) => [r.source, r.status, r.commit?.slice(0, 12) ?? r.branch ?? "", r.files.join(" ").slice(0, 80), r.detail?.split("\n").pop() ?? ""]);
      ctx.out(table(rows, ["SOURCE", "STATUS", "COMMIT", "FILES", "DETAIL"]) + `${merged.target} is ${merged.branch === null ? "detached" : `on ${merged.branch}`} at ${merged.commit}\n`);
    }
    // a source that did not go in is an outcome to act on, not agentiso failing: the conflict code
    return merged.results.every((r) => r.status === "applied" || r.status === "unchanged") ? 0 : EXIT_CODES.CONFLICT;
  },
};
