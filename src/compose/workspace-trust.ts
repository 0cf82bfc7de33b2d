// What workspaces trust on the way out, from the operator's config: the host's extra CA
// certificates (a TLS-inspecting gateway's CA sits in /usr/local/share/ca-certificates, and
// without it every `npm install` in a workspace fails with SELF_SIGNED_CERT_IN_CHAIN), more
// CA files, and proxy settings. Read once when the daemon starts; each workspace's agent is
// told at connect (`configure {trust}`), so the same holds for containers and microVMs and
// for images built before the CA existed.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { AgentisoError } from "../core/errors.js";
import type { GuestTrust } from "../protocol/index.js";
import { MAX_TRUSTED_CA_BYTES } from "../protocol/index.js";

export const HOST_EXTRA_CA_DIR = "/usr/local/share/ca-certificates";

export interface TrustConfig {
  trustHostCas: boolean;
  caFiles: readonly string[];
  httpProxy?: string | undefined;
  httpsProxy?: string | undefined;
  noProxy?: string | undefined;
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----/g;

// The trust settings to hand every workspace; undefined when there is nothing to say.
export async function loadWorkspaceTrust(config: TrustConfig, hostCaDir = HOST_EXTRA_CA_DIR): Promise<GuestTrust | undefined> {
  const files = [...(config.trustHostCas ? await crtFilesUnder(hostCaDir) : []), ...config.caFiles];
  const certificates: string[] = [];
  for (const file of files) {
    const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
      throw new AgentisoError("INVALID_INPUT", `cannot read the CA file ${file} ([net] caFiles / trustHostCas): ${err.message}`);
    });
    const found = text.match(CERTIFICATE) ?? [];
    if (found.length === 0) throw new AgentisoError("INVALID_INPUT", `${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    certificates.push(...found.map((pem) => pem.replace(/\r\n/g, "\n")));
  }
  const caCertificates = [...new Set(certificates)].join("\n") + (certificates.length ? "\n" : "");
  if (Buffer.byteLength(caCertificates) > MAX_TRUSTED_CA_BYTES) {
    throw new AgentisoError("INVALID_INPUT", `the CA certificates for workspaces take ${Buffer.byteLength(caCertificates)} bytes, more than ${MAX_TRUSTED_CA_BYTES}`);
  }
  const proxy = {
    ...(config.httpProxy !== undefined && { http: config.httpProxy }),
    ...(config.httpsProxy !== undefined && { https: config.httpsProxy }),
    ...(config.noProxy !== undefined && { no: config.noProxy }),
  };
  if (!caCertificates && Object.keys(proxy).length === 0) return undefined;
  return { ...(caCertificates && { caCertificates }), ...(Object.keys(proxy).length > 0 && { proxy }) };
}

// update-ca-certificates' rule: *.crt files, in subdirectories too.
async function crtFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".crt"))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}
