import express, { Router, type Request, type RequestHandler } from 'express';
import { AppError, isId, JOB_TYPES } from '@genqueue/core';
import type { Job } from '@genqueue/db';
import type { ApiDeps } from '../../deps';
import { authenticate, requireProjectId } from '../../middleware/auth';
import { rejectNulCharacters } from '../../middleware/nul-characters';
import { projectRateLimit } from '../../middleware/rate-limit';
import { compatErrorHandler, mjErrorBody } from '../../services/compat/compat-errors';
import { MjListByConditionSchema } from '../../services/compat/compat-schemas';
import { COMPAT_METADATA, idempotencyKeyOf, submitCompatJob } from '../../services/compat/compat-submit';
import { MjNotifier } from '../../services/compat/mj-notifier';
import { mjFieldOf, mjJobRequest, rootPromptOf, toMjTask, type MjSubmitKind } from '../../services/compat/mj-tasks';
import { assertWebhookUrlAllowed } from '../../services/webhook-urls';
import { parseOr400 } from '../validation';

const SUBMIT_KINDS: readonly MjSubmitKind[] = ['imagine', 'action', 'blend', 'describe', 'modal'];
/** The job types a midjourney-proxy client sees as its tasks: the catalog's `mj` family. */
const MJ_JOB_TYPES: string[] = JOB_TYPES.filter((spec) => spec.family === 'mj').map((spec) => spec.type);

/**
 * midjourney-proxy clients send their key as `mj-api-secret` (the gateway also takes it when
 * `Authorization` is empty or says `midjourney-proxy`): it becomes the bearer key here.
 */
const mjApiSecret: RequestHandler = (req, _res, next) => {
  const secret = req.header('mj-api-secret');
  const authorization = req.headers.authorization;
  if (secret && (!authorization || !/^Bearer\s+\S/i.test(authorization))) req.headers.authorization = `Bearer ${secret.trim()}`;
  next();
};

/** The midjourney-proxy API (docs/compat.md): `/mj/submit/*` and `/mj/task/*` over mj.* jobs. */
export function mjCompatRoutes(deps: ApiDeps): Router {
  const router = Router();
  const notifier = new MjNotifier(deps);
  notifier.start();
  const json = express.json({ limit: deps.settings.maxJsonBytes, strict: false });
  router.use(mjApiSecret, authenticate(deps.apiKeys, 'any'), projectRateLimit(deps.rateLimits), json, rejectNulCharacters);

  /** One of the caller's MJ tasks; 404 in midjourney-proxy's shape otherwise. */
  async function ownedTask(req: Request): Promise<Job> {
    const id = String(req.params['id']);
    const projectId = requireProjectId(req);
    const job = isId('job', id) ? await deps.jobs.findForProject(projectId, id) : null;
    if (!job || !MJ_JOB_TYPES.includes(job.type)) throw new AppError('not_found', `Task ${id} not found`);
    return job;
  }

  async function tasksOf(jobs: Job[]) {
    const views = new Map((await deps.views.many(jobs)).map((view) => [view.id, view]));
    return Promise.all(jobs.map(async (job) => toMjTask(job, views.get(job.id)!, await rootPromptOf(job, (id) => deps.jobs.findById(id)))));
  }

  for (const kind of SUBMIT_KINDS) {
    router.post(`/submit/${kind}`, async (req, res) => {
      const projectId = requireProjectId(req);
      const request = mjJobRequest(kind, req.body, deps.settings.uploadLimitBytes.image);
      const hook = request.metadata[COMPAT_METADATA.mjNotifyHook];
      assertWebhookUrlAllowed(hook, deps.settings.allowPrivateUrls, 'notifyHook');
      const { job } = await submitCompatJob(deps, req, request, {
        projectId,
        idempotencyKey: idempotencyKeyOf(req),
        clientRequest: { kind, body: req.body },
        fieldOf: mjFieldOf(kind),
      });
      if (hook) {
        await notifier.register(job.id, projectId, hook).catch((err: unknown) => deps.logger.warn({ err, jobId: job.id }, 'mj_notify.register_failed'));
      }
      res.json({ code: 1, description: 'Submit success', result: job.id, properties: { genqueueJobId: job.id } });
    });
  }

  router.get('/task/:id/fetch', async (req, res) => {
    const [task] = await tasksOf([await ownedTask(req)]);
    res.json(task);
  });

  router.post('/task/list-by-condition', async (req, res) => {
    const projectId = requireProjectId(req);
    const { ids = [] } = parseOr400(MjListByConditionSchema, req.body ?? {}, 'condition');
    const wanted = [...new Set(ids.filter((id) => isId('job', id)))];
    const found = wanted.length === 0 ? [] : await deps.prisma.job.findMany({ where: { projectId, id: { in: wanted }, type: { in: MJ_JOB_TYPES } } });
    const byId = new Map(found.map((job) => [job.id, job]));
    res.json(await tasksOf(wanted.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []))));
  });

  router.get('/task/:id/image-seed', async (req, res) => {
    const job = await ownedTask(req);
    if (job.status !== 'succeeded') throw new AppError('invalid_request', `Task ${job.id} is ${job.status}: the seed is known once it succeeded`, [{ path: 'id', message: 'task not finished' }]);
    const seed = (job.output as { seed?: unknown } | null)?.seed;
    if (typeof seed !== 'string' && typeof seed !== 'number') throw new AppError('not_found', `Task ${job.id} has no seed`);
    res.json({ code: 1, description: 'Success', result: String(seed) });
  });

  // any other path below the mount is answered in this API's shape too
  router.use((req) => {
    throw new AppError('not_found', `No route for ${req.method} ${req.originalUrl.split('?')[0]}`);
  });
  router.use(compatErrorHandler(deps.logger, (error) => mjErrorBody(error)));
  return router;
}
