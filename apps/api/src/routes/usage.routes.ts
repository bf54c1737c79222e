import { Router, type RequestHandler } from 'express';
import { AppError, isId } from '@genqueue/core';
import { CostsRepository } from '@genqueue/db';
import type { ApiDeps } from '../deps';
import { requireProjectId } from '../middleware/auth';
import { jobCostsView, UsageQuerySchema, usageView } from '../services/usage-views';
import { parseOr400 } from './validation';

/**
 * The caller's spend from the cost ledger: `GET /v1/usage` (per UTC day and job type, `from`/`to`)
 * and `GET /v1/usage/jobs/{id}` (one job's entries).
 */
export function usageRoutes(deps: ApiDeps, guards: RequestHandler[]): Router {
  const router = Router();
  const costs = new CostsRepository(deps.prisma);

  router.get('/usage', ...guards, async (req, res) => {
    const projectId = requireProjectId(req);
    const { project_id: _ignored, ...rest } = req.query as Record<string, unknown>;
    const range = parseOr400(UsageQuerySchema, rest, 'query');
    const rows = await costs.usage({ from: range.from, to: range.to, projectId, byProject: false });
    res.json(usageView(rows, range, { projectId, byProject: false }));
  });

  router.get('/usage/jobs/:id', ...guards, async (req, res) => {
    const projectId = requireProjectId(req);
    const id = String(req.params['id']);
    const job = isId('job', id) ? await deps.jobs.findForProject(projectId, id) : null;
    if (!job) throw new AppError('not_found', `No job ${id}`);
    res.json(jobCostsView(job.id, await costs.forJob(job.id)));
  });

  return router;
}
