// The real `configure {clockEpochMs, entropy}` hooks main.ts hands the agent. A guest resumed
// from a memory snapshot wakes with the clock of its save time and the same RNG state as
// every other restore of that snapshot; the host fixes both right after the restore.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import type { KernelHelper } from "./kernel-helper.js";
import { WireError } from "./wire-error.js";

const DATE_TIMEOUT_MS = 10_000;

// `date -s` operand: "@SECONDS.MMM" (coreutils), or "@SECONDS" when whole seconds are asked for.
export function dateOperand(epochMs: number, wholeSeconds = false): string {
  if (wholeSeconds) return `@${Math.round(epochMs / 1000)}`;
  return `@${Math.floor(epochMs / 1000)}.${String(epochMs % 1000).padStart(3, "0")}`;
}

// Sets the wall clock through `date -u -s` (Node has no settimeofday); needs CAP_SYS_TIME,
// which VM guests have and container workspaces (sharing the host's clock) do not.
export function createClockSetter(dateCommand: readonly string[] = ["date"], helper?: KernelHelper): (epochMs: number) => Promise<void> {
  return async (epochMs) => {
    if (helper && (await setWithHelper(helper, epochMs))) return;
    const first = await runDate(dateCommand, dateOperand(epochMs));
    // busybox date takes only whole seconds after "@"
    const failure = first && /invalid date/i.test(first) ? await runDate(dateCommand, dateOperand(epochMs, true)) : first;
    if (failure === undefined) return;
    if (/not permitted|permission denied/i.test(failure)) {
      throw new WireError("PERMISSION_DENIED", `cannot set the clock (${failure}): the agent needs CAP_SYS_TIME, which only VM guests have`);
    }
    throw new WireError("INTERNAL", `setting the clock failed: ${failure}`);
  };
}

// True when the resident helper set the clock; false when it cannot run here (use `date`).
async function setWithHelper(helper: KernelHelper, epochMs: number): Promise<boolean> {
  try {
    await helper.setClock(epochMs);
    return true;
  } catch (err) {
    const reason = (err as Error).message;
    if (/not permitted|permission denied/i.test(reason)) {
      throw new WireError("PERMISSION_DENIED", `cannot set the clock (${reason}): the agent needs CAP_SYS_TIME, which only VM guests have`);
    }
    return false;
  }
}

// Resolves undefined on success, or with the failure text (stderr, or why it could not run).
function runDate(dateCommand: readonly string[], operand: string): Promise<string | undefined> {
  const [file, ...args] = dateCommand;
  return new Promise((resolve, reject) => {
    execFile(file!, [...args, "-u", "-s", operand], { timeout: DATE_TIMEOUT_MS }, (err, _stdout, stderr) => {
      if (!err) return resolve(undefined);
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        return reject(new WireError("UNSUPPORTED", `cannot set the clock: no \`${file}\` command in this guest`));
      }
      resolve(stderr.trim().slice(-500) || err.message);
    });
  });
}

// Writes the bytes to /dev/urandom, which mixes them into the kernel's input pool (without
// crediting entropy: that needs the RNDADDENTROPY ioctl, which Node cannot issue). Safe for
// anyone. Mixing alone is not enough after a restore: the kernel's CRNG, saved in the
// snapshot, reseeds from the pool only every minute or so, so guests resumed from the same
// template would draw the same random bytes until then. Root (a VM guest) forces the reseed
// with the RNDRESEEDCRNG ioctl through the resident perl helper (perl-base is in every Debian
// image); elsewhere (a container, no perl) the mix is all there is.
export function createEntropyWriter(path = "/dev/urandom", helper?: KernelHelper): (bytes: Buffer) => Promise<void> {
  return async (bytes) => {
    await writeFile(path, bytes, { flag: "a" });
    await helper?.reseed().catch(() => {});
  };
}
