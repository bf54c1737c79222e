import type { AdminSession, PrismaClient } from '../generated/prisma/client';

export type NewAdminSession = { id: string; keyId: string; csrfHash: string; expiresAt: Date };

/** Dashboard sign-ins (admin_sessions). A session lives while it is unexpired, unrevoked, and its admin key is too. */
export class AdminSessionsRepository {
  constructor(private readonly db: PrismaClient) {}

  create(input: NewAdminSession): Promise<AdminSession> {
    return this.db.adminSession.create({ data: input });
  }

  /**
   * The session if it still holds at `now`: not revoked, not expired, and opened with an admin key
   * that is not revoked either (checked on every request, so revoking the key ends its sessions).
   */
  async findLive(id: string, now = new Date()): Promise<AdminSession | null> {
    const rows = await this.db.$queryRaw<AdminSession[]>`
      SELECT s.id, s.key_id AS "keyId", s.csrf_hash AS "csrfHash", s.created_at AS "createdAt",
             s.expires_at AS "expiresAt", s.revoked_at AS "revokedAt"
        FROM admin_sessions s
        JOIN api_keys k ON k.id = s.key_id AND k.kind = 'admin' AND k.revoked_at IS NULL
       WHERE s.id = ${id} AND s.revoked_at IS NULL AND s.expires_at > ${now}`;
    return rows[0] ?? null;
  }

  /** Ends the session server side; false when it was unknown or already ended. */
  async revoke(id: string, now = new Date()): Promise<boolean> {
    const { count } = await this.db.adminSession.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: now } });
    return count > 0;
  }

  /** Drops sessions that ended more than `olderThan` ago (housekeeping; they can never be used again). */
  async deleteEndedBefore(olderThan: Date): Promise<number> {
    const { count } = await this.db.adminSession.deleteMany({ where: { expiresAt: { lt: olderThan } } });
    return count;
  }
}
