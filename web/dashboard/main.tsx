// The dashboard page: tabs over the views, fed by the one event stream (live.ts). Preact
// renders every string from the daemon as a text node: nothing is ever parsed as HTML.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { useLive } from "./live";
import { MetricsView } from "./metrics-view";
import { OrchestrationsView } from "./orchestrations-view";
import { TaskView } from "./task-view";
import { WorkspacesView } from "./workspaces-view";
import "./app.css";

type Tab = "workspaces" | "orchestrations" | "task" | "metrics";

function App() {
  const live = useLive();
  const [tab, setTab] = useState<Tab>((location.hash.slice(1) as Tab) || "workspaces");
  const [open, setOpen] = useState<{ run: string; task: string } | undefined>();
  useEffect(() => history.replaceState(null, "", `#${tab}`), [tab]);
  // keys 1-4 switch views (outside text fields)
  useEffect(() => {
    const order: Tab[] = ["workspaces", "orchestrations", "task", "metrics"];
    const onKey = (event: KeyboardEvent) => {
      if (event.altKey || event.ctrlKey || event.metaKey || (event.target as HTMLElement | null)?.closest("input, textarea")) return;
      const next = order[Number(event.key) - 1];
      if (next && (next !== "task" || open)) setTab(next);
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, [open]);
  const tabs: Array<[Tab, string]> = [["workspaces", "Workspaces"], ["orchestrations", "Orchestrations"], ...(open ? [["task", `Task ${open.task}`] as [Tab, string]] : []), ["metrics", "Metrics"]];
  return (
    <div class="app">
      <header>
        <h1>agentiso</h1>
        <nav role="tablist">
          {tabs.map(([id, label]) => (
            <button key={id} role="tab" aria-selected={tab === id} data-tab={id} title={`key ${["workspaces", "orchestrations", "task", "metrics"].indexOf(id) + 1}`} onClick={() => setTab(id)}>{label}</button>
          ))}
        </nav>
        <span class={live.connected ? "live on" : "live"} role="status">{live.connected ? "● live" : "○ reconnecting"}</span>
      </header>
      <main>
        {tab === "workspaces" && <WorkspacesView rows={live.workspaces} />}
        {tab === "orchestrations" && <OrchestrationsView runs={live.orchestrations} onOpen={(run, task) => (setOpen({ run, task }), setTab("task"))} />}
        {tab === "task" && open && <TaskView open={open} runs={live.orchestrations} onBack={() => setTab("orchestrations")} />}
        {tab === "metrics" && <MetricsView series={live.metrics} />}
      </main>
    </div>
  );
}

const root = document.getElementById("app")!;
root.textContent = ""; // the "loading" line of index.html
render(<App />, root);
