// The on-disk bookkeeping every driver shares: one small JSON file per base and per workspace,
// kept next to the volumes (inside the pool), so lineage and snapshot lists survive a restart
// and travel with the pool. Writes are atomic (temp file + rename); one file per record means
// 20 forks in parallel never contend.
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { AgentisoError } from "../core/errors.js";
import type { VolumeLayout } from "./storage-driver.js";

export interface SnapshotRecord {
  name: string;
  createdAt: string;
}

export interface WorkspaceRecord {
  name: string;
  layout: VolumeLayout;
  base: string;
  forkedFrom?: { workspace: string; snapshot: string };
  quotaBytes?: number;
  createdAt: string;
  snapshots: SnapshotRecord[];
  /** Driver-specific facts (overlay: its lower layers). */
  backend?: Record<string, unknown>;
}

export interface BaseRecord {
  name: string;
  layout: VolumeLayout;
  sizeBytes: number;
  createdAt: string;
}

type Kind = "workspace" | "base";

export class VolumeCatalog {
  constructor(private readonly dir: string) {}

  // Creates the catalog folders; safe to call on every setup.
  async init(): Promise<void> {
    await mkdir(join(this.dir, "workspace"), { recursive: true });
    await mkdir(join(this.dir, "base"), { recursive: true });
  }

  getWorkspace(name: string): Promise<WorkspaceRecord | undefined> {
    return this.read<WorkspaceRecord>("workspace", name);
  }

  // The record, or NOT_FOUND naming the workspace.
  async requireWorkspace(name: string): Promise<WorkspaceRecord> {
    const record = await this.getWorkspace(name);
    if (!record) throw new AgentisoError("NOT_FOUND", `workspace volume ${JSON.stringify(name)} does not exist`);
    return record;
  }

  putWorkspace(record: WorkspaceRecord): Promise<void> {
    return this.write("workspace", record.name, record);
  }

  deleteWorkspace(name: string): Promise<void> {
    return rm(this.path("workspace", name), { force: true });
  }

  listWorkspaces(): Promise<WorkspaceRecord[]> {
    return this.list<WorkspaceRecord>("workspace");
  }

  getBase(name: string): Promise<BaseRecord | undefined> {
    return this.read<BaseRecord>("base", name);
  }

  // The record, or NOT_FOUND naming the base.
  async requireBase(name: string): Promise<BaseRecord> {
    const record = await this.getBase(name);
    if (!record) throw new AgentisoError("NOT_FOUND", `base ${JSON.stringify(name)} does not exist: import it first`);
    return record;
  }

  putBase(record: BaseRecord): Promise<void> {
    return this.write("base", record.name, record);
  }

  deleteBase(name: string): Promise<void> {
    return rm(this.path("base", name), { force: true });
  }

  listBases(): Promise<BaseRecord[]> {
    return this.list<BaseRecord>("base");
  }

  private path(kind: Kind, name: string): string {
    return join(this.dir, kind, `${name}.json`);
  }

  private async read<T>(kind: Kind, name: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.path(kind, name), "utf8")) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new AgentisoError("INTERNAL", `storage catalog entry ${kind}/${name} is unreadable`, { cause: err });
    }
  }

  private async write(kind: Kind, name: string, record: object): Promise<void> {
    const target = this.path(kind, name);
    const temp = `${target}.${randomBytes(4).toString("hex")}.tmp`;
    await writeFile(temp, JSON.stringify(record, null, 2) + "\n");
    await rename(temp, target);
  }

  private async list<T>(kind: Kind): Promise<T[]> {
    const entries = await readdir(join(this.dir, kind)).catch(() => [] as string[]);
    const names = entries.filter((e) => e.endsWith(".json")).map((e) => e.slice(0, -".json".length));
    const records = await Promise.all(names.map((n) => this.read<T>(kind, n)));
    return records.filter((r): r is Awaited<T> => r !== undefined) as T[];
  }
}
