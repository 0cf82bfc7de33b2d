// Where the DNS gate asks: the operator's `[net] upstreamDns`, else the host's first
// nameserver in /etc/resolv.conf (read at each ask: it may change under DHCP). The daemon asks
// from the host's own namespace, so a loopback resolver (systemd-resolved's 127.0.0.53) works.
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { AgentisoError } from "../core/errors.js";
import type { UpstreamDns } from "./dns-gate.js";

// "198.18.0.1", "198.18.0.1:5353", "[2001:db8::1]:53" → host and port; INVALID_INPUT otherwise.
export function parseUpstreamDns(text: string): UpstreamDns {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const [host, portText] = bracketed ? [bracketed[1]!, bracketed[2]] : text.split(":").length === 2 ? text.split(":") : [text, undefined];
  const port = portText === undefined ? 53 : Number(portText);
  if (!host || isIP(host) === 0 || !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    throw new AgentisoError("INVALID_INPUT", `upstream DNS ${JSON.stringify(text)} is not an IP address with an optional port (e.g. 1.1.1.1, 127.0.0.53:53, [2001:db8::1]:53)`);
  }
  return { host, port };
}

// The upstream to ask now.
export function upstreamDns(configured: string | undefined, resolvConf = "/etc/resolv.conf"): UpstreamDns {
  if (configured) return parseUpstreamDns(configured);
  const text = (() => {
    try {
      return readFileSync(resolvConf, "utf8");
    } catch {
      return "";
    }
  })();
  const nameserver = /^\s*nameserver\s+(\S+)/m.exec(text)?.[1];
  if (!nameserver || isIP(nameserver.split("%")[0]!) === 0) throw new AgentisoError("BACKEND_FAILED", `no nameserver in ${resolvConf} for the allowlist's DNS gate: set [net] upstreamDns in config.toml`);
  return { host: nameserver.split("%")[0]!, port: 53 };
}
