// A task's budget under parallel requests: reserve before forwarding, settle after.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { TaskSpend, type Reservation } from "../../src/llm/task-spend.js";
import { zeroUsage } from "../../src/llm/token-usage.js";

const tokens = (input: number, output = 0) => ({ ...zeroUsage(), input, output });

describe("task spend", () => {
  test("reservations are clamped to what is left; a request finding it all reserved is refused; settling frees the rest", () => {
    const spend = new TaskSpend("t", { maxTokens: 100 }, undefined);
    const first = spend.reserve(tokens(20, 40)) as Reservation; // holds 60
    const second = spend.reserve(tokens(10, 4096)) as Reservation; // holds the last 40
    assert.match(spend.reserve(tokens(1)) as string, /token budget is taken: 0 of 100 tokens used and the rest reserved by 2 request\(s\) in flight/);
    first.settle(tokens(50, 20)); // used 70 with 40 still held: over the cap by reservation
    const free = spend.reserve(zeroUsage());
    assert.equal(typeof free, "object", "a free request (model list) needs no room while the budget is not spent");
    (free as Reservation).settle(zeroUsage());
    second.settle(tokens(5, 5));
    const third = spend.reserve(tokens(1, 1));
    assert.equal(typeof third, "object", "20 tokens are left once everything in flight settled");
    (third as Reservation).settle(tokens(30));
    assert.match(spend.reserve(tokens(1)) as string, /reached its token budget: 110 of 100 tokens used/);
    assert.deepEqual({ requests: spend.snapshot().requests, refused: spend.snapshot().refused }, { requests: 4, refused: 2 });
  });
});
