import { createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { queuePrefix } from '@genqueue/queue';
import { TestStack, type Project, type StackOptions } from '@genqueue/testing';

/** Small helpers over the stack's HTTP surfaces; every wait has a deadline and says what it waited for. */

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

export type Fault = { route: string; kind: string; times?: number; delay_ms?: number; status?: number; variant?: string };

export async function armFault(stack: TestStack, fault: Fault): Promise<void> {
  const res = await stack.sim.post('/_sim/faults', { body: fault });
  if (res.status !== 201) throw new Error(`arm fault: ${res.status} ${res.text}`);
}

export async function clearFaults(stack: TestStack): Promise<void> {
  await stack.sim.delete('/_sim/faults');
}

export type RouteCounter = { received: number; statuses: Record<string, number> };

export async function routeCounter(stack: TestStack, routeKey: string): Promise<RouteCounter> {
  const res = await stack.sim.get('/_sim/counters');
  const counter = res.body.routes?.[routeKey] as RouteCounter | undefined;
  return { received: counter?.received ?? 0, statuses: { ...(counter?.statuses ?? {}) } };
}

/** What changed on one simulator route between two snapshots. */
export function counterDelta(before: RouteCounter, after: RouteCounter): RouteCounter {
  const statuses: Record<string, number> = {};
  for (const [status, count] of Object.entries(after.statuses)) {
    const diff = count - (before.statuses[status] ?? 0);
    if (diff !== 0) statuses[status] = diff;
  }
  return { received: after.received - before.received, statuses };
}

/** sha256 of the PNG the simulator renders for a seed. */
export async function expectedSha(stack: TestStack, model: string, prompt: string, index = 0, inputs: string[] = []): Promise<string> {
  const query = new URLSearchParams({ model, prompt, index: String(index), inputs: inputs.join(',') });
  const res = await stack.sim.get(`/_sim/media/expected?${query.toString()}`);
  if (res.status !== 200) throw new Error(`expected sha: ${res.status} ${res.text}`);
  return res.body.sha256 as string;
}

/** Simulated milliseconds that last `realMs` on the simulator's clock (fast time divides by its factor). */
export async function simulatedMs(stack: TestStack, realMs: number): Promise<number> {
  const clock = await stack.sim.get('/_sim/clock');
  return clock.body.fast_time ? realMs * Number(clock.body.time_factor) : realMs;
}

export async function jobEvents(stack: TestStack, key: string, jobId: string): Promise<Array<{ type: string; seq: number; data: any }>> {
  const res = await stack.api.get(`/v1/jobs/${jobId}/events`, { key, headers: { accept: 'application/json' } });
  if (res.status !== 200) throw new Error(`events: ${res.status} ${res.text}`);
  return res.body.data;
}

export async function artifactBytes(stack: TestStack, key: string, artifactId: string): Promise<Buffer> {
  const res = await fetch(`${stack.apiUrl}/v1/artifacts/${artifactId}/content`, { headers: { authorization: `Bearer ${key}` } });
  if (res.status !== 200) throw new Error(`artifact content: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

export async function submit(stack: TestStack, key: string, body: unknown): Promise<any> {
  const res = await stack.api.post('/v1/jobs', { key, body });
  if (res.status !== 202) throw new Error(`submit: ${res.status} ${res.text}`);
  return res.body;
}

export async function getJob(stack: TestStack, key: string, jobId: string): Promise<any> {
  const res = await stack.api.get(`/v1/jobs/${jobId}`, { key });
  if (res.status !== 200) throw new Error(`get job: ${res.status} ${res.text}`);
  return res.body;
}

/** Polls `check` until it returns a value other than undefined; only for conditions no endpoint can wait on. */
export async function pollUntil<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Waits until the simulator has received `count` more requests on a route than `before` says. */
export function waitForRequests(stack: TestStack, routeKey: string, before: RouteCounter, count = 1): Promise<RouteCounter> {
  return pollUntil(`${count} request(s) on ${routeKey}`, async () => {
    const now = await routeCounter(stack, routeKey);
    return now.received - before.received >= count ? now : undefined;
  });
}

/** Direct access to the stack's BullMQ queues and keys (the things a worker crash or a Redis loss leaves behind). */
export class StackRedis {
  readonly redis: Redis;
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly stack: TestStack) {
    this.redis = new Redis(String(stack.env['REDIS_URL']), { maxRetriesPerRequest: null });
  }

  private get prefix(): string {
    return String(this.stack.env['QUEUE_PREFIX']);
  }

  queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.redis, prefix: queuePrefix(this.prefix, name) });
      this.queues.set(name, queue);
    }
    return queue;
  }

  async jobState(queueName: string, jobId: string): Promise<string> {
    return this.queue(queueName).getJobState(jobId);
  }

  /** Deletes every key under the stack's prefix: Redis "forgets" all queued work. */
  async flushPrefix(): Promise<number> {
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await this.redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.redis.disconnect();
  }
}

/**
 * SIGKILLs the worker as a crash would. `stack.stopWorker('SIGKILL')` alone kills only the tsx
 * launcher: its node child (the real worker) cannot be told and lives on, holding the job.
 */
/** SIGKILLs the worker process: no shutdown code runs, its BullMQ locks simply expire. */
export async function crashWorker(stack: TestStack): Promise<void> {
  if (!stack.worker) throw new Error('no worker to crash');
  await stack.stopWorker('SIGKILL');
}

export type StackFixture = { stack: TestStack; project: Project; redis: StackRedis };

/**
 * The stack of the enclosing `describe`, started with `options` before its tests, with a project and
 * direct Redis access, and stopped after them; faults a test armed are cleared after it. `ready`
 * receives the parts once they run.
 */
export function useStack(ready: (fixture: StackFixture) => void, options: StackOptions = {}): void {
  let stack: TestStack | undefined;
  let redis: StackRedis | undefined;

  beforeAll(async () => {
    stack = await TestStack.start(options);
    const project = await stack.createProject();
    redis = new StackRedis(stack);
    ready({ stack, project, redis });
  }, 120_000);

  afterEach(async () => {
    if (stack) await clearFaults(stack);
  });

  afterAll(async () => {
    await redis?.close();
    await stack?.stop();
  });
}
