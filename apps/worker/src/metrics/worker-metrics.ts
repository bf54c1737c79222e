import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { JOB_ERROR_CODES, JOB_TYPE_NAMES, isFinalStatus } from '@genqueue/core';
import type { JobAttemptEntry } from '@genqueue/db';
import type { CommittedChange } from '@genqueue/queue';
import type { UpstreamRequestObservation } from '@genqueue/upstream';
import type { SweepReport } from '../sweeper';

/**
 * Label values come from closed sets only (job types, statuses, error codes, lanes, outcomes):
 * anything else is `other`, so a bad row or a new upstream code can never grow a series per value.
 */
const KNOWN_TYPES = new Set<string>(JOB_TYPE_NAMES);
const KNOWN_CODES = new Set<string>(JOB_ERROR_CODES);
const bounded = (value: string | undefined, known: ReadonlySet<string>): string => (value !== undefined && known.has(value) ? value : 'other');
export const jobTypeLabel = (type: string | undefined): string => bounded(type, KNOWN_TYPES);

/** Where a webhook attempt ended: sent and answered 2xx, to be retried, failed for good, 410, or not sent. */
export type WebhookAttemptOutcome = 'delivered' | 'retry' | 'failed' | 'gone' | 'blocked';

/** Jobs last seconds to hours (MJ up to an hour, batches longer). */
const JOB_SECONDS_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1_800, 3_600, 7_200];
const UPSTREAM_SECONDS_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Remembered job types of recent changes, so a failed run (which carries only the job id) gets its type. */
const TYPE_MEMORY = 10_000;

/**
 * The worker process's Prometheus metrics. Counters and histograms are fed at narrow seams (the
 * event bus, the attempt log, the upstream observer, the webhook processor, the sweeper's report);
 * gauges of shared state (queues, lanes, Postgres figures) are read at scrape time (collectors.ts).
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly jobTypes = new Map<string, string>();

  readonly jobsSubmitted = new Counter({
    name: 'genqueue_jobs_submitted_total',
    help: 'Jobs created, by type (counted by the process that wrote them: the API)',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly jobsFinished = new Counter({
    name: 'genqueue_jobs_finished_total',
    help: 'Jobs that reached a final status, by type and status, counted by the process that wrote the change',
    labelNames: ['type', 'status'],
    registers: [this.registry],
  });
  readonly jobDuration = new Histogram({
    name: 'genqueue_job_duration_seconds',
    help: 'From a job start to its final status, by type (jobs that never started are not observed)',
    labelNames: ['type'],
    buckets: JOB_SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly jobQueueWait = new Histogram({
    name: 'genqueue_job_queue_wait_seconds',
    help: 'From a job being queued (submitted, or retried) to a worker starting it, by type',
    labelNames: ['type'],
    buckets: JOB_SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly jobAttempts = new Histogram({
    name: 'genqueue_job_attempts',
    help: 'Runs a job used by the time it reached a final status, by type',
    labelNames: ['type'],
    buckets: [0, 1, 2, 3, 4, 5, 7, 10, 20],
    registers: [this.registry],
  });
  readonly failedRuns = new Counter({
    name: 'genqueue_job_failed_runs_total',
    help: 'Runs that failed, by type, what came of it (retried, rate_limited, waited, failed) and error code',
    labelNames: ['type', 'outcome', 'code'],
    registers: [this.registry],
  });
  readonly projectLimitWaits = new Counter({
    name: 'genqueue_job_project_limit_waits_total',
    help: "Starts refused because the job's project runs its max_running_jobs (the job waits for a slot), by queue",
    labelNames: ['queue'],
    registers: [this.registry],
  });
  readonly sweeperRepairs = new Counter({
    name: 'genqueue_sweeper_repairs_total',
    help: 'What the sweeper repaired, by kind (requeued, expired, timed_out, webhooks_requeued)',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly sweeperRuns = new Counter({
    name: 'genqueue_sweeper_runs_total',
    help: 'Sweeper ticks this process ran (it holds the lease), by result (ok, error)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly upstreamRequests = new Counter({
    name: 'genqueue_upstream_requests_total',
    help: 'Requests to the gateway (and result downloads), by route family and outcome (ok, 4xx, 429, 5xx, timeout, network)',
    labelNames: ['family', 'outcome'],
    registers: [this.registry],
  });
  readonly upstreamDuration = new Histogram({
    name: 'genqueue_upstream_request_duration_seconds',
    help: 'Time to the response headers (or the failure) of gateway requests, by route family',
    labelNames: ['family'],
    buckets: UPSTREAM_SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly taskPolls = new Counter({
    name: 'genqueue_upstream_task_polls_total',
    help: 'Status polls of parked gateway tasks, by kind (video, mj); an MJ batch counts each task it asks for',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly mjPollBatch = new Histogram({
    name: 'genqueue_upstream_mj_poll_batch_size',
    help: 'Task ids per batched MJ status poll (list-by-condition)',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [this.registry],
  });
  readonly webhookAttempts = new Counter({
    name: 'genqueue_webhook_attempts_total',
    help: 'Webhook delivery attempts, by outcome (delivered, retry, failed, gone, blocked: not sent)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly webhookDelay = new Histogram({
    name: 'genqueue_webhook_delivery_delay_seconds',
    help: "From the job event to the receiver's 2xx answer, retries included",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1_800, 7_200, 36_000, 86_400],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'genqueue_worker_' });
  }

  /** A committed job change announced by this process (JobEventBus.observe). */
  jobChange(change: CommittedChange, nowMs = Date.now()): void {
    const { job, event } = change;
    if (job.type !== undefined) this.rememberType(job.id, job.type);
    const type = jobTypeLabel(job.type);
    if (event.type === 'job.created') this.jobsSubmitted.inc({ type });
    if (event.type === 'job.started') {
      // queued since: the queue TTL's start (a retry starts it again), else the submit
      const queuedAtMs = job.queueExpiresAt && job.ttlSec !== undefined ? job.queueExpiresAt.getTime() - job.ttlSec * 1000 : job.createdAt?.getTime();
      const startedMs = job.startedAt?.getTime() ?? nowMs;
      if (queuedAtMs !== undefined) this.jobQueueWait.observe({ type }, Math.max(0, startedMs - queuedAtMs) / 1000);
    }
    if (isFinalStatus(job.status)) {
      this.jobsFinished.inc({ type, status: job.status });
      if (job.startedAt) this.jobDuration.observe({ type }, Math.max(0, (job.finishedAt?.getTime() ?? nowMs) - job.startedAt.getTime()) / 1000);
      if (job.attempts !== undefined) this.jobAttempts.observe({ type }, job.attempts);
      this.jobTypes.delete(job.id);
    }
  }

  /** A failed run's attempt-log row, with the type of its job. */
  failedRun(entry: JobAttemptEntry, type: string): void {
    this.failedRuns.inc({ type: jobTypeLabel(type), outcome: entry.outcome, code: bounded(entry.error.code, KNOWN_CODES) });
  }

  knownType(jobId: string): string | undefined {
    return this.jobTypes.get(jobId);
  }

  upstreamRequest(observation: UpstreamRequestObservation): void {
    this.upstreamRequests.inc({ family: observation.family, outcome: observation.outcome });
    this.upstreamDuration.observe({ family: observation.family }, observation.durationMs / 1000);
  }

  webhookAttempt(outcome: WebhookAttemptOutcome, eventAt?: Date, nowMs = Date.now()): void {
    this.webhookAttempts.inc({ outcome });
    if (outcome === 'delivered' && eventAt) this.webhookDelay.observe(Math.max(0, nowMs - eventAt.getTime()) / 1000);
  }

  sweep(report: SweepReport): void {
    this.sweeperRuns.inc({ result: 'ok' });
    this.sweeperRepairs.inc({ kind: 'requeued' }, report.requeued);
    this.sweeperRepairs.inc({ kind: 'expired' }, report.expired);
    this.sweeperRepairs.inc({ kind: 'timed_out' }, report.timedOut);
    this.sweeperRepairs.inc({ kind: 'webhooks_requeued' }, report.webhooksQueued ?? 0);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private rememberType(jobId: string, type: string): void {
    if (this.jobTypes.has(jobId)) return;
    if (this.jobTypes.size >= TYPE_MEMORY) {
      const oldest = this.jobTypes.keys().next().value;
      if (oldest !== undefined) this.jobTypes.delete(oldest);
    }
    this.jobTypes.set(jobId, type);
  }
}
