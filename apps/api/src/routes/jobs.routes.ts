import { Router, type Request } from 'express';
import { AppError, isFinalStatus, isId } from '@genqueue/core';
import type { Job } from '@genqueue/db';
import type { ApiDeps } from '../deps';
import { errorBody } from '../middleware/error-handler';
import { projectIdOf } from '../middleware/auth';
import { takeJobSubmissions } from '../middleware/rate-limit';
import { streamJobEvents } from '../services/job-event-stream';
import { targetProjectOf } from '../services/target-project';
import { parseListQuery } from './list-query';
import { BulkRequestSchema, EventsPageQuerySchema, IdempotencyKeySchema, LastEventIdSchema, WaitQuerySchema } from './schemas';
import { parseOr400 } from './validation';

/** `POST /v1/jobs` (under the router's mount): one job, whose rate-limit unit the request's own take counts. */
export const isSingleSubmission = (req: Request): boolean => req.method === 'POST' && req.path === '/';

export function jobsRoutes(deps: ApiDeps): Router {
  const router = Router();

  /**
   * The job named in the path, if it belongs to the caller's project (any project for the admin
   * key, unless it names one); 404 otherwise (never 403).
   */
  async function ownedJob(req: Request): Promise<Job> {
    const id = String(req.params['id']);
    const projectId = projectIdOf(req);
    let job: Job | null = null;
    if (isId('job', id)) {
      if (projectId) job = await deps.jobs.findForProject(projectId, id);
      else if (req.principal?.kind === 'admin') job = await deps.jobs.findById(id);
    }
    if (!job) throw new AppError('not_found', `Job ${id} not found`);
    return job;
  }

  /** The project new jobs go into: the key's own, or for the admin key an existing `?project_id=`. */
  const targetProjectId = (req: Request): Promise<string> => targetProjectOf(req, deps.projects);

  router.post('/', async (req, res) => {
    const projectId = await targetProjectId(req);
    const rawKey = req.header('Idempotency-Key');
    const key = rawKey === undefined ? null : parseOr400(IdempotencyKeySchema, rawKey, 'Idempotency-Key header', 'Idempotency-Key');
    await takeJobSubmissions(deps.rateLimits, req, 1);
    const { job, created } = await deps.submission.submit(projectId, req.body, key);
    res.status(created ? 202 : 200).json(created ? deps.views.created(job) : await deps.views.one(job));
  });

  router.post('/bulk', async (req, res) => {
    const projectId = await targetProjectId(req);
    const { jobs } = parseOr400(BulkRequestSchema, req.body, 'bulk request');
    await takeJobSubmissions(deps.rateLimits, req, jobs.length);
    const results = await deps.submission.submitMany(projectId, jobs);
    res.status(202).json({ object: 'list', data: results.map((r) => ('job' in r ? deps.views.created(r.job) : errorBody(r.error))) });
  });

  router.get('/', async (req, res) => {
    // A project key lists its own project; the admin key every project, or the one it names.
    const projectId = projectIdOf(req) ?? undefined;
    const { filter, limit, cursor } = parseListQuery(req);
    const page = await deps.jobQueries.list({ ...filter, projectId, q: undefined }, limit, cursor);
    res.json({ object: 'list', data: await deps.views.many(page.data), next_cursor: page.nextCursor });
  });

  router.get('/:id', async (req, res) => {
    const { wait } = parseOr400(WaitQuerySchema, req.query, 'query');
    let job = await ownedJob(req);
    if (wait > 0 && !isFinalStatus(job.status)) {
      // a held request takes one of the project's wait slots until it answers or the client leaves
      const release = deps.slots.waits.acquire(job.projectId);
      const closed = new AbortController();
      res.on('close', () => {
        release();
        closed.abort();
      });
      job = await deps.waiter.waitForFinal(job, wait, closed.signal);
    }
    res.json(await deps.views.one(job));
  });

  router.post('/:id/cancel', async (req, res) => {
    const job = await deps.actions.cancel(await ownedJob(req));
    res.json(await deps.views.one(job));
  });

  router.post('/:id/retry', async (req, res) => {
    const job = await deps.actions.retry(await ownedJob(req));
    res.status(202).json(await deps.views.one(job));
  });

  router.get('/:id/events', async (req, res) => {
    const job = await ownedJob(req);
    if (req.accepts(['text/event-stream', 'application/json']) === 'application/json') {
      // one page at a time: a long log is never loaded whole
      const query = parseOr400(EventsPageQuerySchema, req.query, 'query');
      const events = await deps.jobQueries.events(job.id, query.cursor ?? query.after_seq ?? 0, query.limit);
      const last = events[events.length - 1];
      const nextCursor = events.length === query.limit && last ? String(last.seq) : null;
      res.json({ object: 'list', data: events.map((e) => deps.views.event(e)), next_cursor: nextCursor });
      return;
    }
    const rawLastId = req.header('Last-Event-ID');
    const afterSeq = rawLastId === undefined ? 0 : parseOr400(LastEventIdSchema, rawLastId, 'Last-Event-ID header', 'Last-Event-ID');
    res.on('close', deps.slots.streams.acquire(job.projectId));
    await streamJobEvents(
      {
        jobs: deps.jobs,
        jobQueries: deps.jobQueries,
        events: deps.events,
        hub: deps.jobWatchHub,
        logger: deps.logger,
        render: (e) => deps.views.event(e),
        heartbeatMs: deps.settings.SSE_HEARTBEAT_MS,
      },
      job,
      afterSeq,
      res,
    );
  });

  return router;
}
