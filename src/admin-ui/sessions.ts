import { randomBytes } from "node:crypto";

/** One signed-in operator. */
export interface Session {
  readonly id: string;
  /** The name given at sign-in: who the audit log says acted. */
  readonly operator: string;
  /** The CSRF token every form of this session carries. */
  readonly csrfToken: string;
  readonly createdAt: number;
  lastSeenAt: number;
}

/** How long a session lasts without a request, and at most. */
const IDLE_MS = 60 * 60_000;
const LIFETIME_MS = 12 * 60 * 60_000;
/** Sign-ins beyond this many push out the oldest session, so repeated sign-ins cannot grow memory without end. */
const MAX_SESSIONS = 1_000;

/** A new unguessable token: 256 random bits, URL- and cookie-safe. */
export function randomToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * The sessions of one handler, in memory: a restart signs every operator out, and several processes each
 * have their own (documented in docs/admin-ui.md). Session time is the system's, not the Backbone's clock,
 * which tests may move by days.
 */
export class Sessions {
  readonly #sessions = new Map<string, Session>();

  start(operator: string): Session {
    const now = Date.now();
    const session: Session = {
      id: randomToken(),
      operator,
      csrfToken: randomToken(),
      createdAt: now,
      lastSeenAt: now,
    };
    // A Map iterates in insertion order: the first key is the oldest session.
    if (this.#sessions.size >= MAX_SESSIONS)
      this.#sessions.delete(this.#sessions.keys().next().value as string);
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id, its idle time restarted; an expired one is forgotten. */
  find(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    const now = Date.now();
    if (now - session.lastSeenAt > IDLE_MS || now - session.createdAt > LIFETIME_MS) {
      this.#sessions.delete(id);
      return undefined;
    }
    session.lastSeenAt = now;
    return session;
  }

  end(id: string): void {
    this.#sessions.delete(id);
  }
}
