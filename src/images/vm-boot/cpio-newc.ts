// A writer for the "newc" cpio format the kernel unpacks as an initramfs (see the kernel's
// Documentation/driver-api/early-userspace/buffer-format.rst). Written here rather than
// shelling out to cpio(1) so the archive is byte-for-byte reproducible: fixed mtimes,
// owners and inode numbers, entries in the order given.

export type CpioEntry =
  | { kind: "dir"; path: string; mode?: number }
  | { kind: "file"; path: string; data: Buffer; mode?: number }
  | { kind: "symlink"; path: string; target: string }
  | { kind: "chardev"; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const TRAILER = "TRAILER!!!";

// Serialises entries (paths relative to the archive root, no leading slash) to one buffer.
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((entry, index) => {
    const { mode, data } = shapeOf(entry);
    const rdev = entry.kind === "chardev" ? [entry.major, entry.minor] : [0, 0];
    parts.push(...record(entry.path, mode, data, index + 1, rdev));
  });
  parts.push(...record(TRAILER, 0, Buffer.alloc(0), 0, [0, 0]));
  return Buffer.concat(parts);
}

function shapeOf(entry: CpioEntry): { mode: number; data: Buffer } {
  switch (entry.kind) {
    case "dir":
      return { mode: S_IFDIR | (entry.mode ?? 0o755), data: Buffer.alloc(0) };
    case "file":
      return { mode: S_IFREG | (entry.mode ?? 0o644), data: entry.data };
    case "symlink":
      return { mode: S_IFLNK | 0o777, data: Buffer.from(entry.target) };
    case "chardev":
      return { mode: S_IFCHR | (entry.mode ?? 0o600), data: Buffer.alloc(0) };
  }
}

function record(path: string, mode: number, data: Buffer, inode: number, [rdevMajor, rdevMinor]: number[]): Buffer[] {
  const name = Buffer.from(path.replace(/^\/+/, "") + "\0");
  const nlink = (mode & S_IFDIR) === S_IFDIR ? 2 : 1;
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  const fields = [inode, mode, 0, 0, nlink, 0, data.length, 0, 0, rdevMajor!, rdevMinor!, name.length, 0];
  const header = Buffer.from("070701" + fields.map(hex8).join(""), "ascii");
  return [header, name, padding(header.length + name.length), data, padding(data.length)];
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, "0");
}

function padding(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}
