// Addresses that are not the public internet: loopback, RFC 1918, CGNAT, link-local (the cloud
// metadata service at 169.254.169.254), multicast, reserved, ULA and their IPv4-mapped forms.
// Whatever an untrusted caller names as a destination for the daemon is checked against these.
import { BlockList, isIP } from "node:net";

export const NON_PUBLIC_V4: ReadonlyArray<[string, number]> = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8], // RFC 1918
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12], // RFC 1918
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.168.0.0", 16], // RFC 1918
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];

export const NON_PUBLIC_V6: ReadonlyArray<[string, number]> = [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["64:ff9b::", 96], // NAT64: reaches IPv4 behind the gateway
  ["2001::", 32], // Teredo: embeds an IPv4 address
  ["2002::", 16], // 6to4: embeds an IPv4 address
  ["100::", 64], // discard
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
];

const nonPublic = new BlockList();
for (const [network, prefix] of NON_PUBLIC_V4) nonPublic.addSubnet(network, prefix, "ipv4");
for (const [network, prefix] of NON_PUBLIC_V6) nonPublic.addSubnet(network, prefix, "ipv6");

// True for an address on the public internet; false for private, local, reserved (and non-IPs).
export function isPublicAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 0) return false;
  if (version === 6) {
    // IPv4-mapped (::ffff:a.b.c.d, canonically ::ffff:XXXX:XXXX) is judged as the IPv4 address.
    const canonical = new URL(`http://[${address}]`).hostname.slice(1, -1);
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
    if (mapped) {
      const [high, low] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
      return isPublicAddress(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`);
    }
  }
  return !nonPublic.check(address, version === 4 ? "ipv4" : "ipv6");
}

// True for a loopback address (127.0.0.0/8, ::1, ::ffff:127.x.y.z): reachable from this host only.
export function isLoopbackAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 4) return address.startsWith("127.");
  if (version !== 6) return false;
  const canonical = new URL(`http://[${address}]`).hostname.slice(1, -1);
  if (canonical === "::1") return true;
  const mapped = /^::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(canonical);
  return mapped !== null && parseInt(mapped[1]!, 16) >> 8 === 127;
}
