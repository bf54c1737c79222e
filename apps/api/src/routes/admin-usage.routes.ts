import { Router } from 'express';
import { AppError, isId } from '@genqueue/core';
import { CostsRepository } from '@genqueue/db';
import type { ApiDeps } from '../deps';
import { balanceView, jobCostsView, UsageQuerySchema, usageView } from '../services/usage-views';
import { parseOr400 } from './validation';

/**
 * Spend across projects (admin): `GET /admin/v1/usage` per UTC day, project and job type, with
 * per-project totals and the last gateway balance; `GET /admin/v1/usage/jobs/{id}` one job's entries.
 */
export function adminUsageRoutes(deps: ApiDeps): Router {
  const router = Router();
  const costs = new CostsRepository(deps.prisma);

  router.get('/usage', async (req, res) => {
    const query = parseOr400(UsageQuerySchema, req.query, 'query');
    const rows = await costs.usage({ from: query.from, to: query.to, byProject: true, ...(query.projectId ? { projectId: query.projectId } : {}) });
    res.json({ ...usageView(rows, query, { projectId: query.projectId ?? null, byProject: true }), balance: balanceView(await costs.latestSnapshot()) });
  });

  router.get('/usage/jobs/:id', async (req, res) => {
    const id = String(req.params['id']);
    const job = isId('job', id) ? await deps.jobs.findById(id) : null;
    if (!job) throw new AppError('not_found', `No job ${id}`);
    res.json(jobCostsView(job.id, await costs.forJob(job.id)));
  });

  return router;
}
