import { Router, type Request } from 'express';
import { z } from 'zod';
import { AppError, idSchema, isId, JOB_STATUSES, JobErrorSchema, MetadataSchema } from '@genqueue/core';
import type { Job, JobAttempt, JobListFilter } from '@genqueue/db';
import type { ApiDeps } from '../deps';
import { sendArtifact } from '../services/artifact-content';
import type { BulkActionKind } from '../services/bulk-actions';
import { allEvents } from '../services/job-event-stream';
import { assertProjectExists } from '../services/target-project';
import { parseListQuery } from './list-query';
import { AdminListJobsQuerySchema, IdempotencyKeySchema, StatusListSchema } from './schemas';
import { parseOr400 } from './validation';

/** `POST /admin/v1/jobs`: the body of `POST /v1/jobs` plus the project it goes into. */
export const AdminSubmitEnvelopeSchema = z.looseObject({
  project_id: idSchema('prj', 'a project id'),
});

/** The list filters of `GET /admin/v1/jobs`, as a JSON object (metadata as an object). */
export const BulkJobFilterSchema = z.strictObject({
  project_id: z.string().max(64).optional(),
  type: z.string().max(64).optional(),
  status: z.union([StatusListSchema, z.array(z.enum(JOB_STATUSES)).min(1).max(JOB_STATUSES.length)]).optional(),
  created_after: z.iso.datetime({ offset: true }).optional(),
  created_before: z.iso.datetime({ offset: true }).optional(),
  metadata: MetadataSchema.optional(),
  q: z.string().trim().min(1).max(200).optional(),
});

/** `POST /admin/v1/jobs/bulk-cancel` and `bulk-retry`: the jobs by id, or every job a filter matches. */
export const BulkActionRequestSchema = z
  .strictObject({
    ids: z.array(idSchema('job', 'a job id')).min(1, 'needs at least one id').max(1000, 'at most 1000 ids').optional(),
    filter: BulkJobFilterSchema.optional(),
  })
  .refine((body) => (body.ids === undefined) !== (body.filter === undefined), { message: 'send either ids or filter', path: ['ids'] });

function filterOf(filter: z.infer<typeof BulkJobFilterSchema>): JobListFilter {
  return {
    projectId: filter.project_id,
    type: filter.type,
    status: filter.status,
    createdAfter: filter.created_after ? new Date(filter.created_after) : undefined,
    createdBefore: filter.created_before ? new Date(filter.created_before) : undefined,
    metadata: filter.metadata,
    q: filter.q,
  };
}

/** A failed run of a job (`GET /admin/v1/jobs/{id}/attempts`). */
export const JobAttemptSchema = z.object({
  attempt: z.int(),
  outcome: z.enum(['retried', 'rate_limited', 'failed']),
  error: JobErrorSchema,
  at: z.string(),
});

/** `GET /admin/v1/jobs/count`. */
export const JobCountSchema = z.object({ object: z.literal('count'), count: z.int() });

function attemptView(attempt: JobAttempt): Record<string, unknown> {
  return { attempt: attempt.attempt, outcome: attempt.outcome, error: attempt.error, at: attempt.createdAt.toISOString() };
}

/** The admin's job routes (admin-api.md, Jobs): any project's jobs, each answered with its `project_id`. */
export function adminJobsRoutes(deps: ApiDeps): Router {
  const router = Router();

  async function jobOf(req: Request): Promise<Job> {
    const id = String(req.params['id']);
    const job = isId('job', id) ? await deps.jobs.findById(id) : null;
    if (!job) throw new AppError('not_found', `Job ${id} not found`);
    return job;
  }

  const viewOf = async (job: Job) => ({ ...(await deps.views.one(job)), project_id: job.projectId });

  router.get('/jobs', async (req, res) => {
    const { filter, limit, cursor } = parseListQuery(req, AdminListJobsQuerySchema);
    const page = await deps.jobQueries.list(filter, limit, cursor);
    const data = await deps.views.many(page.data);
    res.json({
      object: 'list',
      data: data.map((job, i) => ({ ...job, project_id: page.data[i]?.projectId })),
      next_cursor: page.nextCursor,
    });
  });

  router.get('/jobs/count', async (req, res) => {
    const { filter } = parseListQuery(req, AdminListJobsQuerySchema);
    res.json({ object: 'count', count: await deps.jobQueries.count(filter) });
  });

  router.post('/jobs', async (req, res) => {
    const { project_id: projectId, ...body } = parseOr400(AdminSubmitEnvelopeSchema, req.body ?? {}, 'job request');
    await assertProjectExists(deps.projects, projectId);
    const rawKey = req.header('Idempotency-Key');
    const key = rawKey === undefined ? null : parseOr400(IdempotencyKeySchema, rawKey, 'Idempotency-Key header', 'Idempotency-Key');
    const { job, created } = await deps.submission.submit(projectId, body, key);
    res.status(created ? 202 : 200).json(await viewOf(job));
  });

  const bulk = (action: BulkActionKind) =>
    router.post(`/jobs/bulk-${action}`, async (req, res) => {
      const body = parseOr400(BulkActionRequestSchema, req.body ?? {}, 'bulk request');
      const view = body.ids
        ? await deps.bulkActions.startByIds(action, body.ids)
        : await deps.bulkActions.startByFilter(action, filterOf(body.filter ?? {}));
      res.status(202).json(view);
    });
  bulk('cancel');
  bulk('retry');

  router.get('/bulk-actions/:id', async (req, res) => {
    const id = String(req.params['id']);
    const view = isId('bulk', id) ? await deps.bulkActions.get(id) : null;
    if (!view) throw new AppError('not_found', `Bulk action ${id} not found (they are kept for 24 h)`);
    res.json(view);
  });

  router.get('/jobs/:id', async (req, res) => {
    const id = String(req.params['id']);
    const job = isId('job', id) ? await deps.adminQueries.jobWithProjectName(id) : null;
    if (!job) throw new AppError('not_found', `Job ${id} not found`);
    res.json({ ...(await viewOf(job)), project_name: job.projectName, upstream_state: job.upstreamState ?? null });
  });

  router.get('/jobs/:id/events', async (req, res) => {
    const job = await jobOf(req);
    const events = await allEvents(deps.jobQueries, job.id);
    res.json({ object: 'list', data: events.map((e) => deps.views.event(e)) });
  });

  router.get('/jobs/:id/attempts', async (req, res) => {
    const job = await jobOf(req);
    res.json({ object: 'list', data: (await deps.adminQueries.jobAttempts(job.id)).map(attemptView) });
  });

  router.get('/jobs/:id/children', async (req, res) => {
    const job = await jobOf(req);
    const children = await deps.adminQueries.jobChildren(job.id);
    const views = await deps.views.many(children);
    res.json({ object: 'list', data: views.map((view, i) => ({ ...view, project_id: children[i]?.projectId })) });
  });

  router.post('/jobs/:id/cancel', async (req, res) => {
    res.json(await viewOf(await deps.actions.cancel(await jobOf(req))));
  });

  router.post('/jobs/:id/retry', async (req, res) => {
    res.status(202).json(await viewOf(await deps.actions.retry(await jobOf(req))));
  });

  router.get('/artifacts/:id/content', async (req, res) => {
    const id = String(req.params['id']);
    const artifact = isId('art', id) ? await deps.artifacts.findById(id) : null;
    if (!artifact) throw new AppError('not_found', `Artifact ${id} not found`);
    await sendArtifact(deps, artifact, req, res);
  });

  return router;
}
