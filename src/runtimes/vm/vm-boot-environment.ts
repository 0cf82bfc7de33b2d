// What every VM of this host boots with, found once and kept: the guest kernel and initramfs
// (built and cached by images/vm-boot) and the accelerator (KVM when a guest really boots
// under it, else TCG; the probe's answer is cached per host boot).
import { join } from "node:path";
import type { Logger } from "../../core/logger.js";
import { ensureGuestBootFiles, type GuestBootFiles } from "../../images/vm-boot/index.js";
import { cachedProbe, probeKvmBoot, resolveAccel, type Accel, type AccelSetting } from "./accel.js";

export interface VmBootEnvironmentOptions {
  bootCacheDir: string;
  agentBundlePath: string;
  accel: AccelSetting;
  qemuBinary: string;
  logger: Logger;
}

export class VmBootEnvironment {
  private bootFiles: Promise<GuestBootFiles> | undefined;
  private accel: Promise<Accel> | undefined;

  constructor(private readonly options: VmBootEnvironmentOptions) {}

  // The guest kernel and initramfs; a failed build is tried again at the next call.
  guestBootFiles(): Promise<GuestBootFiles> {
    this.bootFiles ??= ensureGuestBootFiles({ cacheDir: this.options.bootCacheDir, agentBundlePath: this.options.agentBundlePath, logger: this.options.logger });
    this.bootFiles.catch(() => (this.bootFiles = undefined));
    return this.bootFiles;
  }

  // The accelerator the setting resolves to on this host, decided once per runtime.
  resolvedAccel(): Promise<Accel> {
    this.accel ??= resolveAccel(this.options.accel, () => this.kvmBoots()).then((accel) => {
      this.options.logger.info("vm accelerator chosen", { setting: this.options.accel, accel });
      return accel;
    });
    return this.accel;
  }

  // The probe's answer is kept per host boot (a broken KVM costs the probe's whole timeout).
  private async kvmBoots(): Promise<boolean> {
    const boot = await this.guestBootFiles();
    const works = await cachedProbe(join(this.options.bootCacheDir, "vm-boot", "kvm-probe.json"), boot.hash, () =>
      probeKvmBoot(this.options.qemuBinary, boot.kernelPath, boot.initrdPath),
    );
    if (!works) this.options.logger.warn("/dev/kvm is present but a guest does not boot under KVM (nested virtualization?): using TCG");
    return works;
  }
}
