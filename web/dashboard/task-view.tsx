// One task: its diff (added/removed lines coloured; every line is a text node), the agent's
// tool calls and answer, and verify's output. Fetched once the task is done.
import { useEffect, useState } from "preact/hooks";
import { duration } from "./live";
import { runFile } from "./orchestrations-view";
import type { RunSummary, TaskDetail, TranscriptShape } from "./types";

function lineClass(line: string): string {
  if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff ")) return "file";
  if (line.startsWith("@@")) return "hunk";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "del";
  return "";
}

export function Diff({ patch }: { patch: string }) {
  if (!patch) return <p class="muted">no changes</p>;
  return (
    <pre class="diff" data-testid="diff" tabIndex={0}>
      {patch.split("\n").map((line, i) => (
        <div key={i} class={lineClass(line)}>{line || " "}</div>
      ))}
    </pre>
  );
}

// opencode's whole transcript of the task (from its events file), fetched once the task is done.
function Transcript({ run, task, fallback }: { run: string; task: string; fallback: TaskDetail["toolCalls"] }) {
  const [transcript, setTranscript] = useState<TranscriptShape | undefined>();
  const [problem, setProblem] = useState("");
  useEffect(() => {
    let cancelled = false;
    void fetch(`/api/runs/${encodeURIComponent(run)}/tasks/${encodeURIComponent(task)}/transcript`).then(async (res) => {
      if (cancelled) return;
      if (res.ok) setTranscript(((await res.json()) as { result: TranscriptShape }).result);
      else setProblem(`opencode's events are not available (HTTP ${res.status}); its tool calls:`);
    });
    return () => {
      cancelled = true;
    };
  }, [run, task]);
  if (!transcript) {
    return (
      <div>
        {problem ? <p class="muted">{problem}</p> : null}
        <ol class="transcript">
          {fallback.map((call, i) => <li key={i} class={call.error ? "error" : ""}><b>{call.tool}</b> {call.status} {call.title ?? ""} {call.error ?? ""}</li>)}
        </ol>
      </div>
    );
  }
  return (
    <ol class="transcript" data-testid="transcript">
      {transcript.entries.map((entry, i) => (
        <li key={i} class={`entry-${entry.kind}${entry.kind === "error" || entry.status === "error" ? " error" : ""}`}>
          {entry.kind === "tool" ? <b>{entry.tool} <span class="muted">{entry.status}</span> </b> : null}
          {entry.kind === "omitted" || entry.kind === "step" ? <span class="muted">{entry.text}</span> : <span class="text">{entry.text}</span>}
        </li>
      ))}
    </ol>
  );
}

export function TaskView({ open, runs, onBack }: { open: { run: string; task: string }; runs: RunSummary[] | undefined; onBack: () => void }) {
  const [detail, setDetail] = useState<TaskDetail | undefined>();
  const [problem, setProblem] = useState("");
  const summary = runs?.find((r) => r.id === open.run)?.tasks.find((t) => t.name === open.task);
  const state = summary?.state;
  useEffect(() => {
    let cancelled = false;
    void fetch(`/api/runs/${encodeURIComponent(open.run)}/tasks/${encodeURIComponent(open.task)}`).then(async (res) => {
      if (cancelled) return;
      if (res.ok) setDetail(((await res.json()) as { result: TaskDetail }).result);
      else setProblem(res.status === 404 ? "the task has not finished yet: its diff appears when it does" : `HTTP ${res.status}`);
    });
    return () => {
      cancelled = true;
    };
  }, [open.run, open.task, state]);
  return (
    <section aria-label={`Task ${open.task}`} data-testid="task">
      <p><button onClick={onBack}>← orchestrations</button></p>
      <h2>{open.run} / {open.task} <span class={`badge state-${state ?? ""}`}>{state}</span></h2>
      <h3>timeline</h3>
      <ol class="timeline" data-testid="timeline">
        {(summary?.timeline ?? []).map((entry, i) => (
          <li key={i}><span class="num muted">{duration(entry.atMs - (summary?.timeline[0]?.atMs ?? entry.atMs))}</span> {entry.text}</li>
        ))}
      </ol>
      {!detail ? <p class="muted">{problem || "loading…"}</p> : (
        <div>
          {detail.reason ? <p class="error">{detail.reason}</p> : null}
          <h3>diff ({detail.filesChanged.length} files{detail.patchTruncated ? ", truncated: see report.json" : ""})</h3>
          <Diff patch={detail.patch} />
          <p class="links" data-testid="task-links">
            {detail.branch ?? summary?.branch ? <span>branch <code data-testid="branch">{detail.branch ?? summary?.branch}</code> · </span> : null}
            <a href={runFile(open.run, `${open.task}.patch`)} target="_blank" rel="noopener">{open.task}.patch</a> · <a href={runFile(open.run, "report.json")} target="_blank" rel="noopener">report.json</a>
          </p>
          <h3>transcript</h3>
          <Transcript run={open.run} task={open.task} fallback={detail.toolCalls} />
          <h3>final answer</h3>
          <pre class="answer">{detail.summary}</pre>
          <h3>verify</h3>
          {detail.verify ? (
            <pre class="verify">{detail.verify.passed ? `passed (${detail.verify.attempts} attempts)` : `failed: ${detail.verify.command ?? ""} exit ${String(detail.verify.exitCode)}\n${detail.verify.outputTail ?? ""}`}</pre>
          ) : <p class="muted">no verify commands</p>}
        </div>
      )}
    </section>
  );
}
