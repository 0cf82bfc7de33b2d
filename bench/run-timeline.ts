// Where the wall time of one `agentiso orchestrate` run went: the time covered by opencode or
// verify, and the orchestration overhead, split by stage. Built from the CLI's progress lines
// (timed as the bench reads them) and report.json.
//
// Overhead = wall − the wall time during which at least one task's opencode or verify ran
// (the union of their intervals, not their sum: with 4 tasks in parallel the sum is ~4× the time
// it covers). It is the time the user waits while no agent and no check makes progress: the
// critical path. Forking the next worker while 3 others run opencode is hidden and not counted;
// `slotShare` gives the stricter view, how much of the 4 slots' time went to opencode and verify.

/** A progress line of `agentiso orchestrate` (stderr, not a terminal) and when the bench read it. */
export interface TimedLine {
  atMs: number;
  text: string;
}

export interface Interval {
  startMs: number;
  endMs: number;
}

type Phases = Record<"fork" | "setup" | "waited" | "run" | "collect" | "destroy", number> & { verify?: number };

/** The part of report.json this reads. */
export interface WrittenReport {
  stagesMs?: { golden: number; tasks: number; merge: number };
  planner?: { durationMs: number };
  tasks: Array<{ name: string; status: string; durationMs: number; phasesMs?: Phases }>;
  integration?: { landed: boolean; steps: Array<{ outcome: string }> };
}

export interface RunTimeline {
  wallMs: number;
  opencodeSumMs: number;
  verifySumMs: number;
  /** Wall time during which some task's opencode or verify ran. */
  coveredMs: number;
  /** Where wall − covered went, in run order; the parts add up to it. */
  overhead: Array<{ label: string; ms: number }>;
  /** Σ(opencode + verify) over 4 × the span from the first opencode start to the last verify end. */
  slotShare: number;
}

// Splits one orchestrate run's wall time into opencode/verify coverage and overhead by stage.
export function runTimeline(lines: readonly TimedLine[], report: WrittenReport, wallMs: number, parallel: number): RunTimeline {
  const stages = report.stagesMs;
  const goldenReady = lines.find((l) => l.text.startsWith("golden ready:"))?.atMs;
  if (!stages || goldenReady === undefined) throw new Error("the run printed no 'golden ready' line or report.json has no stagesMs");
  const goldenStart = goldenReady - stages.golden;
  const opencodeFound = lines.find((l) => l.text.startsWith("golden: opencode:"))?.atMs ?? goldenReady;
  const tasksEnd = goldenReady + stages.tasks;
  const intervals = report.tasks.flatMap((t) => taskIntervals(lines, t.name, t.phasesMs?.verify ?? 0)).map((i) => clip(i, goldenReady, tasksEnd));
  const covered = union(intervals);
  const coveredMs = covered.reduce((sum, i) => sum + i.endMs - i.startMs, 0);
  const firstRun = covered[0]?.startMs ?? tasksEnd;
  const lastEnd = covered.at(-1)?.endMs ?? tasksEnd;
  const plannerMs = report.planner?.durationMs ?? 0;
  const mergeEnd = tasksEnd + stages.merge;
  const sum = (key: "run" | "verify") => report.tasks.reduce((s, t) => s + (t.phasesMs?.[key] ?? 0), 0);
  return {
    wallMs,
    opencodeSumMs: sum("run"),
    verifySumMs: sum("verify"),
    coveredMs,
    overhead: [
      { label: "CLI, plan, model proxy (before the golden)", ms: goldenStart },
      { label: "golden: workspace created, repo cloned, opencode found", ms: opencodeFound - goldenStart },
      { label: "golden: snapshot", ms: goldenReady - opencodeFound },
      { label: "planner", ms: plannerMs },
      { label: "first workers forked and set up (no opencode yet)", ms: firstRun - goldenReady - plannerMs },
      { label: "gaps between runs (fork/setup/collect not hidden behind another task's run)", ms: lastEnd - firstRun - coveredMs },
      { label: "after the last verify (the last workers destroyed)", ms: tasksEnd - lastEnd },
      { label: "integration (worker, patches applied + verified, branch landed)", ms: stages.merge },
      { label: "report, golden destroyed, CLI exit", ms: wallMs - mergeEnd },
    ],
    slotShare: (sum("run") + sum("verify")) / (parallel * (lastEnd - firstRun)),
  };
}

// A task's opencode runs (from "running" to "collecting") and verify runs (from "verifying" for
// the verify time report.json gives: its next progress line comes only after its worker is gone).
function taskIntervals(lines: readonly TimedLine[], task: string, verifyMs: number): Interval[] {
  const own = lines.filter((l) => l.text.startsWith(`${task}: `)).map((l) => ({ atMs: l.atMs, state: l.text.slice(task.length + 2).split(" ")[0] }));
  const intervals: Interval[] = [];
  let verifyLeft = verifyMs;
  own.forEach((line, i) => {
    const next = own[i + 1];
    if (line.state === "running" && next?.state === "collecting") intervals.push({ startMs: line.atMs, endMs: next.atMs });
    if (line.state === "verifying") {
      const endMs = next?.state === "running" ? Math.min(next.atMs, line.atMs + verifyLeft) : line.atMs + verifyLeft;
      verifyLeft -= endMs - line.atMs;
      intervals.push({ startMs: line.atMs, endMs });
    }
  });
  return intervals;
}

function clip(i: Interval, from: number, to: number): Interval {
  const startMs = Math.min(Math.max(i.startMs, from), to);
  return { startMs, endMs: Math.max(startMs, Math.min(i.endMs, to)) };
}

// Merges overlapping intervals; the result is sorted and disjoint.
function union(intervals: readonly Interval[]): Interval[] {
  const merged: Interval[] = [];
  for (const i of [...intervals].sort((a, b) => a.startMs - b.startMs)) {
    const last = merged.at(-1);
    if (last && i.startMs <= last.endMs) last.endMs = Math.max(last.endMs, i.endMs);
    else merged.push({ ...i });
  }
  return merged;
}
