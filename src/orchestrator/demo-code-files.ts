// The code the shipped stub's demo agents write into examples/demo-project (demo-code-script.ts):
// what each edit replaces and adds, the divide task's first edit (a real bug: no zero guard,
// which its own test catches) and the resolver's merge of the two edits of math.js's exports.

// Built, not written out: a literal import line in this file would read as one of its own imports.
function importLine(names: string, module: string): string {
  return `import { ${names} } from "${module}";`;
}

const TEST_IMPORTS = `import test from "node:test";\nimport assert from "node:assert/strict";`;

/** The line of examples/demo-project/math.js that the multiply and divide tasks both replace. */
export const EXPORTS_LINE = "export { add };";

export const MULTIPLY_EDIT = `function multiply(a, b) {
  return a * b;
}

export { add, multiply };`;

export const BUGGY_DIVIDE_EDIT = `function divide(a, b) {
  return a / b;
}

export { add, divide };`;

/** The divide task's fix after verification failed: the guard line inserted above the return. */
export const DIVIDE_GUARD = `  if (b === 0) throw new RangeError("cannot divide by zero");`;

export const MULTIPLY_TEST = `${TEST_IMPORTS}
${importLine("multiply", "../math.js")}

test("multiply multiplies two numbers", () => {
  assert.equal(multiply(6, 7), 42);
  assert.equal(multiply(-2, 3), -6);
});
`;

export const DIVIDE_TEST = `${TEST_IMPORTS}
${importLine("divide", "../math.js")}

test("divide divides two numbers", () => {
  assert.equal(divide(84, 2), 42);
});

test("divide refuses to divide by zero", () => {
  assert.throws(() => divide(1, 0), RangeError);
});
`;

export const STATS_JS = `// Statistics over lists of numbers, built on math.js.
${importLine("add", "./math.js")}

export function sum(numbers) {
  return numbers.reduce((total, n) => add(total, n), 0);
}

export function mean(numbers) {
  if (numbers.length === 0) throw new RangeError("the mean of an empty list is undefined");
  return sum(numbers) / numbers.length;
}
`;

export const STATS_TEST = `${TEST_IMPORTS}
${importLine("mean, sum", "../stats.js")}

test("sum adds a list", () => {
  assert.equal(sum([1, 2, 3, 4]), 10);
  assert.equal(sum([]), 0);
});

test("mean averages a list and refuses an empty one", () => {
  assert.equal(mean([2, 4, 6]), 4);
  assert.throws(() => mean([]), RangeError);
});
`;

/** math.js as the resolver writes it: add, multiply and the guarded divide, all exported. */
export const RESOLVED_MATH_JS = `// A tiny library the demo agents work on.
function add(a, b) {
  return a + b;
}

function multiply(a, b) {
  return a * b;
}

function divide(a, b) {
${DIVIDE_GUARD}
  return a / b;
}

export { add, multiply, divide };
`;
