import { Router } from 'express';
import { AppError } from '@genqueue/core';
import { isUniqueViolation, type Project } from '@genqueue/db';
import type { ApiDeps } from '../deps';
import { parseListQuery } from './list-query';
import { CreateApiKeySchema, CreateProjectSchema, UpdateProjectSchema } from './schemas';
import { parseOr400 } from './validation';

function publicProject(project: Project): Record<string, unknown> {
  return { id: project.id, object: 'project', name: project.name, limits: project.limits, created_at: project.createdAt.toISOString() };
}

/** Most jobs a change of `max_running_jobs` wakes at once; the rest follow as slots free up. */
const MAX_WAKES_PER_CHANGE = 100;

/**
 * A raised or removed running limit has room now: wake that many waiting jobs (each checks the
 * limit again as it starts, so an extra wake only puts a job back to wait). Best effort: the
 * waiting jobs' backstop covers Redis trouble.
 */
async function wakeWaiting(deps: ApiDeps, projectId: string, maxRunningJobs: number | null): Promise<void> {
  const wakes = Math.min(MAX_WAKES_PER_CHANGE, maxRunningJobs ?? MAX_WAKES_PER_CHANGE);
  try {
    for (let i = 0; i < wakes; i += 1) if (!(await deps.waitingRoom.wakeOne(projectId))) return;
  } catch (err) {
    deps.logger.warn({ err, projectId }, 'project.wake_deferred');
  }
}

export function adminRoutes(deps: ApiDeps): Router {
  const router = Router();

  router.post('/projects', async (req, res) => {
    const body = parseOr400(CreateProjectSchema, req.body, 'project');
    try {
      res.status(201).json(publicProject(await deps.projects.create(body.name, body.limits ?? {})));
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('conflict', `A project named "${body.name}" already exists`);
      throw err;
    }
  });

  router.patch('/projects/:id', async (req, res) => {
    const body = parseOr400(UpdateProjectSchema, req.body, 'project change');
    const id = String(req.params['id']);
    try {
      const project = await deps.projects.update(id, body);
      if (!project) throw new AppError('not_found', `Project ${id} not found`);
      if (body.limits && 'max_running_jobs' in body.limits) await wakeWaiting(deps, project.id, body.limits.max_running_jobs ?? null);
      res.json(publicProject(project));
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('conflict', `A project named "${body.name}" already exists`);
      throw err;
    }
  });

  router.get('/projects', async (_req, res) => {
    res.json({ object: 'list', data: (await deps.projects.list(1000)).map(publicProject) });
  });

  router.post('/projects/:id/api-keys', async (req, res) => {
    const body = parseOr400(CreateApiKeySchema, req.body ?? {}, 'api key');
    const project = await deps.projects.findById(String(req.params['id']));
    if (!project) throw new AppError('not_found', `Project ${req.params['id']} not found`);
    const { record, key } = await deps.apiKeys.create({ kind: 'project', projectId: project.id, name: body.name ?? null });
    res.status(201).json({
      id: record.id,
      object: 'api_key',
      project_id: project.id,
      name: record.name,
      key,
      prefix: record.prefix,
      created_at: record.createdAt.toISOString(),
    });
  });

  router.delete('/api-keys/:id', async (req, res) => {
    if (!(await deps.apiKeys.revoke(String(req.params['id'])))) throw new AppError('not_found', `API key ${req.params['id']} not found`);
    res.status(204).end();
  });

  router.get('/jobs', async (req, res) => {
    const { filter, limit, cursor } = parseListQuery(req);
    const page = await deps.jobQueries.list(filter, limit, cursor);
    const data = await deps.views.many(page.data);
    res.json({
      object: 'list',
      data: data.map((job, i) => ({ ...job, project_id: page.data[i]?.projectId })),
      next_cursor: page.nextCursor,
    });
  });

  router.get('/stats', async (_req, res) => {
    const hourAgo = new Date(Date.now() - 3_600_000);
    const [counts, finished, depths] = await Promise.all([
      deps.jobQueries.countsByStatusAndType(),
      deps.jobQueries.finishedSince(hourAgo),
      deps.queues.depths().catch(() => null),
    ]);
    const byStatus: Record<string, number> = {};
    const byType: Record<string, number> = {};
    for (const row of counts) {
      byStatus[row.status] = (byStatus[row.status] ?? 0) + row.count;
      byType[row.type] = (byType[row.type] ?? 0) + row.count;
    }
    const finishedTotal = finished.reduce((sum, r) => sum + r.count, 0);
    const failed = finished.find((r) => r.status === 'failed')?.count ?? 0;
    res.json({
      object: 'stats',
      jobs_by_status: byStatus,
      jobs_by_type: byType,
      queues: depths,
      last_hour: {
        finished: finishedTotal,
        by_status: Object.fromEntries(finished.map((r) => [r.status, r.count])),
        throughput_per_min: Number((finishedTotal / 60).toFixed(2)),
        failure_rate: finishedTotal === 0 ? 0 : Number((failed / finishedTotal).toFixed(4)),
      },
    });
  });

  router.get('/upstream', async (_req, res) => {
    res.json(await deps.upstreamInfo.get());
  });

  return router;
}
