// One attempt at the provider: send the buffered request body, resolve at the response's
// headers or at the failure. The proxy may replay a request (after a 429 or 503) only
// because the body is held whole in memory and nothing of the answer reached the client yet.
import { request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";

export type UpstreamAttempt =
  | { answer: IncomingMessage }
  /** sent: the whole request reached the provider (it may have billed the input). */
  | { error: Error; sent: boolean };

export interface UpstreamRequest {
  target: URL;
  method: string;
  headers: OutgoingHttpHeaders;
  body: Buffer;
  /** How long the provider gets to start answering. */
  timeoutMs: number;
  /** Aborts the attempt, and a response still streaming, when the client has gone. */
  signal: AbortSignal;
}

// Never rejects. After the headers arrived, a failure destroys the answer (its reader sees it).
export function attemptUpstream(request: UpstreamRequest): Promise<UpstreamAttempt> {
  return new Promise((resolve) => {
    const upstream: ClientRequest = (request.target.protocol === "https:" ? httpsRequest : httpRequest)(request.target, {
      method: request.method,
      headers: request.headers,
      timeout: request.timeoutMs,
    });
    let sent = false;
    let answer: IncomingMessage | undefined;
    const onAbort = () => upstream.destroy(new Error("the client went away"));
    request.signal.addEventListener("abort", onAbort, { once: true });
    const detach = () => request.signal.removeEventListener("abort", onAbort);
    upstream.once("finish", () => (sent = true));
    upstream.on("timeout", () => upstream.destroy(new Error("upstream did not answer in time")));
    upstream.on("error", (error) => {
      detach();
      if (answer) answer.destroy(error);
      else resolve({ error, sent });
    });
    upstream.on("response", (response) => {
      answer = response;
      // The request timeout guards the wait for headers only; a long stream is fine.
      response.socket?.setTimeout(0);
      response.once("end", detach);
      resolve({ answer: response });
    });
    if (request.signal.aborted) onAbort();
    else upstream.end(request.body);
  });
}
