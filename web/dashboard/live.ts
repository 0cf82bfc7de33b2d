// The page's one connection to the daemon: the event stream (GET /api/events, server-sent
// events). Each event is a topic's whole current state; EventSource reconnects by itself.
import { useEffect, useState } from "preact/hooks";
import type { RunSummary, SeriesSnapshot, WorkspaceRow } from "./types";

export interface LiveState {
  connected: boolean;
  workspaces: WorkspaceRow[] | undefined;
  orchestrations: RunSummary[] | undefined;
  metrics: SeriesSnapshot | undefined;
}

// Subscribes once; re-renders with each topic's new state.
export function useLive(): LiveState {
  const [state, setState] = useState<LiveState>({ connected: false, workspaces: undefined, orchestrations: undefined, metrics: undefined });
  useEffect(() => {
    const source = new EventSource("/api/events");
    const on = (topic: "workspaces" | "orchestrations" | "metrics") => (event: MessageEvent<string>) => setState((s) => ({ ...s, connected: true, [topic]: JSON.parse(event.data) as unknown }));
    source.addEventListener("workspaces", on("workspaces"));
    source.addEventListener("orchestrations", on("orchestrations"));
    source.addEventListener("metrics", on("metrics"));
    source.onopen = () => setState((s) => ({ ...s, connected: true }));
    source.onerror = () => setState((s) => ({ ...s, connected: false }));
    return () => source.close();
  }, []);
  return state;
}

// Re-renders every second (ages and elapsed times).
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

// POSTs one workspace action; resolves with the daemon's error message, or undefined on success.
export async function workspaceAction(name: string, action: string): Promise<string | undefined> {
  const res = await fetch(`/api/workspaces/${encodeURIComponent(name)}/${action}`, { method: "POST", headers: { "x-agentiso-dashboard": "1" } });
  if (res.ok) return undefined;
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  return body.error?.message ?? `HTTP ${res.status}`;
}

export { durationText as duration } from "../../src/core/duration-text";
