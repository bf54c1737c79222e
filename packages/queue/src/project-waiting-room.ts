import { GroupCommit } from '@genqueue/core';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueOptions } from './catalog';
import { assertRedisReady } from './redis';

/** A project's waiting list outlives any sane wait; it goes away by itself once nobody waits. */
const WAITING_LIST_TTL_MS = 24 * 3600_000;
/** Pops of a project's list per wake before giving up (an entry may be stale: the job started or ended). */
const WAKE_TRIES = 5;
/** Most freed slots one round of wakes serves. */
const MAX_WAKES_PER_ROUND = 100;

/** WARNING: persisted: the Redis key of a project's waiting list (a sorted set of `queue|job id`). */
export const projectWaitingListKey = (prefix: string, projectId: string): string => `${prefix}:project-waiting:${projectId}`;

/**
 * Jobs held back by their project's `max_running_jobs`, waiting as delayed BullMQ jobs. Each freed
 * slot (a job of the project reaching a final status) promotes the longest-waiting one, so waiting
 * jobs do not poll: their delay is only a backstop for a wake that was missed.
 *
 * Slots freed while a wake is in flight are served together (GroupCommit): one `ZPOPMIN key n` per
 * project for the n slots, so a grouped status change that ends many jobs costs one round trip, and
 * a project with nobody waiting costs one empty pop per round instead of one per finished job.
 */
export class ProjectWaitingRoom {
  private readonly queues = new Map<string, Queue>();
  private readonly wakes = new GroupCommit<string, boolean>({
    runBatch: (projectIds) => this.wakeRound(projectIds),
    maxBatch: MAX_WAKES_PER_ROUND,
  });

  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
  ) {}

  private key(projectId: string): string {
    return projectWaitingListKey(this.prefix, projectId);
  }

  /** Records a delayed queue job as waiting for a slot of its project; a job keeps its first place. */
  async wait(projectId: string, queueName: string, queueJobId: string): Promise<void> {
    assertRedisReady(this.connection);
    const key = this.key(projectId);
    await this.connection.multi().zadd(key, 'NX', Date.now(), `${queueName}|${queueJobId}`).pexpire(key, WAITING_LIST_TTL_MS).exec();
  }

  /** A slot of the project was freed: moves its longest-waiting delayed job to the queue now. */
  async wakeOne(projectId: string): Promise<boolean> {
    assertRedisReady(this.connection);
    return this.wakes.run(projectId);
  }

  /** Slots freed together, by project: each project's first `woken` callers are told a job woke. */
  private async wakeRound(projectIds: readonly string[]): Promise<boolean[]> {
    const slots = new Map<string, number>();
    for (const projectId of projectIds) slots.set(projectId, (slots.get(projectId) ?? 0) + 1);
    const woken = new Map(await Promise.all([...slots].map(async ([projectId, n]) => [projectId, await this.wake(projectId, n)] as const)));
    return projectIds.map((projectId) => {
      const left = woken.get(projectId)!;
      woken.set(projectId, left - 1);
      return left > 0;
    });
  }

  /** Promotes up to `slots` of the project's longest-waiting jobs; answers how many it promoted. */
  private async wake(projectId: string, slots: number): Promise<number> {
    let woken = 0;
    for (let round = 0; woken < slots && round < WAKE_TRIES; round += 1) {
      // [member, score, member, score, …], longest-waiting first
      const popped = await this.connection.zpopmin(this.key(projectId), slots - woken);
      if (popped.length === 0) break;
      for (let i = 0; i < popped.length; i += 2) if (await this.promote(popped[i]!)) woken += 1;
    }
    return woken;
  }

  /** Moves one waiting entry's delayed job to the queue; false when it is stale (started, ended, gone). */
  private async promote(member: string): Promise<boolean> {
    const [queueName, queueJobId] = member.split('|') as [string, string];
    const job = await this.queue(queueName).getJob(queueJobId);
    if (!job || !(await job.isDelayed())) return false;
    try {
      await job.promote();
      return true;
    } catch {
      // it left `delayed` meanwhile (its backstop ran out): the next one gets the slot
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, queueOptions(this.connection, this.prefix, name));
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }
}
