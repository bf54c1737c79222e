import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Request, RequestHandler, Response } from 'express';
import { isFinalStatus, JOB_TYPE_NAMES } from '@genqueue/core';
import type { CommittedChange } from '@genqueue/queue';

const KNOWN_TYPES = new Set<string>(JOB_TYPE_NAMES);
/** Label values from a closed set only: a type the catalog does not know is `other`. */
const typeLabel = (type: string | undefined): string => (type !== undefined && KNOWN_TYPES.has(type) ? type : 'other');

/**
 * Requests that stay open by design (SSE streams, `?wait=N` long polls) would fill the duration
 * histogram's top bucket and hide real slowness: they are counted, not timed.
 */
function isLongLived(req: Request, res: Response): boolean {
  if (req.query['wait'] !== undefined) return true;
  return String(res.getHeader('content-type') ?? '').startsWith('text/event-stream');
}

/** Prometheus metrics of one API process. */
export class ApiMetrics {
  private readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route'>;
  private readonly jobsSubmitted: Counter<'type'>;
  private readonly jobsFinished: Counter<'type' | 'status'>;
  readonly contentType = this.registry.contentType;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'genqueue_api_' });
    this.requests = new Counter({
      name: 'genqueue_http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'genqueue_http_request_duration_seconds',
      help: 'HTTP request duration; SSE streams and ?wait long polls are left out (they stay open by design)',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
      registers: [this.registry],
    });
    this.jobsSubmitted = new Counter({
      name: 'genqueue_jobs_submitted_total',
      help: 'Jobs created, by type',
      labelNames: ['type'],
      registers: [this.registry],
    });
    this.jobsFinished = new Counter({
      name: 'genqueue_jobs_finished_total',
      help: 'Jobs that reached a final status, by type and status, counted by the process that wrote the change (here: cancels and expiries done by the API)',
      labelNames: ['type', 'status'],
      registers: [this.registry],
    });
  }

  /** A committed job change this process announced (JobEventBus.observe). */
  jobChange(change: CommittedChange): void {
    const type = typeLabel(change.job.type);
    if (change.event.type === 'job.created') this.jobsSubmitted.inc({ type });
    if (isFinalStatus(change.job.status)) this.jobsFinished.inc({ type, status: change.job.status });
  }

  /** A gauge read at scrape time, one sample per label value `read` answers. */
  gauge(name: string, help: string, label: string, read: () => Record<string, number>): void {
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [this.registry],
      collect() {
        for (const [value, n] of Object.entries(read())) this.set({ [label]: value }, n);
      },
    });
  }

  middleware(): RequestHandler {
    return (req, res, next) => {
      const stop = this.duration.startTimer();
      // `close` comes for every response, also a stream the client left before it finished
      res.once('close', () => {
        const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
        if (!isLongLived(req, res)) stop({ method: req.method, route });
        this.requests.inc({ method: req.method, route, status: String(res.statusCode) });
      });
      next();
    };
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
