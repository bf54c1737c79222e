import { Router, type Request } from 'express';
import { AppError } from '@genqueue/core';
import type { Job } from '@genqueue/db';
import type { ApiDeps } from '../deps';
import { errorBody } from '../middleware/error-handler';
import { requireProjectId } from '../middleware/auth';
import { parseListQuery } from './list-query';
import { BulkRequestSchema, IdempotencyKeySchema, JOB_ID_PATTERN, WaitQuerySchema } from './schemas';
import { parseOr400 } from './validation';

export function jobsRoutes(deps: ApiDeps): Router {
  const router = Router();

  /** The job named in the path, if it belongs to the caller's project; 404 otherwise (never 403). */
  async function ownedJob(req: Request): Promise<Job> {
    const id = String(req.params['id']);
    const projectId = requireProjectId(req);
    const job = JOB_ID_PATTERN.test(id) ? await deps.jobs.findForProject(projectId, id) : null;
    if (!job) throw new AppError('not_found', `Job ${id} not found`);
    return job;
  }

  router.post('/', async (req, res) => {
    const projectId = requireProjectId(req);
    const rawKey = req.header('Idempotency-Key');
    const key = rawKey === undefined ? null : parseOr400(IdempotencyKeySchema, rawKey, 'Idempotency-Key header', 'Idempotency-Key');
    const { job, created } = await deps.submission.submit(projectId, req.body, key);
    res.status(created ? 202 : 200).json(await deps.views.one(job));
  });

  router.post('/bulk', async (req, res) => {
    const projectId = requireProjectId(req);
    const { jobs } = parseOr400(BulkRequestSchema, req.body, 'bulk request');
    const data: unknown[] = [];
    for (const item of jobs) {
      try {
        const { job } = await deps.submission.submit(projectId, item, null);
        data.push(await deps.views.one(job));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        data.push(errorBody(err));
      }
    }
    res.status(202).json({ object: 'list', data });
  });

  router.get('/', async (req, res) => {
    const projectId = requireProjectId(req);
    const { filter, limit, cursor } = parseListQuery(req);
    const page = await deps.jobQueries.list({ ...filter, projectId, q: undefined }, limit, cursor);
    res.json({ object: 'list', data: await deps.views.many(page.data), next_cursor: page.nextCursor });
  });

  router.get('/:id', async (req, res) => {
    const { wait } = parseOr400(WaitQuerySchema, req.query, 'query');
    let job = await ownedJob(req);
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    job = await deps.waiter.waitForFinal(job, wait, () => closed);
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
    const events = await deps.jobQueries.events(job.id);
    res.json({ object: 'list', data: events.map((e) => deps.views.event(e)) });
  });

  return router;
}
