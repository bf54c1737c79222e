import { randomBytes } from 'node:crypto';
import { ApiKeysRepository, createPrismaClient, ProjectsRepository, type PrismaClient } from '@genqueue/db';
import { createRedis } from '@genqueue/queue';
import { testDatabaseUrl, testRedisUrl } from '@genqueue/testing';
import type { Redis } from 'ioredis';
import { activeKeyCache, keyChangesChannel } from '../src/services/key-change-signal';

/**
 * The API's key cache as two API processes hold it (two clients, two Redis connection pairs, one
 * channel): a key is read once, not per request, and a revocation or a limit change made by either
 * process is refused / applied by both.
 */
describe('active key cache', () => {
  const channel = keyChangesChannel(`{test-keys-${randomBytes(4).toString('hex')}}`);
  let prisma: PrismaClient;
  let connections: Redis[] = [];
  let projects: ProjectsRepository;
  /** an API process: its key repository with a cache, and a probe that says when a change reached it */
  type Process = { keys: ApiKeysRepository; subscriber: Redis; heard: () => Promise<void> };
  let first: Process;
  let second: Process;

  function startProcess(): Process {
    const publisher = createRedis(testRedisUrl(), 'producer');
    const subscriber = createRedis(testRedisUrl(), 'worker');
    for (const connection of [publisher, subscriber]) connection.on('error', () => undefined);
    connections.push(publisher, subscriber);
    const keys = new ApiKeysRepository(prisma, activeKeyCache(publisher, subscriber, channel));
    const heard = () => new Promise<void>((resolve) => subscriber.once('message', () => resolve()));
    return { keys, subscriber, heard };
  }

  /** Until both processes are subscribed: lookups before that read the table (nothing is cached). */
  async function subscribed(): Promise<void> {
    const probe = createRedis(testRedisUrl(), 'producer');
    try {
      for (let waited = 0; Number(((await probe.pubsub('NUMSUB', channel)) as [string, number])[1]) < 2; waited += 1) {
        if (waited > 100) throw new Error('the processes never subscribed');
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      await probe.quit();
    }
  }

  beforeAll(async () => {
    prisma = createPrismaClient(testDatabaseUrl(), { poolMax: 4 });
    projects = new ProjectsRepository(prisma);
    first = startProcess();
    second = startProcess();
    await Promise.all([first, second].map((p) => new Promise((r) => (p.subscriber.status === 'ready' ? r(null) : p.subscriber.once('ready', r)))));
    await subscribed();
  });

  afterAll(async () => {
    await Promise.all(connections.map((c) => (c.status === 'end' ? undefined : c.quit().catch(() => undefined))));
    connections = [];
    await prisma.$disconnect();
  });

  async function projectKey(limits: Record<string, number> = {}) {
    const project = await projects.create(`keys-${randomBytes(4).toString('hex')}`, limits);
    const { record, key } = await first.keys.create({ kind: 'project', projectId: project.id });
    return { project, record, key };
  }

  /** Revokes behind the repositories' back (as another tool would): only a cache read answers the key then. */
  const revokeInTable = (id: string) => prisma.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });

  it('answers a key from memory once read', async () => {
    const { record, key } = await projectKey();
    expect((await second.keys.findActiveByKey(key))?.id).toBe(record.id);
    await revokeInTable(record.id);
    // no change was announced: the cached record still answers (the cache is what the test looks at)
    expect((await second.keys.findActiveByKey(key))?.id).toBe(record.id);
    await second.keys.keysChanged();
    expect(await second.keys.findActiveByKey(key)).toBeNull();
  });

  it('refuses a revoked key at once in the revoking process and as soon as the other hears of it', async () => {
    const { record, key } = await projectKey();
    expect((await first.keys.findActiveByKey(key))?.id).toBe(record.id);
    expect((await second.keys.findActiveByKey(key))?.id).toBe(record.id);
    const heard = second.heard();
    expect(await first.keys.revoke(record.id)).toBe(true);
    expect(await first.keys.findActiveByKey(key)).toBeNull();
    await heard;
    expect(await second.keys.findActiveByKey(key)).toBeNull();
  });

  it('reads the new limits of a changed project in every process', async () => {
    const { project, key } = await projectKey({ requests_per_minute: 10 });
    expect((await second.keys.findActiveByKey(key))?.project?.limits).toEqual({ requests_per_minute: 10 });
    await projects.update(project.id, { limits: { requests_per_minute: 1 } });
    const heard = second.heard();
    await first.keys.keysChanged();
    await heard;
    expect((await second.keys.findActiveByKey(key))?.project?.limits).toEqual({ requests_per_minute: 1 });
  });

  it('caches nothing while it cannot hear changes: every lookup reads the table', async () => {
    const third = startProcess();
    const { record, key } = await projectKey();
    // its subscriber is down: a revocation made anywhere is seen at once. (disconnect() ends the
    // connection asynchronously; until it has ended the process may still count as listening)
    const ended = new Promise((resolve) => third.subscriber.once('end', resolve));
    third.subscriber.disconnect();
    await ended;
    expect((await third.keys.findActiveByKey(key))?.id).toBe(record.id);
    await revokeInTable(record.id);
    expect(await third.keys.findActiveByKey(key)).toBeNull();
  });

  it('does not keep what a read saw when a change came while the read was under way', async () => {
    const { record, key } = await projectKey();
    const reading = second.keys.findActiveByKey(key);
    // forgets (as a message would) before the read above has answered
    await second.keys.keysChanged();
    expect((await reading)?.id).toBe(record.id);
    await revokeInTable(record.id);
    expect(await second.keys.findActiveByKey(key)).toBeNull();
  });
});
