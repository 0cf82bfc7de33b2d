// The OCI runtimes of one engine. New containers start under the chosen one
// (oci-runtime-choice.ts); a container already running stays with the runtime that started it,
// found by whose state root knows its id: a daemon restarted with another choice (crun
// installed meanwhile, a config change) still stops, pauses and adopts what the last one started.
import { join } from "node:path";
import type { Logger } from "../../core/logger.js";
import { OciCli, type OciRuntimeName, type RuncState } from "./oci-cli.js";
import { chooseOciRuntime, type OciRuntimeChoice, type OciRuntimePreference } from "./oci-runtime-choice.js";

const NAMES: readonly OciRuntimeName[] = ["crun", "runc"];

export class OciRuntimes {
  private readonly clis: Record<OciRuntimeName, OciCli>;
  private choice: Promise<OciRuntimeChoice> | undefined;

  constructor(
    stateDir: string,
    private readonly preference: OciRuntimePreference,
    private readonly logger: Logger,
  ) {
    this.clis = { crun: new OciCli("crun", join(stateDir, "crun")), runc: new OciCli("runc", join(stateDir, "runc")) };
  }

  // Decided once, at the first start (a failed decision is tried again at the next).
  chosen(): Promise<OciRuntimeChoice> {
    this.choice ??= chooseOciRuntime(this.preference).then(
      (choice) => {
        this.logger.info("OCI runtime chosen", { ...choice });
        return choice;
      },
      (err: unknown) => {
        this.choice = undefined;
        throw err;
      },
    );
    return this.choice;
  }

  // The runtime that starts new containers.
  async forNew(): Promise<OciCli> {
    return this.clis[(await this.chosen()).name];
  }

  // The runtime whose state holds id; undefined when none does (never started, or deleted).
  async holding(id: string): Promise<OciCli | undefined> {
    for (const name of NAMES) if (await this.clis[name].knows(id)) return this.clis[name];
    return undefined;
  }

  // The runtime that holds a container, and its state; neither when no runtime knows it.
  async container(id: string): Promise<{ oci?: OciCli; state?: RuncState }> {
    const oci = await this.holding(id);
    const state = await oci?.state(id);
    return oci && state ? { oci, state } : {};
  }

  // Container ids under either state root.
  async list(): Promise<string[]> {
    const ids = await Promise.all(NAMES.map((name) => this.clis[name].list()));
    return [...new Set(ids.flat())];
  }
}
