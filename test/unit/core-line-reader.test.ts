// The one bounded line reader: same lines however the chunks fall, never a byte held past the
// limit, and the two answers to a line that is too long (throw, or skip and report its ends).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AgentisoError, isAgentisoError } from "../../src/core/errors.js";
import { LineReader, type SkippedLine } from "../../src/core/line-reader.js";

const tooLong = (max: number) => new AgentisoError("TOO_LARGE", `line over ${max} bytes`);

function throwing(maxLineBytes: number, stripCarriageReturn = true): LineReader {
  return new LineReader({ maxLineBytes, stripCarriageReturn, tooLong: { action: "throw", error: tooLong } });
}

function skipping(maxLineBytes: number, keepBytes: number): { reader: LineReader; skipped: SkippedLine[] } {
  const skipped: SkippedLine[] = [];
  const reader = new LineReader({ maxLineBytes, stripCarriageReturn: false, tooLong: { action: "skip", keepBytes, onSkipped: (line) => skipped.push(line) } });
  return { reader, skipped };
}

// Feeds `text` cut at every position given and returns every line and the rest.
function readInPieces(reader: LineReader, text: string, cuts: number[]): { lines: string[]; rest: string } {
  const bytes = Buffer.from(text, "utf8");
  const lines: string[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    lines.push(...reader.push(bytes.subarray(start, cut)));
    start = cut;
  }
  return { lines, rest: reader.end() };
}

describe("line reader", () => {
  const text = '{"a":1}\r\n{"b":"ünï"}\n\n{"c":3}\r\nlast';
  const expected = { lines: ['{"a":1}', '{"b":"ünï"}', "", '{"c":3}'], rest: "last" };

  test("every cut of the stream, including between \\r and \\n and inside a UTF-8 character, gives the same lines", () => {
    const length = Buffer.byteLength(text);
    for (let cut = 0; cut <= length; cut++) assert.deepEqual(readInPieces(throwing(64), text, [cut]), expected, `cut at ${cut}`);
    for (let a = 0; a <= length; a++) for (let b = a; b <= length; b++) assert.deepEqual(readInPieces(throwing(64), text, [a, b]), expected);
    assert.deepEqual(readInPieces(throwing(64), text, Array.from({ length }, (_, i) => i)), expected, "one byte at a time");
  });

  test("carriage returns stay when the caller asks for the bytes as sent", () => {
    assert.deepEqual(throwing(64, false).push("a\r\nb\n"), ["a\r", "b"]);
  });

  test("a line of exactly the limit passes, in one chunk or byte by byte", () => {
    assert.deepEqual(throwing(8).push("12345678\n"), ["12345678"]);
    const reader = throwing(8);
    for (const byte of "12345678") assert.deepEqual(reader.push(byte), []);
    assert.deepEqual(reader.push("\n"), ["12345678"]);
  });

  test("the limit counts a line's carriage return but not its newline", () => {
    assert.deepEqual(throwing(8).push("1234567\r\n"), ["1234567"]);
    assert.throws(() => throwing(8).push("12345678\r\n"), (err) => isAgentisoError(err, "TOO_LARGE"));
  });

  test("one byte over the limit throws at once, before any newline, with the caller's error", () => {
    const reader = throwing(8);
    assert.deepEqual(reader.push("1234"), []);
    assert.deepEqual(reader.push("5678"), []);
    assert.throws(() => reader.push("9"), (err) => isAgentisoError(err, "TOO_LARGE") && err.message === "line over 8 bytes");
  });

  test("a last line without a newline is held until end() and counts toward the limit", () => {
    const reader = throwing(4);
    assert.deepEqual(reader.push("ab\ncd"), ["ab"]);
    assert.equal(reader.end(), "cd");
    assert.equal(reader.end(), "");
    assert.throws(() => throwing(4).push("ab\ncdefg"), (err) => isAgentisoError(err, "TOO_LARGE"));
  });

  test("the skip policy drops a long line, reports its size and ends once its newline comes, and reads on", () => {
    const { reader, skipped } = skipping(8, 3);
    const lines: string[] = [];
    const read = (chunk: string) => reader.feed(Buffer.from(chunk), (line) => lines.push(line.toString()));
    read("ok\nABCDE");
    read("FGHIJ");
    assert.equal(skipped.length, 0, "reported only when the line ends");
    read("KLM\nnext\n");
    assert.deepEqual(lines, ["ok", "next"]);
    assert.deepEqual(skipped.map((s) => ({ size: s.sizeBytes, head: s.head.toString(), tail: s.tail.toString() })), [{ size: 14, head: "ABC", tail: "LM\n" }]);
  });

  test("skipped lines and kept lines reach their callbacks in stream order", () => {
    const order: string[] = [];
    const reader = new LineReader({ maxLineBytes: 3, stripCarriageReturn: false, tooLong: { action: "skip", keepBytes: 2, onSkipped: (s) => order.push(`skipped ${s.sizeBytes}`) } });
    reader.feed("a\nlong line\nb\n", (line) => order.push(line.toString()));
    assert.deepEqual(order, ["a", "skipped 10", "b"]);
  });

  test("a skipped line with no newline before the end is dropped silently", () => {
    const { reader, skipped } = skipping(2, 2);
    reader.feed("abcdef", () => assert.fail("no line"));
    assert.equal(reader.end(), "");
    assert.deepEqual(skipped, []);
  });
});
