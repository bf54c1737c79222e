import { AppError, findJobType, parseJobRequest, type JobFamily } from '@genqueue/core';
import { isUniqueViolation, type ArtifactsRepository, type FilesRepository, type Job, type JobsRepository, type NewJob } from '@genqueue/db';
import type { JobEventBus, JobQueues } from '@genqueue/queue';
import { currentLogContext } from '@genqueue/config';
import type { ObjectStorage } from '@genqueue/storage';
import type { Logger } from 'pino';
import { bodyHash } from './canonical-json';
import { checkMediaReferences } from './media-references';
import { BatchFileValidator } from './jsonl-validation';
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

type JobRequest = Extract<ReturnType<typeof parseJobRequest>, { ok: true }>['value'];
type Prepared = { family: JobFamily; job: NewJob };

/** The body as a job request, or the 400 that says what is wrong with it (no I/O). */
function validRequest(body: unknown, allowPrivateUrls: boolean): JobRequest {
  const parsed = parseJobRequest(body);
  if (!parsed.ok) throw new AppError('invalid_request', parsed.message, parsed.details);
  assertWebhookUrlAllowed(parsed.value.webhook_url, allowPrivateUrls, 'webhook_url');
  return parsed.value;
}

/** Validates, stores and enqueues one job. Nothing is written unless every check passed. */
export class JobSubmission {
  private readonly batchFiles: BatchFileValidator;

  constructor(private readonly deps: SubmissionDeps) {
    this.batchFiles = new BatchFileValidator(deps);
  }

  async submit(projectId: string, body: unknown, idempotencyKey: string | null): Promise<Submitted> {
    const request = validRequest(body, this.deps.allowPrivateUrls ?? true);
    const hash = idempotencyKey ? bodyHash(body) : null;
    if (idempotencyKey) {
      const existing = await this.findIdempotent(projectId, idempotencyKey, hash);
      if (existing) return { job: existing, created: false };
    }
    const prepared = await this.prepare(projectId, request, { key: idempotencyKey, hash });

    let change;
    try {
      change = await this.deps.jobs.create(prepared.job);
    } catch (err) {
      // Two requests with one key raced: the loser answers with the winner's job.
      if (idempotencyKey && isUniqueViolation(err)) {
        const existing = await this.findIdempotent(projectId, idempotencyKey, hash);
        if (existing) return { job: existing, created: false };
      }
      throw err;
    }
    await this.enqueue(prepared.family, change.job);
    await this.deps.events.announce(change);
    return { job: change.job, created: true };
  }

  /**
   * A bulk submission: each body is checked on its own (a bad one answers its error in its place),
   * the good ones are stored in one transaction and queued in one round trip per family.
   */
  async submitMany(projectId: string, bodies: readonly unknown[]): Promise<Array<{ job: Job } | { error: AppError }>> {
    const prepared: Array<Prepared | { error: AppError }> = [];
    for (const body of bodies) {
      try {
        prepared.push(await this.prepare(projectId, validRequest(body, this.deps.allowPrivateUrls ?? true), { key: null, hash: null }));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        prepared.push({ error: err });
      }
    }
    const good = prepared.filter((p): p is Prepared => !('error' in p));
    const changes = await this.deps.jobs.createMany(good.map((p) => p.job));
    const byFamily = new Map<JobFamily, Job[]>();
    good.forEach((p, i) => {
      const jobs = byFamily.get(p.family);
      if (jobs) jobs.push(changes[i]!.job);
      else byFamily.set(p.family, [changes[i]!.job]);
    });
    // the signals need not wait for the queues: both only follow the commit
    await Promise.all([...[...byFamily].map(([family, jobs]) => this.enqueueMany(family, jobs)), this.deps.events.announceMany(changes)]);
    let next = 0;
    return prepared.map((p) => ('error' in p ? { error: p.error } : { job: changes[next++]!.job }));
  }

  /** The checks that need the database (media, batch file, task parent), and the row to write. */
  private async prepare(projectId: string, request: JobRequest, idempotency: { key: string | null; hash: string | null }): Promise<Prepared> {
    const spec = findJobType(request.type);
    if (!spec) throw new AppError('invalid_request', `Unknown job type "${request.type}"`);
    const dangling = await checkMediaReferences(request.input, projectId, this.deps);
    if (dangling.length > 0) throw new AppError('invalid_request', 'The input refers to media that does not exist', dangling);
    const badLines = await this.batchFiles.check(spec.type, request.input, projectId);
    if (badLines.length > 0) throw new AppError('invalid_request', 'The batch file is invalid', badLines);
    const parentId = await checkTaskParent(spec.type, request.input, projectId, this.deps.jobs);
    return {
      family: spec.family,
      job: {
        projectId,
        type: spec.type,
        input: request.input,
        metadata: request.metadata ?? {},
        priority: request.priority ?? 5,
        webhookUrl: request.webhook_url ?? null,
        webhookEvents: request.webhook_events ?? [],
        idempotencyKey: idempotency.key,
        idempotencyHash: idempotency.hash,
        parentId,
        ttlSec: request.ttl_seconds ?? spec.clocks.ttlSec,
        inactivityTimeoutSec: spec.clocks.inactivitySec,
        deadlineSec: request.deadline_seconds ?? spec.clocks.deadlineSec,
      },
    };
  }

  private async findIdempotent(projectId: string, key: string, hash: string | null): Promise<Job | null> {
    const existing = await this.deps.jobs.findByIdempotencyKey(projectId, key);
    if (!existing || existing.createdAt.getTime() < Date.now() - 86_400_000) return null;
    if (existing.idempotencyHash !== hash) {
      throw new AppError('conflict', 'This Idempotency-Key was used with a different request body');
    }
    return existing;
  }

  /** Best effort, as `enqueue`. */
  private async enqueueMany(family: JobFamily, jobs: readonly Job[]): Promise<void> {
    const options = { maxAttempts: this.deps.retry.maxAttempts, backoffDelayMs: this.deps.retry.baseDelayMs, requestId: currentLogContext().request_id };
    try {
      await this.deps.queues.enqueueMany(family, jobs.map((job) => ({ jobId: job.id, options: { ...options, projectId: job.projectId, priority: job.priority } })));
    } catch (err) {
      this.deps.logger.warn({ err, jobs: jobs.length }, 'job.enqueue_deferred');
    }
  }

  /** Best effort: with Redis down the row stays queued and the sweeper enqueues it later. */
  async enqueue(family: JobFamily, job: Job): Promise<void> {
    try {
      await this.deps.queues.enqueue(family, job.id, {
        projectId: job.projectId,
        priority: job.priority,
        maxAttempts: this.deps.retry.maxAttempts,
        backoffDelayMs: this.deps.retry.baseDelayMs,
        requestId: currentLogContext().request_id,
      });
    } catch (err) {
      this.deps.logger.warn({ err, jobId: job.id }, 'job.enqueue_deferred');
    }
  }
}
