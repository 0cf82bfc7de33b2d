// The bundle runs on Debian bookworm's own nodejs 18, the Node that workspace images ship.
// scripts/fetch-node18.sh puts it in /var/cache/agentiso-test/node18 (CI runs it first).
import { connectUnix } from "../../src/guest/connect-unix.js";
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startAgentProcess, type AgentProcess } from "../support/agent-process.js";
import { describeBadInput } from "../support/bad-input-suite.js";
import { describeGuestOperations } from "../support/guest-operations-suite.js";
import { hasCommand, hasPath, isRoot, requires } from "../support/prereq.js";
import type { GuestClient } from "../../src/guest/guest-client.js";

const NODE18 = process.env.AGENTISO_NODE18 ?? "/var/cache/agentiso-test/node18/node";
const skip = requires(hasPath(NODE18, `Debian's node 18 at ${NODE18} (run scripts/fetch-node18.sh)`), isRoot(), hasCommand("unshare"));

describe("bundled guest agent on Debian's node 18", { skip }, () => {
  let agent: AgentProcess;
  let client: GuestClient;
  before(async () => {
    agent = await startAgentProcess({ node: [NODE18] });
    client = agent.client();
  });
  after(async () => {
    await agent?.[Symbol.asyncDispose]();
  });

  test("hello comes from a node 18 agent", async () => {
    const hello = await client.connect();
    assert.match(hello.node, /^v18\./);
    assert.equal(hello.version, 1);
  });

  describeGuestOperations(() => ({ client, dir: agent.dir }));

  describe("bad input", () => {
    describeBadInput(() => ({
      open: connectUnix(agent.socketPath),
    }));
  });
});
