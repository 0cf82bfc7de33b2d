// Who may see the dashboard. A browser cannot send a bearer header when it loads a page, so:
// the daemon mints a one-time login token for whoever may open its 0600 control socket (root,
// through `agentiso dashboard`); GET /login?token=... redeems it once for a session cookie
// (HttpOnly, SameSite=Strict) and redirects to /. Tokens and sessions are kept as SHA-256
// hashes, bounded in number and lifetime; URLs are never logged.
import { createHash, randomBytes } from "node:crypto";

export const LOGIN_TTL_MS = 5 * 60_000;
export const SESSION_TTL_MS = 12 * 3600_000;
const MAX_PENDING_LOGINS = 32;
const MAX_SESSIONS = 64;

export class DashboardAuth {
  /** hash of a login token → when it expires */
  private readonly logins = new Map<string, number>();
  /** hash of a session cookie → when it expires */
  private readonly sessions = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  // A fresh one-time login token (the oldest pending one goes when too many wait).
  mintLogin(): string {
    const token = randomBytes(24).toString("base64url");
    addBounded(this.logins, hash(token), this.now() + LOGIN_TTL_MS, MAX_PENDING_LOGINS, this.now());
    return token;
  }

  // Trades a login token for a session secret, once; undefined when unknown, used or expired.
  redeem(token: string): string | undefined {
    const key = hash(token);
    const expires = this.logins.get(key);
    this.logins.delete(key);
    if (expires === undefined || expires < this.now()) return undefined;
    return this.newSession();
  }

  // A fresh session secret (for a login token redeemed, or a bearer token the caller accepted).
  newSession(): string {
    const session = randomBytes(32).toString("base64url");
    addBounded(this.sessions, hash(session), this.now() + SESSION_TTL_MS, MAX_SESSIONS, this.now());
    return session;
  }

  // Whether a session secret (the cookie's value) is live.
  valid(session: string | undefined): boolean {
    if (!session) return false;
    const expires = this.sessions.get(hash(session));
    return expires !== undefined && expires >= this.now();
  }
}

// Keeps at most `max` entries: expired ones go first, then the oldest.
function addBounded(map: Map<string, number>, key: string, expires: number, max: number, now: number): void {
  for (const [k, at] of map) if (at < now) map.delete(k);
  while (map.size >= max) map.delete(map.keys().next().value!);
  map.set(key, expires);
}

function hash(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
