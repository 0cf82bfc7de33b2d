// Two in-memory Duplex ends wired to each other, like a socketpair: what one writes the
// other reads; ending one ends the other's readable side; destroying one closes both
// (a vanished peer). For unit tests and in-process agents. Delivery is asynchronous
// (setImmediate), as with a real socket, so a busy peer cannot starve the event loop.
import { Duplex } from "node:stream";

// Returns [a, b]: bytes written to a are read from b and vice versa.
export function createLinkedPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (other: () => Duplex) =>
    new Duplex({
      allowHalfOpen: true,
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        setImmediate(() => {
          if (!other().destroyed) other().push(chunk);
          callback();
        });
      },
      final(callback) {
        setImmediate(() => {
          if (!other().destroyed) other().push(null);
          callback();
        });
      },
      destroy(err, callback) {
        setImmediate(() => other().destroy());
        callback(err);
      },
    });
  ends.push(make(() => ends[1]!), make(() => ends[0]!));
  return [ends[0]!, ends[1]!];
}
