// The little of the DNS wire format (RFC 1035) the allowlist's resolver needs: the one question
// of a query, a refusal to it, and the A/AAAA records of an upstream's answer with their TTLs.
// Pure and bounds-checked: every byte comes from a workspace or from the network.

export interface DnsQuestion {
  id: number;
  /** Lower-case, without the trailing dot. */
  name: string;
  type: number;
  /** Offset just past the question (header + QNAME + QTYPE + QCLASS). */
  end: number;
}

export interface DnsAddress {
  family: 4 | 6;
  address: string;
  ttlSeconds: number;
}

export const DNS_TYPE = { A: 1, AAAA: 28 } as const;
export const DNS_RCODE = { FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

const HEADER_BYTES = 12;

// The query's single question; undefined for anything else (a response, no or several questions, a bad name).
export function parseQuestion(message: Buffer): DnsQuestion | undefined {
  if (message.length < HEADER_BYTES + 5) return undefined;
  const flags = message.readUInt16BE(2);
  const isQuery = (flags & 0x8000) === 0 && ((flags >> 11) & 0xf) === 0;
  if (!isQuery || message.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let offset = HEADER_BYTES;
  for (;;) {
    const length = message[offset];
    if (length === undefined || length > 63) return undefined; // compression has no place in a question
    offset += 1;
    if (length === 0) break;
    if (offset + length > message.length) return undefined;
    labels.push(message.toString("latin1", offset, offset + length).toLowerCase());
    offset += length;
  }
  if (offset + 4 > message.length) return undefined;
  const name = labels.join(".");
  if (name.length > 253) return undefined;
  return { id: message.readUInt16BE(0), name, type: message.readUInt16BE(offset), end: offset + 4 };
}

// An answer with no records and `rcode` to the query, echoing its question (what resolvers expect).
export function refusal(query: Buffer, question: DnsQuestion, rcode: number): Buffer {
  const reply = Buffer.from(query.subarray(0, question.end));
  const recursionDesired = query.readUInt16BE(2) & 0x0100;
  reply.writeUInt16BE(0x8000 | recursionDesired | 0x0080 | (rcode & 0xf), 2); // QR, RD echoed, RA
  reply.writeUInt16BE(1, 4);
  reply.writeUInt32BE(0, 6); // no answer or authority records
  reply.writeUInt16BE(0, 10); // nor additional ones (an EDNS OPT of the query is dropped)
  return reply;
}

// The A and AAAA records of an answer section, whatever name they are for (CNAME chains end in them).
export function answerAddresses(message: Buffer): DnsAddress[] {
  if (message.length < HEADER_BYTES) return [];
  const [questions, answers] = [message.readUInt16BE(4), message.readUInt16BE(6)];
  let offset = HEADER_BYTES;
  for (let i = 0; i < questions; i++) {
    offset = skipName(message, offset) + 4;
    if (offset > message.length) return [];
  }
  const found: DnsAddress[] = [];
  for (let i = 0; i < answers; i++) {
    offset = skipName(message, offset);
    if (offset + 10 > message.length) break;
    const [type, ttlSeconds, length] = [message.readUInt16BE(offset), message.readUInt32BE(offset + 4), message.readUInt16BE(offset + 8)];
    offset += 10;
    if (offset + length > message.length) break;
    if (type === DNS_TYPE.A && length === 4) found.push({ family: 4, address: [...message.subarray(offset, offset + 4)].join("."), ttlSeconds });
    if (type === DNS_TYPE.AAAA && length === 16) found.push({ family: 6, address: ipv6(message.subarray(offset, offset + 16)), ttlSeconds });
    offset += length;
  }
  return found;
}

// Offset past a (possibly compressed) name; past the end of the message when it is truncated.
function skipName(message: Buffer, start: number): number {
  let offset = start;
  for (let steps = 0; steps < 128; steps++) {
    const length = message[offset];
    if (length === undefined) return message.length + 1;
    if ((length & 0xc0) === 0xc0) return offset + 2; // a pointer ends the name
    if (length === 0) return offset + 1;
    offset += length + 1;
  }
  return message.length + 1;
}

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(":");
}
