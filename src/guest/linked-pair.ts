// Two in-memory Duplex ends wired to each other, like a socketpair: what one writes the
// other reads; ending one ends the other's readable side; destroying one closes both
// (a vanished peer). For unit tests and in-process agents.
import { Duplex } from "node:stream";

// Returns [a, b]: bytes written to a are read from b and vice versa.
export function createLinkedPair(): [Duplex, Duplex] {
  let peer: { a?: Duplex; b?: Duplex } = {};
  const make = (side: "a" | "b") =>
    new Duplex({
      allowHalfOpen: true,
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        const other = side === "a" ? peer.b! : peer.a!;
        if (!other.destroyed) other.push(chunk);
        callback();
      },
      final(callback) {
        const other = side === "a" ? peer.b! : peer.a!;
        if (!other.destroyed) other.push(null);
        callback();
      },
      destroy(err, callback) {
        const other = side === "a" ? peer.b! : peer.a!;
        setImmediate(() => other.destroy());
        callback(err);
      },
    });
  peer = { a: make("a"), b: make("b") };
  return [peer.a!, peer.b!];
}
