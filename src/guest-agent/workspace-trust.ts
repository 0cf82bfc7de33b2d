// `configure {trust}` inside the workspace: the operator's CA certificates join the
// workspace's own trust store, and every later command gets the variables that make the
// tools that carry their own store (node/npm, python requests, pip) and proxies follow.
//   - the PEMs go to <extraDir>/agentiso-host.crt (where update-ca-certificates looks, so a
//     later run inside the workspace keeps them) and into the system bundle as one marked
//     block (curl, git, openssl, apt read the bundle directly), replaced on every configure,
//     removed when the host sends none;
//   - NODE_EXTRA_CA_CERTS (node adds these to its built-in roots), REQUESTS_CA_BUNDLE and
//     PIP_CERT (point at the whole bundle), HTTP(S)_PROXY / NO_PROXY in both cases.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { GuestTrust } from "../protocol/index.js";

export interface TrustPaths {
  /** The system bundle, e.g. Debian's /etc/ssl/certs/ca-certificates.crt. */
  bundle: string;
  /** Where local CAs live, e.g. /usr/local/share/ca-certificates. */
  extraDir: string;
}

export const SYSTEM_TRUST_PATHS: TrustPaths = { bundle: "/etc/ssl/certs/ca-certificates.crt", extraDir: "/usr/local/share/ca-certificates" };

const BEGIN = "# BEGIN agentiso: CA certificates of the host ([net] trustHostCas / caFiles)";
const END = "# END agentiso";

// Applies the trust settings; returns the environment every later command should get.
export async function applyTrust(trust: GuestTrust, paths: TrustPaths = SYSTEM_TRUST_PATHS): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  if (trust.caCertificates !== undefined) {
    const extraFile = join(paths.extraDir, "agentiso-host.crt");
    const pems = trust.caCertificates.trim();
    await writeBundleBlock(paths.bundle, pems);
    if (pems) {
      await mkdir(paths.extraDir, { recursive: true });
      await writeFile(extraFile, pems + "\n", { mode: 0o644 });
      Object.assign(env, { NODE_EXTRA_CA_CERTS: extraFile, REQUESTS_CA_BUNDLE: paths.bundle, PIP_CERT: paths.bundle });
    } else {
      await rm(extraFile, { force: true });
    }
  }
  const { http, https, no } = trust.proxy ?? {};
  if (http !== undefined) Object.assign(env, { HTTP_PROXY: http, http_proxy: http });
  if (https !== undefined) Object.assign(env, { HTTPS_PROXY: https, https_proxy: https });
  if (no !== undefined) Object.assign(env, { NO_PROXY: no, no_proxy: no });
  return env;
}

// Replaces our marked block in the bundle (or drops it when pems is empty); the rest stays as the image has it.
async function writeBundleBlock(bundle: string, pems: string): Promise<void> {
  const current = await readFile(bundle, "utf8").catch(() => "");
  const start = current.indexOf(BEGIN);
  const end = start < 0 ? -1 : current.indexOf(END, start);
  const kept = start < 0 || end < 0 ? current : current.slice(0, start) + current.slice(end + END.length).replace(/^\n/, "");
  const next = pems ? `${kept}${kept && !kept.endsWith("\n") ? "\n" : ""}${BEGIN}\n${pems}\n${END}\n` : kept;
  if (next === current) return;
  await mkdir(dirname(bundle), { recursive: true });
  await writeFile(bundle, next, { mode: 0o644 });
}
