import type { QueueOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { idSchema, JOB_FAMILIES, type JobFamily } from '@genqueue/core';

export const JobRefSchema = z.object({
  jobId: idSchema('job', 'a job id'),
  /** the API request that submitted (or retried) the job: its log lines carry it */
  requestId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/).optional(),
});
export type JobRef = z.infer<typeof JobRefSchema>;

/**
 * WARNING: queue names are Redis key prefixes and therefore a persisted contract.
 * Renaming one strands everything still queued under the old name.
 */
export const JOB_QUEUE_NAMES: Record<JobFamily, string> = {
  image: 'job-image',
  video: 'job-video',
  mj: 'job-mj',
  audio: 'job-audio',
  embedding: 'job-embedding',
};
export const MAINTENANCE_QUEUE = 'maintenance';

/**
 * WARNING: persisted (queue name, payload, job ids `<job id>-c<index>`). One chunk of an
 * `embedding.batch` job; runs under the embedding lane's limits.
 */
export const EMBEDDING_CHUNK_QUEUE = 'embedding-chunk';
export const EmbeddingChunkRefSchema = z.object({ jobId: idSchema('job', 'a job id'), index: z.int().min(0) });
export type EmbeddingChunkRef = z.infer<typeof EmbeddingChunkRefSchema>;

/**
 * WARNING: persisted (queue name, payload, job ids `<delivery id>-a<attempt count>`). One attempt of
 * one webhook delivery; the payload is only the delivery id, the row is the truth.
 */
export const WEBHOOK_DELIVER_QUEUE = 'webhook-deliver';
export const WebhookDeliveryRefSchema = z.object({ deliveryId: idSchema('whd', 'a delivery id') });
export type WebhookDeliveryRef = z.infer<typeof WebhookDeliveryRefSchema>;

/**
 * WARNING: persisted. The BullMQ prefix of one queue: the deployment's prefix plus the queue's own
 * Redis Cluster hash tag (`gq:{job-image}` → keys `gq:{job-image}:job-image:wait`, …). Every key of a
 * queue shares one slot, as BullMQ's scripts need, while different queues spread over a cluster's
 * shards. Braces in the deployment prefix are dropped: a tag there would pin every queue to one slot.
 */
export function queuePrefix(prefix: string, queueName: string): string {
  return `${withoutHashTag(prefix)}:{${queueName}}`;
}

/** The deployment prefix without `{…}` hash-tag braces (older settings wrote `{gq}`). */
export function withoutHashTag(prefix: string): string {
  return prefix.replace(/[{}]/g, '');
}

/** WARNING: API and worker processes meet on this pub/sub channel; both must derive it the same way. */
export function jobEventsChannel(prefix: string): string {
  return `${prefix}:job-events`;
}

export const ALL_QUEUE_NAMES: readonly string[] = [...JOB_FAMILIES.map((f) => JOB_QUEUE_NAMES[f]), MAINTENANCE_QUEUE];

export function queueNameFor(family: JobFamily): string {
  return JOB_QUEUE_NAMES[family];
}

/** The BullMQ backoff type the worker answers with exponential backoff plus jitter. */
export const JITTER_BACKOFF = 'exponential-jitter';

/**
 * Redis memory stays flat: finished BullMQ entries go away (the row in Postgres is the history).
 * Given to the Workers, not to each job: options on the job are stored in its hash, and these made a
 * queued job's hash about 150 bytes larger.
 */
export const FINISHED_RETENTION = {
  removeOnComplete: { age: 3_600, count: 10_000 },
  removeOnFail: { age: 86_400, count: 10_000 },
};

/**
 * BullMQ appends every change of every job to a per-queue event stream, trimmed to 10,000 entries
 * by default. Nothing here reads it (no QueueEvents: the job rows and our own event bus carry the
 * history), so each queue keeps only the latest few hundred, which an operator can still `XRANGE`.
 */
export const QUEUE_EVENTS_MAX_LEN = 500;

/** The options of every BullMQ Queue we construct: its prefix (with the cluster hash tag) and its event stream's length. */
export function queueOptions(connection: Redis, prefix: string, name: string): QueueOptions {
  return { connection, prefix: queuePrefix(prefix, name), skipWaitingForReady: true, streams: { events: { maxLen: QUEUE_EVENTS_MAX_LEN } } };
}
