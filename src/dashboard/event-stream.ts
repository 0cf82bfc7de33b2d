// The dashboard's one server-sent-events stream. What it carries are TOPICS (workspaces,
// orchestrations, metrics), each a whole current state, not a log of changes: a change marks
// its topic dirty for every client and a flush (at most every FLUSH_MS) sends each dirty topic
// once, rendered once for all clients. A client whose socket has more than MAX_BUFFERED_BYTES
// unsent is skipped and keeps its dirty marks until it drains: it then gets only the latest
// state of each topic (intermediate states are coalesced away). So the daemon holds per client
// at most one socket buffer and a set of topic names, however slow the reader.
import type { ServerResponse } from "node:http";

export const FLUSH_MS = 50;
export const MAX_BUFFERED_BYTES = 256 * 1024;
export const MAX_CLIENTS = 16;
const HEARTBEAT_MS = 25_000;

interface Client {
  res: ServerResponse;
  dirty: Set<string>;
}

export class EventStream {
  private readonly clients = new Set<Client>();
  private timer: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout;

  /** topics: each topic's current state, read when it is sent. */
  constructor(private readonly topics: Record<string, () => unknown>) {
    this.heartbeat = setInterval(() => this.each((c) => this.writable(c) && c.res.write(": keep-alive\n\n")), HEARTBEAT_MS).unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  // Takes an SSE response: headers now, every topic at once, then changes. False when full.
  attach(res: ServerResponse): boolean {
    if (this.clients.size >= MAX_CLIENTS) return false;
    const client: Client = { res, dirty: new Set(Object.keys(this.topics)) };
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no" });
    res.write("retry: 1000\n\n");
    this.clients.add(client);
    res.on("drain", () => this.schedule());
    res.on("close", () => this.clients.delete(client));
    this.schedule();
    return true;
  }

  // Marks a topic changed; every client gets its state at the next flush.
  changed(topic: string): void {
    if (this.clients.size === 0) return;
    this.each((c) => c.dirty.add(topic));
    this.schedule();
  }

  close(): void {
    clearInterval(this.heartbeat);
    clearTimeout(this.timer);
    this.each((c) => c.res.end());
    this.clients.clear();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, FLUSH_MS);
  }

  private flush(): void {
    const rendered = new Map<string, string>();
    const render = (topic: string) => {
      let frame = rendered.get(topic);
      if (frame === undefined) rendered.set(topic, (frame = `event: ${topic}\ndata: ${JSON.stringify(this.topics[topic]!())}\n\n`));
      return frame;
    };
    this.each((client) => {
      for (const topic of client.dirty) {
        if (!this.writable(client)) return; // the rest waits for 'drain'
        client.dirty.delete(topic);
        client.res.write(render(topic));
      }
    });
  }

  private writable(client: Client): boolean {
    return !client.res.destroyed && client.res.writableLength < MAX_BUFFERED_BYTES;
  }

  private each(fn: (client: Client) => unknown): void {
    for (const client of this.clients) fn(client);
  }
}
