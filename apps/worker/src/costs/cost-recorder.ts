import {
  isFinalStatus,
  isGatewayTaskType,
  mjPriceModel,
  unitsFromMjPrice,
  unitsFromUsage,
  unitsFromVideoRatios,
  type PriceCatalog,
} from '@genqueue/core';
import type { CostsRepository, Job, NewCostEntry, PrismaClient } from '@genqueue/db';
import type { CommittedChange } from '@genqueue/queue';
import type { Logger } from 'pino';
import type { BalanceReader } from './balance-reader';
import { CostEntryWriter } from './cost-entry-writer';
import { videoBillingBasis, type VideoBillingBasis } from './video-billing-basis';

/** Job types whose gateway charge the tasks record at submit (and refund on a failed task): the catalog's gateway tasks. */
const isTaskType = isGatewayTaskType;
/** Recordings in flight per process (those that read balances; a job priced from its own usage is one insert, not counted). */
const MAX_IN_FLIGHT = 4;
/** How long a ledger insert waits for the entries of other jobs before it goes (see CostEntryWriter). */
const LEDGER_LINGER_MS = 25;
/** Types whose answers carry token usage; they need no balance reads around them. */
const USAGE_TYPES = new Set(['media.chat', 'embedding.batch']);

/** What a task kind tells the ledger (apps/worker/src/tasks). Never throws: the ledger must not fail a job. */
export interface TaskCosts {
  /**
   * a video submit the gateway accepted, with its `X-New-Api-Other-Ratios` (undefined when absent);
   * `basis`: what it is billed by when the job's input does not say (a remix: its original's)
   */
  videoCharged(job: Job, taskId: string, otherRatios: Record<string, number> | undefined, basis?: VideoBillingBasis): Promise<void>;
  /** an MJ submit the gateway accepted (code 1/21/22); `free` for an action that opened a MODAL window */
  mjCharged(job: Job, taskId: string, kind: 'imagine' | 'action' | 'modal' | 'blend' | 'describe', customId?: string, free?: boolean): Promise<void>;
  /** the gateway reports the task failed: it refunds the task's charge */
  refunded(job: Job, taskId: string, reason: string): Promise<void>;
}

export type CostRecorderDeps = {
  prisma: PrismaClient;
  costs: CostsRepository;
  balance: BalanceReader;
  catalog: PriceCatalog;
  logger: Logger;
};

const asRecord = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

const inputModel = (job: Job): string | undefined => {
  const model = asRecord(job.input)?.['model'];
  return typeof model === 'string' ? model : undefined;
};

/** The announced job when it is a whole row (what pricing reads of it is there), else undefined. */
function wholeJobRow(job: CommittedChange['job']): Job | undefined {
  const row = job as Partial<Job>;
  const isWhole = row.type !== undefined && row.input !== undefined && row.output !== undefined && row.attempts !== undefined && row.startedAt !== undefined && row.finishedAt !== undefined;
  return isWhole ? (job as Job) : undefined;
}

/**
 * The worker side of the cost ledger. It watches the job changes this process announces (the event
 * bus's observers): a finished synchronous job is priced from its output's `usage`, or else
 * estimated from the gateway balance before and after it. Task kinds call it at submit and when the
 * gateway reports a task failed. Every entry has a key, so recording twice is harmless.
 */
export class CostRecorder implements TaskCosts {
  /** recordings waiting for a slot, and those in flight (a few at a time: two statements each, off the job's path) */
  private readonly waiting: Array<() => Promise<void>> = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** usage entries handed to the writer straight from the observer */
  private readonly direct = new Set<Promise<unknown>>();
  private readonly pendingTimers = new Set<NodeJS.Timeout>();
  private closed = false;
  private readonly entries: CostEntryWriter;

  constructor(private readonly deps: CostRecorderDeps) {
    this.entries = new CostEntryWriter(deps.costs, { lingerMs: LEDGER_LINGER_MS });
  }

  /** The event bus observer (synchronous, never throws): the work runs a few jobs at a time. */
  observe = (change: CommittedChange): void => {
    if (this.closed) return;
    const { job, event } = change;
    // the whole row of the change (the writers announce it) prices the job without reading it again
    if (isFinalStatus(job.status)) {
      const row = wholeJobRow(job);
      const entry = row && this.usageEntry(row);
      // priced from its own answer: no reads, straight to the grouped insert
      if (entry) this.recordDirect(entry);
      else this.enqueue(() => this.recordFinished(job.id, row));
    } else if (event.type === 'job.started' && job.type !== undefined && !isTaskType(job.type) && !USAGE_TYPES.has(job.type)) {
      // the balance before the gateway call, should the answer show no usage
      this.enqueue(async () => {
        await this.deps.balance.readForEstimate('job_start', job.id);
      }, false);
    }
  };

  /** Resolves when the work so far is done (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0 || this.waiting.length > 0 || this.direct.size > 0) await Promise.all([...this.inFlight, ...this.direct]);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.pendingTimers) clearTimeout(timer);
    await this.idle();
  }

  private recordDirect(entry: NewCostEntry): void {
    const recorded: Promise<unknown> = this.entries
      .record(entry)
      .catch((err: unknown) => this.deps.logger.warn({ err }, 'costs.record_failed'))
      .finally(() => this.direct.delete(recorded));
    this.direct.add(recorded);
  }

  private enqueue(work: () => Promise<void>, isQueued = true): void {
    const onError = (err: unknown) => this.deps.logger.warn({ err }, 'costs.record_failed');
    // a balance read of a job start goes out at once (before the job's own gateway call), not behind other work
    if (!isQueued) {
      work().catch(onError);
      return;
    }
    this.waiting.push(work);
    this.pump(onError);
  }

  private pump(onError: (err: unknown) => void): void {
    while (this.inFlight.size < MAX_IN_FLIGHT && this.waiting.length > 0) {
      const work = this.waiting.shift() as () => Promise<void>;
      const run: Promise<void> = work()
        .catch(onError)
        .finally(() => {
          this.inFlight.delete(run);
          this.pump(onError);
        });
      this.inFlight.add(run);
    }
  }

  /**
   * Prices a final job that has no ledger entry yet (the observer, and the timer's catch-up); `row`:
   * the job as its final change left it, when the caller holds it (else it is read).
   */
  async recordFinished(jobId: string, row?: Job): Promise<void> {
    const { costs } = this.deps;
    const job = row ?? (await costs.jobToPrice(jobId));
    if (!job || !isFinalStatus(job.status) || !job.startedAt) return;
    if (isTaskType(job.type)) return this.recoverTaskCharge(job);
    const entry = this.usageEntry(job);
    if (entry) await this.entries.record(entry);
    else await this.recordEstimate(job);
  }

  /** The entry of a finished synchronous job whose answer carried a usage the catalog prices; else null. */
  private usageEntry(job: Job): NewCostEntry | null {
    if (!isFinalStatus(job.status) || !job.startedAt || isTaskType(job.type) || job.status !== 'succeeded') return null;
    const usage = asRecord(asRecord(job.output)?.['usage']);
    if (!usage) return null;
    const model = inputModel(job);
    const derived = unitsFromUsage(this.deps.catalog, model, usage);
    if (!derived) return null;
    return {
      jobId: job.id,
      projectId: job.projectId,
      jobType: job.type,
      entryKey: `usage:${job.attempts}`,
      source: 'usage',
      units: derived.units,
      model: model ?? null,
      detail: derived.detail,
      chargedAt: job.finishedAt ?? new Date(),
    };
  }

  /** before − after balance, less what other jobs were charged in between; marked estimated. */
  private async recordEstimate(job: Job): Promise<void> {
    const { costs, prisma, balance } = this.deps;
    const finishedAt = job.finishedAt ?? new Date();
    const startedAt = job.startedAt ?? finishedAt;
    if ((await costs.forJob(job.id)).length > 0) return;
    // the read the job's start asked for (it goes out before the job's own gateway call), else the last
    // read before the start; what other jobs were charged since then is subtracted
    const before =
      (await prisma.gatewayBalanceSnapshot.findFirst({ where: { jobId: job.id, reason: 'job_start', availableUnits: { not: null } }, orderBy: { takenAt: 'asc' } })) ??
      (await costs.snapshotAtOrBefore(startedAt));
    let after = await costs.snapshotAtOrAfter(finishedAt);
    if (!after) {
      after = await balance.readForEstimate('job_finish', job.id);
      // none within the minimum gap, or a read sent before the job ended (joined in flight): later
      if (!after || after.takenAt.getTime() < finishedAt.getTime()) {
        this.retryLater(job.id, balance.waitMs() + 10);
        return;
      }
    }
    const base = { jobId: job.id, projectId: job.projectId, jobType: job.type, entryKey: `estimate:${job.attempts}`, source: 'balance_delta' as const, estimated: true, model: inputModel(job) ?? null, chargedAt: finishedAt };
    if (!before || before.availableUnits === null || after.availableUnits === null) {
      await this.entries.record({ ...base, units: 0, detail: { note: 'no balance snapshot before the job started', after_snapshot: after.id } });
      return;
    }
    const delta = Number(before.availableUnits) - Number(after.availableUnits);
    const others = await costs.unitsOfOthers(job.id, before.takenAt, after.takenAt);
    await this.entries.record({
      ...base,
      units: Math.max(0, delta - others),
      detail: { before_snapshot: before.id, after_snapshot: after.id, balance_delta: delta, other_jobs_units: others },
    });
  }

  private retryLater(jobId: string, delayMs: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.pendingTimers.delete(timer);
      this.enqueue(() => this.recordFinished(jobId));
    }, delayMs);
    timer.unref();
    this.pendingTimers.add(timer);
  }

  /**
   * A task job with an upstream task id but no entry (the worker stopped before recording): priced
   * from its input, and refunded when the gateway's last status says the task failed.
   */
  private async recoverTaskCharge(job: Job): Promise<void> {
    if (!job.upstreamTaskId || (await this.deps.costs.forJob(job.id)).length > 0) return;
    await this.recoverCharge(job, job.upstreamTaskId);
    if (job.status === 'failed' && /^(failed|failure|cancel)/i.test(job.upstreamStatus ?? '')) {
      await this.deps.costs.recordRefund(job.id, job.upstreamTaskId, job.finishedAt ?? new Date(), `task ${job.upstreamStatus} (recovered)`);
    }
  }

  private async recoverCharge(job: Job, taskId: string): Promise<void> {
    const input = asRecord(job.input) ?? {};
    if (job.type === 'video.generate' || job.type === 'video.remix') {
      // a remix is billed on its original's ratios: its chain of parents is read
      const basis = await videoBillingBasis(job, (id) => this.deps.prisma.job.findUnique({ where: { id } }));
      const { model, seconds, sizeRatio } = basis ?? { model: '', seconds: 4, sizeRatio: 1 };
      await this.charge(job, taskId, 'task_price', model || null, unitsFromVideoRatios(this.deps.catalog, model, { seconds, size: sizeRatio }), { recovered: true }, job.startedAt ?? undefined);
      return;
    }
    const kind = job.type.slice('mj.'.length) as Parameters<typeof mjPriceModel>[0];
    const customId = typeof input['custom_id'] === 'string' ? input['custom_id'] : undefined;
    const priceModel = mjPriceModel(kind, customId);
    await this.charge(job, taskId, 'task_price', priceModel, unitsFromMjPrice(this.deps.catalog, priceModel), { recovered: true }, job.startedAt ?? undefined);
  }

  private async charge(
    job: Job,
    taskId: string,
    source: 'billing_header' | 'task_price',
    model: string | null,
    derived: { units: number; detail: Record<string, unknown> },
    extra: Record<string, unknown> = {},
    chargedAt = new Date(),
  ): Promise<void> {
    await this.entries.record({
      jobId: job.id,
      projectId: job.projectId,
      jobType: job.type,
      entryKey: `task:${taskId}`,
      source,
      units: derived.units,
      model,
      detail: { ...derived.detail, task_id: taskId, ...extra },
      chargedAt,
    });
  }

  async videoCharged(job: Job, taskId: string, otherRatios: Record<string, number> | undefined, basis?: VideoBillingBasis): Promise<void> {
    const model = basis?.model ?? inputModel(job) ?? '';
    try {
      if (otherRatios) {
        await this.charge(job, taskId, 'billing_header', model, unitsFromVideoRatios(this.deps.catalog, model, otherRatios));
      } else if (basis) {
        const ratios = { seconds: basis.seconds, size: basis.sizeRatio };
        await this.charge(job, taskId, 'task_price', model, unitsFromVideoRatios(this.deps.catalog, model, ratios), { header_missing: true });
      } else {
        // no header (an older build): the ratios the gateway would have billed, from the input
        const input = asRecord(job.input) ?? {};
        const size = typeof input['size'] === 'string' ? input['size'] : '';
        const ratios = { seconds: Number(input['seconds'] ?? 4), size: size === '1792x1024' || size === '1024x1792' ? 1.666667 : 1 };
        await this.charge(job, taskId, 'task_price', model, unitsFromVideoRatios(this.deps.catalog, model, ratios), { header_missing: true });
      }
    } catch (err) {
      this.deps.logger.warn({ err, jobId: job.id }, 'costs.record_failed');
    }
  }

  async mjCharged(job: Job, taskId: string, kind: 'imagine' | 'action' | 'modal' | 'blend' | 'describe', customId?: string, free = false): Promise<void> {
    const priceModel = mjPriceModel(kind, customId);
    try {
      const derived = free ? { units: 0, detail: { price_model: priceModel, note: 'opened a MODAL window: billed with the mj.modal submit' } } : unitsFromMjPrice(this.deps.catalog, priceModel);
      await this.charge(job, taskId, 'task_price', priceModel, derived);
    } catch (err) {
      this.deps.logger.warn({ err, jobId: job.id }, 'costs.record_failed');
    }
  }

  async refunded(job: Job, taskId: string, reason: string): Promise<void> {
    try {
      await this.deps.costs.recordRefund(job.id, taskId, new Date(), reason);
    } catch (err) {
      this.deps.logger.warn({ err, jobId: job.id }, 'costs.record_failed');
    }
  }
}
