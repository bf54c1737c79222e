import type { PrismaClient } from '../generated/prisma/client';
import type { Db } from './types';

/** The secrets a project or an endpoint signs with (see `activeSecrets` in @genqueue/webhooks). */
export type SigningSecrets = { secret: string; previousSecret: string | null; rotatedAt: Date | null };

/**
 * A project's own webhook secret, which signs the deliveries to its jobs' `webhook_url`s (an endpoint
 * has a secret of its own). Methods that take a `db` argument can run inside a caller's transaction.
 */
export class WebhookSecretsRepository {
  constructor(private readonly db: PrismaClient) {}

  /** Null when the project has no secret yet (or does not exist). */
  async getProjectSecrets(projectId: string, db: Db = this.db): Promise<SigningSecrets | null> {
    const project = await db.project.findUnique({
      where: { id: projectId },
      select: { webhookSecret: true, webhookSecretPrevious: true, webhookSecretRotatedAt: true },
    });
    if (!project?.webhookSecret) return null;
    return { secret: project.webhookSecret, previousSecret: project.webhookSecretPrevious, rotatedAt: project.webhookSecretRotatedAt };
  }

  /** Sets `secret` as the project's secret unless it has one: only the first writer's secret sticks. */
  async setProjectSecretIfNone(projectId: string, secret: string, db: Db = this.db): Promise<void> {
    await db.project.updateMany({ where: { id: projectId, webhookSecret: null }, data: { webhookSecret: secret } });
  }

  /** The project's secrets, setting `make()` as its secret if it has none; null when no such project. */
  async getOrCreateProjectSecret(projectId: string, make: () => string, db: Db = this.db): Promise<SigningSecrets | null> {
    const existing = await this.getProjectSecrets(projectId, db);
    if (existing) return existing;
    // Only the first writer's secret sticks when several ask at once.
    await this.setProjectSecretIfNone(projectId, make(), db);
    return this.getProjectSecrets(projectId, db);
  }

  /**
   * Makes `newSecret` the project's secret and keeps the current one as the previous secret (still
   * signed with for 24 h; a second rotation within that time drops the oldest). Null when no such project.
   */
  async rotateProjectSecret(projectId: string, newSecret: string, now = new Date()): Promise<SigningSecrets | null> {
    const rows = await this.db.$queryRaw<SigningSecrets[]>`
      UPDATE projects
         SET webhook_secret_previous = webhook_secret,
             webhook_secret = ${newSecret},
             webhook_secret_rotated_at = ${now}
       WHERE id = ${projectId}
   RETURNING webhook_secret AS "secret", webhook_secret_previous AS "previousSecret", webhook_secret_rotated_at AS "rotatedAt"`;
    return rows[0] ?? null;
  }
}
