// CIDR ranges from configuration become words of an nft script run as root: each one is
// validated here (an address that node:net accepts, a prefix within the family's width) and
// written back in one canonical spelling, so nothing else can reach the script.
import { isIPv4, isIPv6 } from "node:net";
import { AgentisoError } from "./errors.js";

// "10.0.0.0/8" → "10.0.0.0/8"; "192.0.2.7" → "192.0.2.7/32"; "fe80::/10" stays. INVALID_INPUT otherwise.
export function parseCidr(text: string): string {
  const [address = "", prefix, ...rest] = String(text).trim().split("/");
  const width = isIPv4(address) ? 32 : isIPv6(address) ? 128 : undefined;
  const bits = prefix === undefined ? width : /^\d{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN;
  if (width === undefined || rest.length > 0 || bits === undefined || !(bits >= 0 && bits <= width)) {
    throw new AgentisoError("INVALID_INPUT", `${JSON.stringify(text)} is not an IPv4 or IPv6 CIDR range (e.g. 10.0.0.0/8, 192.0.2.7, fd00::/8)`);
  }
  return `${address.toLowerCase()}/${bits}`;
}
