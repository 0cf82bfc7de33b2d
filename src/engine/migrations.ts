// Schema migrations, applied in order inside one transaction each; user_version records
// how far a database has come. Append only: never edit a migration that has shipped.

export const MIGRATIONS: readonly string[] = [
  // 1: workspaces and their snapshots
  `CREATE TABLE workspaces (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     state TEXT NOT NULL,
     image TEXT NOT NULL,
     runtime TEXT NOT NULL,
     network TEXT NOT NULL,
     memory_mib INTEGER NOT NULL,
     cpus REAL NOT NULL,
     pids_limit INTEGER NOT NULL,
     disk_bytes INTEGER NOT NULL,
     forked_from_id TEXT,
     forked_from_name TEXT,
     forked_from_snapshot TEXT,
     owner TEXT,
     pid INTEGER,
     error TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE snapshots (
     workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (workspace_id, name)
   );
   CREATE TABLE bases (
     name TEXT PRIMARY KEY,
     image_hash TEXT NOT NULL,
     imported_at TEXT NOT NULL
   );`,
  // 2: host ports forwarded to workspace ports (src/engine/port-forwards.ts). A host port is held
  // by one forward whatever the address, so a stopped workspace's forward gets it back at start.
  `CREATE TABLE port_forwards (
     workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
     guest_port INTEGER NOT NULL,
     host_port INTEGER NOT NULL UNIQUE,
     bind_address TEXT NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (workspace_id, guest_port)
   );`,
  // 3: lifecycle limits (lifecycle.ts): the ttl's deadline and action, the idle timeout and
  // action, and the last activity (written coarsely by activity-tracker.ts)
  `ALTER TABLE workspaces ADD COLUMN ttl_at TEXT;
   ALTER TABLE workspaces ADD COLUMN ttl_action TEXT;
   ALTER TABLE workspaces ADD COLUMN idle_timeout_s INTEGER;
   ALTER TABLE workspaces ADD COLUMN idle_action TEXT;
   ALTER TABLE workspaces ADD COLUMN last_active_at TEXT;`,
  // 4: memory snapshots (memory-snapshots.ts): the saved machine's size and resources, as JSON
  `ALTER TABLE snapshots ADD COLUMN memory TEXT;`,
  // 5: the allow and deny entries of a workspace in network mode allowlist (JSON arrays of
  // canonical entries, core/network-allowlist.ts); NULL in the other modes, so existing rows
  // keep their mode as they are
  `ALTER TABLE workspaces ADD COLUMN network_allow TEXT;
   ALTER TABLE workspaces ADD COLUMN network_deny TEXT;`,
];
