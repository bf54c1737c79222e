import { createHash, randomBytes } from 'node:crypto';
import { newId } from '@genqueue/core';
import type { ApiKey, PrismaClient, Project } from '../generated/prisma/client';

export type ApiKeyKind = 'project' | 'admin';

/** WARNING: key formats are handed to clients; `gq_` project keys and `gqa_` admin keys. */
const KEY_PREFIX: Record<ApiKeyKind, string> = { project: 'gq_', admin: 'gqa_' };
const DISPLAY_PREFIX_LENGTH = 12;
/** `last_used_at` is exact to this much. */
export const LAST_USED_RESOLUTION_MS = 60_000;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateApiKey(kind: ApiKeyKind): string {
  return KEY_PREFIX[kind] + randomBytes(24).toString('base64url');
}

export type CreatedApiKey = { record: ApiKey; key: string };
export type ActiveKey = ApiKey & { project: Project | null };

export class ApiKeysRepository {
  constructor(private readonly db: PrismaClient) {}

  /** Stores only the hash; the key itself is returned this once. `key` may be supplied (ADMIN_API_KEY). */
  async create(input: { kind: ApiKeyKind; projectId: string | null; name?: string | null; key?: string }): Promise<CreatedApiKey> {
    const key = input.key ?? generateApiKey(input.kind);
    const record = await this.db.apiKey.create({
      data: {
        id: newId('key'),
        kind: input.kind,
        projectId: input.projectId,
        name: input.name ?? null,
        prefix: key.slice(0, DISPLAY_PREFIX_LENGTH),
        keyHash: hashApiKey(key),
      },
    });
    return { record, key };
  }

  findActiveByKey(key: string): Promise<ActiveKey | null> {
    return this.db.apiKey.findFirst({
      where: { keyHash: hashApiKey(key), revokedAt: null },
      include: { project: true },
    });
  }

  /**
   * Records that the key was just used, at most once a minute per key (a guarded update, so a busy
   * key costs one write a minute, not one per request).
   */
  async touchLastUsed(id: string, now = new Date()): Promise<void> {
    await this.db.apiKey.updateMany({
      where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now.getTime() - LAST_USED_RESOLUTION_MS) } }] },
      data: { lastUsedAt: now },
    });
  }

  findById(id: string): Promise<ApiKey | null> {
    return this.db.apiKey.findUnique({ where: { id } });
  }

  findByKeyHash(key: string): Promise<ApiKey | null> {
    return this.db.apiKey.findUnique({ where: { keyHash: hashApiKey(key) } });
  }

  countActive(kind: ApiKeyKind): Promise<number> {
    return this.db.apiKey.count({ where: { kind, revokedAt: null } });
  }

  listForProject(projectId: string): Promise<ApiKey[]> {
    return this.db.apiKey.findMany({ where: { projectId }, orderBy: { createdAt: 'desc' } });
  }

  /** Active admin keys with this name, except `keepId`, revoked now; how many. */
  async revokeAdminKeysNamed(name: string, keepId: string): Promise<number> {
    const { count } = await this.db.apiKey.updateMany({
      where: { kind: 'admin', name, revokedAt: null, id: { not: keepId } },
      data: { revokedAt: new Date() },
    });
    return count;
  }

  listAdminKeys(): Promise<ApiKey[]> {
    return this.db.apiKey.findMany({ where: { kind: 'admin' }, orderBy: { createdAt: 'desc' } });
  }

  /** Revokes at once; false when no such key exists. Revoking twice is fine. */
  async revoke(id: string): Promise<boolean> {
    const existing = await this.db.apiKey.findUnique({ where: { id } });
    if (!existing) return false;
    if (!existing.revokedAt) {
      await this.db.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
    }
    return true;
  }
}
