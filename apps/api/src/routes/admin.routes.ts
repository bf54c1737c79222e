import { Router } from 'express';
import { AppError, JOB_STATUSES } from '@genqueue/core';
import { isUniqueViolation, type ApiKey, type Project } from '@genqueue/db';
import type { ApiDeps } from '../deps';
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

/** A key as listed: what identifies it, never the key itself (only its hash is stored). */
function apiKeyView(key: ApiKey): Record<string, unknown> {
  return {
    id: key.id,
    object: 'api_key',
    name: key.name,
    prefix: key.prefix,
    created_at: key.createdAt.toISOString(),
    last_used_at: key.lastUsedAt?.toISOString() ?? null,
    revoked_at: key.revokedAt?.toISOString() ?? null,
  };
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
    const [projects, counts] = await Promise.all([deps.projects.list(1000), deps.jobStats.counts()]);
    const byProject = new Map<string, Record<string, number>>();
    for (const row of counts) {
      const statuses = byProject.get(row.projectId) ?? Object.fromEntries(JOB_STATUSES.map((status) => [status, 0]));
      statuses[row.status] = (statuses[row.status] ?? 0) + row.count;
      byProject.set(row.projectId, statuses);
    }
    const none = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0]));
    res.json({ object: 'list', data: projects.map((p) => ({ ...publicProject(p), counts: byProject.get(p.id) ?? none })) });
  });

  router.get('/projects/:id/api-keys', async (req, res) => {
    const project = await deps.projects.findById(String(req.params['id']));
    if (!project) throw new AppError('not_found', `Project ${req.params['id']} not found`);
    const keys = await deps.apiKeys.listForProject(project.id);
    res.json({ object: 'list', data: keys.map(apiKeyView) });
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

  router.get('/admin-keys', async (_req, res) => {
    res.json({ object: 'list', data: (await deps.apiKeys.listAdminKeys()).map(apiKeyView) });
  });

  router.post('/admin-keys', async (req, res) => {
    const body = parseOr400(CreateApiKeySchema, req.body ?? {}, 'admin key');
    const { record, key } = await deps.apiKeys.create({ kind: 'admin', projectId: null, name: body.name ?? null });
    res.status(201).json({ ...apiKeyView(record), key });
  });

  router.delete('/api-keys/:id', async (req, res) => {
    const id = String(req.params['id']);
    const key = await deps.apiKeys.findById(id);
    if (!key) throw new AppError('not_found', `API key ${id} not found`);
    // the last admin key would lock every operator out for good (a revoked ADMIN_API_KEY is never revived)
    if (key.kind === 'admin' && !key.revokedAt && (await deps.apiKeys.countActive('admin')) <= 1) {
      throw new AppError('conflict', 'This is the last active admin key: create another admin key before revoking it');
    }
    await deps.apiKeys.revoke(id);
    res.status(204).end();
  });

  router.get('/stats', async (_req, res) => {
    res.json(await deps.adminStats.build());
  });

  router.get('/upstream', async (_req, res) => {
    res.json(await deps.upstreamInfo.get());
  });

  return router;
}
