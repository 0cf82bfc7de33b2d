// Runs the guest agent's request handler in this process, wired to a GuestClient over an
// in-memory linked pair: the fast path for unit tests of both sides of the protocol.
import type { Duplex } from "node:stream";
import { GuestAgent, type GuestAgentOptions } from "../../src/guest-agent/guest-agent.js";
import { GuestClient } from "../../src/guest/guest-client.js";
import { createLinkedPair } from "../../src/guest/linked-pair.js";

export interface InProcessAgent extends AsyncDisposable {
  agent: GuestAgent;
  client: GuestClient;
  /** Every agent-side end handed out so far (tests destroy them to simulate a dead transport). */
  agentEnds: Duplex[];
  /** A raw client end (no GuestClient): for tests that speak bytes. */
  rawConnection(): Duplex;
}

// Creates an agent and a client connected to it; dispose closes both and kills every job.
export function startInProcessAgent(options: GuestAgentOptions = {}): InProcessAgent {
  const agent = new GuestAgent(options);
  const agentEnds: Duplex[] = [];
  const rawConnection = () => {
    const [clientEnd, agentEnd] = createLinkedPair();
    agentEnds.push(agentEnd);
    agent.serve(agentEnd);
    return clientEnd;
  };
  const client = new GuestClient({ connect: async () => rawConnection() });
  return {
    agent,
    client,
    agentEnds,
    rawConnection,
    [Symbol.asyncDispose]: async () => {
      await client.close();
      await agent.close();
    },
  };
}
