// A user's terminal at the far end of a front door (`agentiso ws shell` over the control API's
// terminal upgrade): what a terminal operation reads its input from and writes its output to,
// instead of answering with bytes. The front door implements it; operations see only this.

/** One event of the user's side: keystrokes, a new window size, or the end of input. */
export type TerminalInput = { type: "data"; data: Buffer } | { type: "resize"; rows: number; cols: number } | { type: "end" };

export interface TerminalChannel {
  /** The command runs: the front door tells the user's side, which may switch to raw mode. A failure before this is an ordinary error answer. */
  started(): void;
  /** Output for the user's terminal; resolves once the front door can take more (backpressure reaches the command). */
  write(data: Buffer): Promise<void>;
  /** The user's input in order; ends when the user's side closes or the call is over. */
  readonly input: AsyncIterable<TerminalInput>;
}
