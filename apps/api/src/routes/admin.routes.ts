import { Router } from 'express';
import { z } from 'zod';
import { AppError, JOB_STATUSES } from '@genqueue/core';
import { isUniqueViolation, type ApiKey, type Project } from '@genqueue/db';
import type { ApiDeps } from '../deps';
import { CreateApiKeySchema, CreateProjectSchema, UpdateProjectSchema } from './schemas';
import { parseOr400 } from './validation';

/** A project's limits as stored: the ones set, each a number (api.md Administration). */
const ProjectLimitsViewSchema = z
  .object({ requests_per_minute: z.int().optional(), jobs_per_minute: z.int().optional(), max_running_jobs: z.int().optional() })
  .catchall(z.number());

/** What `publicProject` answers. */
export const ProjectSchema = z.object({
  id: z.string(),
  object: z.literal('project'),
  name: z.string(),
  limits: ProjectLimitsViewSchema,
  created_at: z.string(),
});
type ProjectView = z.output<typeof ProjectSchema>;

/** `GET /admin/v1/projects`: each project with how many of its jobs are in each status. */
export const ProjectWithCountsSchema = ProjectSchema.extend({ counts: z.record(z.enum(JOB_STATUSES), z.int()) });

/** A key as listed (`apiKeyView`). */
export const ApiKeySchema = z.object({
  id: z.string(),
  object: z.literal('api_key'),
  name: z.string().nullable(),
  prefix: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});

/** A project key as created: the key itself, shown this once. */
export const CreatedProjectKeySchema = z.object({
  id: z.string(),
  object: z.literal('api_key'),
  project_id: z.string(),
  name: z.string().nullable(),
  key: z.string(),
  prefix: z.string(),
  created_at: z.string(),
});

/** An admin key as created: as listed, plus the key itself, shown this once. */
export const CreatedAdminKeySchema = ApiKeySchema.extend({ key: z.string() });

function publicProject(project: Project): ProjectView {
  return { id: project.id, object: 'project', name: project.name, limits: project.limits as ProjectView['limits'], created_at: project.createdAt.toISOString() };
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
function apiKeyView(key: ApiKey): z.output<typeof ApiKeySchema> {
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
      // keys cached with the old limits are read again, on every API process
      if (body.limits) await deps.apiKeys.keysChanged();
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
