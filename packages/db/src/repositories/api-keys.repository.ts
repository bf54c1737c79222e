import { createHash, randomBytes } from 'node:crypto';
import { newId } from '@genqueue/core';
import type pg from 'pg';
import { poolOf } from '../client';
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

type Row = Record<string, unknown>;

/** The key and its project of findActiveByKey's raw query, in Prisma's shapes. */
function activeKeyFromRow(r: Row): ActiveKey {
  const projectId = (r['project_id'] ?? null) as string | null;
  const project: Project | null =
    r['p_id'] == null
      ? null
      : {
          id: r['p_id'] as string,
          name: r['p_name'] as string,
          limits: r['p_limits'] as Project['limits'],
          webhookSecret: (r['p_webhook_secret'] ?? null) as string | null,
          webhookSecretPrevious: (r['p_webhook_secret_previous'] ?? null) as string | null,
          webhookSecretRotatedAt: (r['p_webhook_secret_rotated_at'] ?? null) as Date | null,
          createdAt: r['p_created_at'] as Date,
        };
  return {
    id: r['id'] as string,
    projectId,
    kind: r['kind'] as string,
    name: (r['name'] ?? null) as string | null,
    prefix: r['prefix'] as string,
    keyHash: r['key_hash'] as string,
    createdAt: r['created_at'] as Date,
    revokedAt: (r['revoked_at'] ?? null) as Date | null,
    lastUsedAt: (r['last_used_at'] ?? null) as Date | null,
    project,
  };
}

/** How an API process learns that keys or their projects changed elsewhere (Redis pub/sub in the API). */
export type KeyChangeSignal = {
  /** false while a change made elsewhere could go unheard (not subscribed, Redis down): nothing is cached then */
  isListening: () => boolean;
  /** tells every other process; best effort (the TTL bounds what a lost signal costs) */
  announce: () => Promise<void>;
};

/**
 * Active keys by hash for a few seconds, so a busy key costs no read per request. A revocation or a
 * project change empties it here at once and in every other process through `signal`; while the
 * signal cannot be heard every lookup reads the table, as without a cache.
 */
export class ActiveKeyCache {
  private readonly entries = new Map<string, { record: ActiveKey; until: number }>();
  /** bumped by every `forget`: a read that started before it does not refill the cache with what it saw */
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly signal: KeyChangeSignal,
    private readonly maxEntries = 10_000,
  ) {}

  /** The cached record, or a function that keeps what the caller then reads from the table. */
  lookup(hash: string, now = Date.now()): { hit: ActiveKey } | { keep: (record: ActiveKey | null) => void } {
    if (!this.signal.isListening()) return { keep: () => undefined };
    const entry = this.entries.get(hash);
    if (entry && entry.until > now) return { hit: entry.record };
    const generation = this.generation;
    return {
      keep: (record) => {
        if (!record || generation !== this.generation) return;
        if (this.entries.size >= this.maxEntries) this.entries.clear();
        this.entries.set(hash, { record, until: now + this.ttlMs });
      },
    };
  }

  /** Drops every entry of this process (a change was heard, or the signal was down a while). */
  forget(): void {
    this.generation += 1;
    this.entries.clear();
  }

  /** A key or a project changed: forgets here, then tells the other processes. */
  async changed(): Promise<void> {
    this.forget();
    await this.signal.announce().catch(() => undefined);
  }
}

export class ApiKeysRepository {
  /** the client's pg pool: the per-request key lookup runs through it as raw SQL */
  private readonly pool: pg.Pool | undefined;

  constructor(
    private readonly db: PrismaClient,
    /** the API's: lookups answered from memory for a few seconds; none elsewhere (every lookup reads) */
    private readonly cache: ActiveKeyCache | null = null,
  ) {
    this.pool = poolOf(db);
  }

  /**
   * Keys or their projects changed other than through this repository's revocations (a project's
   * limits, a configured admin key replaced at start): cached keys are read again, here and in every
   * other API process.
   */
  async keysChanged(): Promise<void> {
    await this.cache?.changed();
  }

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

  /**
   * The active key and its project. With a cache, from memory for a few seconds: a revocation
   * empties it (here at once, elsewhere through the cache's signal). Raw SQL on the pool (one
   * indexed read) where the client has one.
   */
  async findActiveByKey(key: string): Promise<ActiveKey | null> {
    const hash = hashApiKey(key);
    if (!this.cache) return this.readActiveByHash(hash);
    const cached = this.cache.lookup(hash);
    if ('hit' in cached) return cached.hit;
    const record = await this.readActiveByHash(hash);
    cached.keep(record);
    return record;
  }

  private async readActiveByHash(hash: string): Promise<ActiveKey | null> {
    if (this.pool) {
      const { rows } = await this.pool.query(
        `SELECT k.*, p.id AS p_id, p.name AS p_name, p.limits AS p_limits, p.webhook_secret AS p_webhook_secret,
                p.webhook_secret_previous AS p_webhook_secret_previous, p.webhook_secret_rotated_at AS p_webhook_secret_rotated_at,
                p.created_at AS p_created_at
           FROM api_keys k LEFT JOIN projects p ON p.id = k.project_id
          WHERE k.key_hash = $1 AND k.revoked_at IS NULL
          LIMIT 1`,
        [hash],
      );
      return rows[0] ? activeKeyFromRow(rows[0]) : null;
    }
    return this.db.apiKey.findFirst({
      where: { keyHash: hash, revokedAt: null },
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
    if (count > 0) await this.cache?.changed();
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
      await this.cache?.changed();
    }
    return true;
  }
}
