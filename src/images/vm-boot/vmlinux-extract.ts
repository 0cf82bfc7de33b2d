// vmlinuz (a bzImage) → vmlinux (the bare ELF kernel). QEMU's microvm boots an ELF kernel
// through the PVH entry point without running the bzImage's own decompressor, which under
// TCG saves a noticeable part of the boot. The payload's compressor depends on the kernel
// config (Debian bookworm's cloud kernel: LZ4), so we find its magic and decompress from there.
import { open, readFile, rm, stat } from "node:fs/promises";
import { AgentisoError } from "../../core/errors.js";
import { runCommand } from "../../core/run-command.js";

interface Compressor {
  name: string;
  magic: Buffer;
  decompress: string[];
}

// Ordered by what Debian uses: LZ4 legacy frames first (the cloud kernel), then the others.
const COMPRESSORS: Compressor[] = [
  { name: "lz4", magic: Buffer.from([0x02, 0x21, 0x4c, 0x18]), decompress: ["lz4", "-dc"] },
  { name: "zstd", magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), decompress: ["zstd", "-dcq"] },
  { name: "xz", magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), decompress: ["xz", "-dcq"] },
  { name: "gzip", magic: Buffer.from([0x1f, 0x8b, 0x08]), decompress: ["gzip", "-dcq"] },
];

const DECOMPRESS_TIMEOUT_MS = 120_000;

// Writes vmlinux decompressed from vmlinuzPath to outputPath; throws unless the result is an intact ELF.
export async function extractVmlinux(vmlinuzPath: string, outputPath: string, signal?: AbortSignal): Promise<{ compressor: string }> {
  const image = await readFile(vmlinuzPath);
  for (const compressor of COMPRESSORS) {
    for (let offset = image.indexOf(compressor.magic); offset >= 0; offset = image.indexOf(compressor.magic, offset + 1)) {
      // The payload is followed by the rest of the bzImage, so decompressors complain about
      // trailing garbage and exit non-zero: the ELF check below is what decides success.
      await runCommand(["sh", "-c", `tail -c +${offset + 1} -- "$0" | ${compressor.decompress.join(" ")} > "$1"`, vmlinuzPath, outputPath], {
        check: false,
        timeoutMs: DECOMPRESS_TIMEOUT_MS,
        signal,
      });
      if (await isCompleteElf(outputPath)) return { compressor: compressor.name };
    }
  }
  await rm(outputPath, { force: true });
  throw new AgentisoError("BACKEND_FAILED", `no known compressed kernel payload (lz4, zstd, xz, gzip) found in ${vmlinuzPath}`, {
    details: { vmlinuzPath },
  });
}

// True when path is a 64-bit little-endian ELF whose every program segment lies inside the file.
export async function isCompleteElf(path: string): Promise<boolean> {
  const size = await stat(path).then((s) => s.size, () => 0);
  if (size < 64) return false;
  const file = await open(path, "r");
  try {
    const header = Buffer.alloc(64);
    await file.read(header, 0, 64, 0);
    if (!header.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) || header[4] !== 2 || header[5] !== 1) return false;
    const phoff = Number(header.readBigUInt64LE(32));
    const phentsize = header.readUInt16LE(54);
    const phnum = header.readUInt16LE(56);
    if (phnum === 0 || phoff + phentsize * phnum > size) return false;
    const table = Buffer.alloc(phentsize * phnum);
    await file.read(table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      const entry = table.subarray(i * phentsize);
      const end = Number(entry.readBigUInt64LE(8)) + Number(entry.readBigUInt64LE(32));
      if (end > size) return false;
    }
    return true;
  } finally {
    await file.close();
  }
}
