import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { isId, newId } from '@genqueue/core';
import type { AdminSession, AdminSessionsRepository } from '@genqueue/db';

/** WARNING: the dashboard's cookie; renaming it signs every operator out. */
export const ADMIN_SESSION_COOKIE = 'gq_admin_session';
/** The cookie is sent to the dashboard, its API, bull-board and the sign-in route, nowhere else. */
export const ADMIN_COOKIE_PATH = '/admin';

const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export type OpenedSession = { session: AdminSession; cookieValue: string; csrfToken: string };

/**
 * Dashboard sign-ins. The cookie carries the session id and an HMAC of it (so a guessed or altered
 * id is refused before any lookup); the row decides whether it still holds. The CSRF token is an
 * HMAC of the session id under another label: unpredictable without the instance secret, and
 * derivable again, so `GET /admin/session` can hand the same token to a reloaded page. Only its
 * sha256 is stored.
 */
export class AdminSessions {
  constructor(
    private readonly repository: AdminSessionsRepository,
    /** instance secret shared by every API process (system_settings) */
    private readonly secret: string,
    private readonly lifeMs: number,
  ) {}

  get lifeSec(): number {
    return Math.floor(this.lifeMs / 1000);
  }

  async open(adminKeyId: string, now = new Date()): Promise<OpenedSession> {
    const id = newId('ses');
    const csrfToken = this.csrfTokenOf(id);
    const session = await this.repository.create({
      id,
      keyId: adminKeyId,
      csrfHash: sha256Hex(csrfToken),
      expiresAt: new Date(now.getTime() + this.lifeMs),
    });
    return { session, cookieValue: `${id}.${this.sign(id)}`, csrfToken };
  }

  /** The live session a cookie value names; null when tampered, unknown, ended, expired or its key revoked. */
  async fromCookie(cookieValue: string | undefined): Promise<AdminSession | null> {
    const id = this.idOf(cookieValue);
    return id ? this.repository.findLive(id) : null;
  }

  /** Ends the session the cookie names (if it is a valid one). */
  async close(cookieValue: string | undefined): Promise<void> {
    const id = this.idOf(cookieValue);
    if (id) await this.repository.revoke(id);
  }

  csrfTokenOf(sessionId: string): string {
    return createHmac('sha256', this.secret).update(`csrf.${sessionId}`).digest('base64url');
  }

  isCsrfTokenOf(session: AdminSession, token: string | undefined): boolean {
    return typeof token === 'string' && token.length > 0 && sameText(sha256Hex(token), session.csrfHash);
  }

  private sign(id: string): string {
    return createHmac('sha256', this.secret).update(`session.${id}`).digest('base64url');
  }

  private idOf(cookieValue: string | undefined): string | null {
    if (!cookieValue) return null;
    const dot = cookieValue.lastIndexOf('.');
    if (dot <= 0) return null;
    const id = cookieValue.slice(0, dot);
    if (!isId('ses', id)) return null;
    return sameText(cookieValue.slice(dot + 1), this.sign(id)) ? id : null;
  }
}

/** One cookie's value from a Cookie header; undefined when absent. */
export function cookieFrom(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}
