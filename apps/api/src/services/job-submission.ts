import { AppError, findJobType, parseJobRequest, type JobFamily } from '@genqueue/core';
import { isUniqueViolation, type ArtifactsRepository, type FilesRepository, type Job, type JobsRepository } from '@genqueue/db';
import type { JobEventBus, JobQueues } from '@genqueue/queue';
import type { ObjectStorage } from '@genqueue/storage';
import type { Logger } from 'pino';
import { bodyHash } from './canonical-json';
import { checkMediaReferences } from './media-references';
import { checkBatchFile } from './jsonl-validation';
import { checkTaskParent } from './task-parents';
import { assertWebhookUrlAllowed } from './webhook-urls';

export type SubmissionDeps = {
  jobs: JobsRepository;
  files: FilesRepository;
  artifacts: ArtifactsRepository;
  queues: JobQueues;
  events: JobEventBus;
  logger: Logger;
  retry: { maxAttempts: number; baseDelayMs: number };
  /** reads batch files to validate them at submission */
  storage?: ObjectStorage;
  /** ALLOW_PRIVATE_URLS: when false, webhook URLs at loopback/private addresses are refused with 400 */
  allowPrivateUrls?: boolean;
};

export type Submitted = { job: Job; created: boolean };

/** Validates, stores and enqueues one job. Nothing is written unless every check passed. */
export class JobSubmission {
  constructor(private readonly deps: SubmissionDeps) {}

  async submit(projectId: string, body: unknown, idempotencyKey: string | null): Promise<Submitted> {
    const parsed = parseJobRequest(body);
    if (!parsed.ok) throw new AppError('invalid_request', parsed.message, parsed.details);
    const request = parsed.value;
    const spec = findJobType(request.type);
    if (!spec) throw new AppError('invalid_request', `Unknown job type "${request.type}"`);
    assertWebhookUrlAllowed(request.webhook_url, this.deps.allowPrivateUrls ?? true, 'webhook_url');

    const hash = idempotencyKey ? bodyHash(body) : null;
    if (idempotencyKey) {
      const existing = await this.findIdempotent(projectId, idempotencyKey, hash);
      if (existing) return { job: existing, created: false };
    }

    const dangling = await checkMediaReferences(request.input, projectId, this.deps);
    if (dangling.length > 0) throw new AppError('invalid_request', 'The input refers to media that does not exist', dangling);
    const badLines = await checkBatchFile(spec.type, request.input, projectId, this.deps);
    if (badLines.length > 0) throw new AppError('invalid_request', 'The batch file is invalid', badLines);
    const parentId = await checkTaskParent(spec.type, request.input, projectId, this.deps.jobs);

    let change;
    try {
      change = await this.deps.jobs.create({
        projectId,
        type: spec.type,
        input: request.input,
        metadata: request.metadata ?? {},
        priority: request.priority ?? 5,
        webhookUrl: request.webhook_url ?? null,
        webhookEvents: request.webhook_events ?? [],
        idempotencyKey,
        idempotencyHash: hash,
        parentId,
        ttlSec: request.ttl_seconds ?? spec.clocks.ttlSec,
        inactivityTimeoutSec: spec.clocks.inactivitySec,
        deadlineSec: request.deadline_seconds ?? spec.clocks.deadlineSec,
      });
    } catch (err) {
      // Two requests with one key raced: the loser answers with the winner's job.
      if (idempotencyKey && isUniqueViolation(err)) {
        const existing = await this.findIdempotent(projectId, idempotencyKey, hash);
        if (existing) return { job: existing, created: false };
      }
      throw err;
    }
    await this.enqueue(spec.family, change.job);
    await this.deps.events.announce(change);
    return { job: change.job, created: true };
  }

  private async findIdempotent(projectId: string, key: string, hash: string | null): Promise<Job | null> {
    const existing = await this.deps.jobs.findByIdempotencyKey(projectId, key);
    if (!existing || existing.createdAt.getTime() < Date.now() - 86_400_000) return null;
    if (existing.idempotencyHash !== hash) {
      throw new AppError('conflict', 'This Idempotency-Key was used with a different request body');
    }
    return existing;
  }

  /** Best effort: with Redis down the row stays queued and the sweeper enqueues it later. */
  async enqueue(family: JobFamily, job: Job): Promise<void> {
    try {
      await this.deps.queues.enqueue(family, job.id, {
        priority: job.priority,
        maxAttempts: this.deps.retry.maxAttempts,
        backoffDelayMs: this.deps.retry.baseDelayMs,
      });
    } catch (err) {
      this.deps.logger.warn({ err, jobId: job.id }, 'job.enqueue_deferred');
    }
  }
}
