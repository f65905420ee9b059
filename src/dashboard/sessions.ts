import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface Session {
  id: string;
  tokenName: string;
  tokenId: number;
  /** Per-session token every state-changing form carries. */
  csrf: string;
  createdAt: number;
  /** Absolute end: sign-in + 12 h. */
  expiresAt: number;
  /** Idle end: last use + 1 h, never past expiresAt. */
  idleUntil: number;
}

export const SESSION_MAX_MS = 12 * 3_600_000;
export const SESSION_IDLE_MS = 3_600_000;
/** A cap so that sign-ins cannot grow memory without bound; the oldest session goes first. */
const MAX_SESSIONS = 1_000;

/**
 * Sessions in memory only: a daemon restart signs everyone out, which is the
 * price of never writing a session secret to disk or to a shared store.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly now: () => number = Date.now) {}

  create(token: { name: string; id: number }): Session {
    this.sweep();
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
    const now = this.now();
    const session: Session = {
      id: secret(), tokenName: token.name, tokenId: token.id, csrf: secret(), createdAt: now,
      expiresAt: now + SESSION_MAX_MS, idleUntil: Math.min(now + SESSION_IDLE_MS, now + SESSION_MAX_MS),
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session for `id`, its idle deadline moved on; undefined when unknown or expired. */
  touch(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    const now = this.now();
    if (now >= session.expiresAt || now >= session.idleUntil) {
      this.sessions.delete(id);
      return undefined;
    }
    session.idleUntil = Math.min(now + SESSION_IDLE_MS, session.expiresAt);
    return session;
  }

  /** Still valid, without counting as use (a live stream open in a tab is not activity). */
  alive(id: string): boolean {
    const session = this.sessions.get(id);
    const now = this.now();
    return session !== undefined && now < session.expiresAt && now < session.idleUntil;
  }

  end(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (now >= s.expiresAt || now >= s.idleUntil) this.sessions.delete(id);
  }
}

export function secret(): string {
  return randomBytes(32).toString('base64url');
}

export function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
