// A tiny library the demo agents work on.
function add(a, b) {
  return a + b;
}

export { add };
