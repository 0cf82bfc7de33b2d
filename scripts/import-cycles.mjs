#!/usr/bin/env node
// Lists the import cycles among src/ files (type-only imports count: they tie the files as
// much for a reader). Prints one cycle a line and exits 1 when there is any.
// Usage: node scripts/import-cycles.mjs [srcDir]
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(process.argv[2] ?? join(import.meta.dirname, "../src"));

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

// The project files a file imports (relative specifiers, ".js" mapped to the ".ts" source).
function importsOf(file) {
  const text = readFileSync(file, "utf8");
  const targets = new Set();
  for (const match of text.matchAll(/(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)) {
    const spec = match[1] ?? match[2];
    if (!spec.startsWith(".")) continue;
    const target = resolve(dirname(file), spec).replace(/\.js$/, ".ts");
    if (existsSync(target)) targets.add(target);
  }
  return [...targets];
}

// Tarjan's strongly connected components: every component of more than one file holds a cycle.
function components(graph) {
  let index = 0;
  const stack = [];
  const state = new Map();
  const found = [];
  const visit = (node) => {
    state.set(node, { index, low: index, onStack: true });
    index += 1;
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!state.has(next)) {
        visit(next);
        state.get(node).low = Math.min(state.get(node).low, state.get(next).low);
      } else if (state.get(next).onStack) {
        state.get(node).low = Math.min(state.get(node).low, state.get(next).index);
      }
    }
    if (state.get(node).low === state.get(node).index) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        state.get(member).onStack = false;
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component);
    }
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

// One shortest cycle through `start` inside its component, for a readable line.
function cycleThrough(start, graph, members) {
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const next of graph.get(node) ?? []) {
      if (next === start) {
        const path = [node];
        for (let at = previous.get(node); at !== undefined; at = previous.get(at)) path.unshift(at);
        return [...path, start];
      }
      if (members.has(next) && !previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start];
}

const graph = new Map(sourceFiles(root).map((file) => [file, importsOf(file)]));
const found = components(graph);
for (const component of found) {
  const members = new Set(component);
  const start = [...component].sort()[0];
  const cycle = cycleThrough(start, graph, members).map((file) => relative(root, file));
  const extra = component.length > cycle.length - 1 ? ` (+${component.length - cycle.length + 1} more files in this knot)` : "";
  console.log(cycle.join(" -> ") + extra);
}
console.error(`${found.length} import cycle(s) among ${graph.size} files under ${relative(process.cwd(), root) || "."}`);
process.exit(found.length > 0 ? 1 : 0);
