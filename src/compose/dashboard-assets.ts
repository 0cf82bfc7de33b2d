// The dashboard page's files, bundled at build time into dist/dashboard/ (scripts/build.mjs:
// Preact, uPlot and web/dashboard/, no CDN). Read once, on first request. Without a build
// (the daemon run from the TypeScript sources) the page says how to get one.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DashboardAssets } from "../dashboard/dashboard-server.js";
import { PACKAGE_ROOT } from "./package-root.js";

const DIR = join(PACKAGE_ROOT, "dist", "dashboard");
const MISSING = `<!doctype html><meta charset="utf-8"><title>agentiso</title><p>The dashboard is not built: run <code>npm run build</code>.</p>\n`;

let loaded: DashboardAssets | undefined;

// The page's html, js and css (cached after the first read).
export function dashboardAssets(): DashboardAssets {
  if (loaded) return loaded;
  if (!existsSync(join(DIR, "app.js"))) return { html: MISSING, js: "", css: "" };
  const read = (name: string) => readFileSync(join(DIR, name), "utf8");
  return (loaded = { html: read("index.html"), js: read("app.js"), css: read("app.css") });
}
