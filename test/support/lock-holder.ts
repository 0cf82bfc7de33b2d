// A separate process that takes the engine lock of a state dir (argv[2]) as soon as the clock
// passes argv[3] (ms since the epoch: a start line shared by several of these), prints "won" or
// "conflict <message>", and holds a won lock until its stdin closes.
import { acquireStateLock } from "../../src/engine/state-lock.js";
import { isAgentisoError } from "../../src/core/errors.js";

const [stateDir, startAt] = [process.argv[2]!, Number(process.argv[3] ?? 0)];
while (Date.now() < startAt) {
  // spin: a timer's resolution would spread the racers over milliseconds
}
try {
  const lock = await acquireStateLock(stateDir);
  process.stdout.write("won\n");
  process.stdin.resume();
  process.stdin.on("end", () => lock.release());
} catch (err) {
  process.stdout.write(isAgentisoError(err, "CONFLICT") ? `conflict ${err.message}\n` : `error ${String(err)}\n`);
}
