import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueOptions } from './catalog';
import { assertRedisReady } from './redis';

/** A project's waiting list outlives any sane wait; it goes away by itself once nobody waits. */
const WAITING_LIST_TTL_MS = 24 * 3600_000;
/** Entries tried per freed slot before giving up (an entry may be stale: the job started or ended). */
const WAKE_TRIES = 5;

/** WARNING: persisted: the Redis key of a project's waiting list (a sorted set of `queue|job id`). */
export const projectWaitingListKey = (prefix: string, projectId: string): string => `${prefix}:project-waiting:${projectId}`;

/**
 * Jobs held back by their project's `max_running_jobs`, waiting as delayed BullMQ jobs. Each freed
 * slot (a job of the project reaching a final status) promotes the longest-waiting one, so waiting
 * jobs do not poll: their delay is only a backstop for a wake that was missed.
 */
export class ProjectWaitingRoom {
  private readonly queues = new Map<string, Queue>();

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
    for (let i = 0; i < WAKE_TRIES; i += 1) {
      const [member] = await this.connection.zpopmin(this.key(projectId));
      if (!member) return false;
      const [queueName, queueJobId] = member.split('|') as [string, string];
      const job = await this.queue(queueName).getJob(queueJobId);
      if (!job || !(await job.isDelayed())) continue;
      try {
        await job.promote();
        return true;
      } catch {
        // it left `delayed` meanwhile (its backstop ran out): the next one gets the slot
      }
    }
    return false;
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
