// What the daemon sends: the shapes are defined once, beside the daemon's side (types only).
export type { RunSummary, SeriesSnapshot, TaskDetail, TaskSummary, TranscriptShape, WorkspaceRow } from "../../src/dashboard/page-shapes.js";
