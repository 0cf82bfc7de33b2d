// The host's TSC frequency, for the guest's `tsc_early_khz` under TCG: QEMU's TCG hands the
// guest the host's own TSC, and microvm has no other reliable clock to calibrate against,
// so the guest must be told the rate. Sources, best first:
//   1. /sys/devices/system/cpu/cpu0/tsc_freq_khz — exact, but only some kernels export it;
//   2. the kernel log ("tsc: Refined TSC clocksource calibration: X MHz", else
//      "tsc: Detected X MHz processor") — what the host kernel itself measured;
//   3. /proc/cpuinfo "cpu MHz" — equals the TSC rate on VMs and on CPUs with an invariant
//      TSC (constant_tsc) at nominal clock; with frequency scaling it can drift from it, which
//      only skews the guest's early clock, and the guest recalibrates later.
import { readFile } from "node:fs/promises";
import { AgentisoError } from "../../core/errors.js";
import { runCommand } from "../../core/run-command.js";

let cached: Promise<number> | undefined;

// Resolves with the host TSC frequency in kHz (memoised: it does not change while we run).
export function hostTscKhz(): Promise<number> {
  cached ??= readHostTscKhz().catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

async function readHostTscKhz(): Promise<number> {
  const sysfs = await readFile("/sys/devices/system/cpu/cpu0/tsc_freq_khz", "utf8").catch(() => "");
  const fromSysfs = Number.parseInt(sysfs.trim(), 10);
  if (fromSysfs > 0) return fromSysfs;
  const kernelLog = await runCommand(["dmesg"], { check: false, timeoutMs: 5_000 }).then((r) => r.stdout, () => "");
  const fromLog = tscKhzFromKernelLog(kernelLog);
  if (fromLog) return fromLog;
  const fromCpuinfo = tscKhzFromCpuinfo(await readFile("/proc/cpuinfo", "utf8").catch(() => ""));
  if (fromCpuinfo) return fromCpuinfo;
  throw new AgentisoError("UNSUPPORTED", "cannot determine the host TSC frequency (no tsc_freq_khz, kernel log or cpu MHz): TCG microVMs need it");
}

// Parses the TSC rate the kernel logged at boot; the refined calibration wins over the first guess.
export function tscKhzFromKernelLog(text: string): number | undefined {
  const refined = /tsc: Refined TSC clocksource calibration: (\d+(?:\.\d+)?) MHz/.exec(text);
  const detected = /tsc: Detected (\d+(?:\.\d+)?) MHz processor/.exec(text);
  const mhz = refined?.[1] ?? detected?.[1];
  return mhz === undefined ? undefined : Math.round(Number(mhz) * 1000);
}

// Parses the first "cpu MHz" line of /proc/cpuinfo into kHz.
export function tscKhzFromCpuinfo(text: string): number | undefined {
  const mhz = /^cpu MHz\s*:\s*(\d+(?:\.\d+)?)/m.exec(text)?.[1];
  const khz = mhz === undefined ? 0 : Math.round(Number(mhz) * 1000);
  return khz > 0 ? khz : undefined;
}
