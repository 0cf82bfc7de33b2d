// A tiny library the demo agents work on.
export function add(a, b) {
  return a + b;
}
