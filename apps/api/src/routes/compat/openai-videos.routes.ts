import express, { Router, type Request } from 'express';
import { AppError, isId, VIDEO_REMIXABLE_JOB_TYPES } from '@genqueue/core';
import { DEFAULT_RETENTION_DAYS, retentionDaysOf, type Job } from '@genqueue/db';
import type { ApiDeps } from '../../deps';
import { authenticate, requireProjectId } from '../../middleware/auth';
import { rejectNulCharacters } from '../../middleware/nul-characters';
import { projectRateLimit } from '../../middleware/rate-limit';
import { sendArtifact } from '../../services/artifact-content';
import { compatErrorHandler, openAiErrorBody } from '../../services/compat/compat-errors';
import { idempotencyKeyOf, submitCompatJob } from '../../services/compat/compat-submit';
import { readCreateRequest, remixFieldOf, remixRequestOf, toOpenAiVideo, videoFieldOf } from '../../services/compat/openai-videos';

/** A remix chain longer than this is shown without its origin's model, size and seconds. */
const MAX_REMIX_HOPS = 32;

/** OpenAI's video API (docs/compat.md): `/v1/videos` over video.generate and video.remix jobs, errors in OpenAI's shape. */
export function openAiVideoRoutes(deps: ApiDeps): Router {
  const router = Router();
  const json = express.json({ limit: deps.settings.maxJsonBytes, strict: false });
  router.use(authenticate(deps.apiKeys, 'any'), projectRateLimit(deps.rateLimits), json, rejectNulCharacters);

  /** The `video.generate` a remix chain starts from (a remix shows its model, size and seconds). */
  async function originOf(job: Job): Promise<Job> {
    let current = job;
    for (let hop = 0; current.type === 'video.remix' && current.parentId && hop < MAX_REMIX_HOPS; hop += 1) {
      const parent = await deps.jobs.findForProject(job.projectId, current.parentId);
      if (!parent) break;
      current = parent;
    }
    return current;
  }

  /** The Video object; `expires_at` from the caller's project retention (the admin key: the default). */
  const videoOf = async (req: Request, job: Job) =>
    toOpenAiVideo(job, (req.principal?.kind === 'project' ? retentionDaysOf(req.principal.limits) : null) ?? DEFAULT_RETENTION_DAYS, await originOf(job));

  async function ownedVideo(req: Request): Promise<Job> {
    const id = String(req.params['id']);
    const projectId = requireProjectId(req);
    const job = isId('job', id) ? await deps.jobs.findForProject(projectId, id) : null;
    if (!job || !VIDEO_REMIXABLE_JOB_TYPES.includes(job.type)) throw new AppError('not_found', `Video with id '${id}' not found.`, [{ path: 'video_id', message: 'not found' }]);
    return job;
  }

  router.post('/', async (req, res) => {
    const projectId = requireProjectId(req);
    const idempotencyKey = idempotencyKeyOf(req);
    const { request, clientRequest } = await readCreateRequest(req, deps.settings.uploadLimitBytes.image);
    const { job } = await submitCompatJob(deps, req, request, { projectId, idempotencyKey, clientRequest, fieldOf: videoFieldOf });
    res.json(await videoOf(req, job));
  });

  // a video of another project, or no video, is 404; one that is not completed is refused (400, video_id)
  router.post('/:id/remix', async (req, res) => {
    const parent = await ownedVideo(req);
    const idempotencyKey = idempotencyKeyOf(req);
    const request = remixRequestOf(parent.id, req.body);
    const { job } = await submitCompatJob(deps, req, request, { projectId: parent.projectId, idempotencyKey, clientRequest: { video_id: parent.id, body: req.body }, fieldOf: remixFieldOf });
    res.json(await videoOf(req, job));
  });

  router.get('/:id', async (req, res) => {
    res.json(await videoOf(req, await ownedVideo(req)));
  });

  router.get('/:id/content', async (req, res) => {
    const job = await ownedVideo(req);
    const variant = req.query['variant'] ?? 'video';
    if (variant !== 'video') {
      throw new AppError('invalid_request', `Only the video variant is kept (asked for ${String(variant)})`, [{ path: 'variant', message: 'must be video' }]);
    }
    if (job.status !== 'succeeded') {
      throw new AppError('invalid_request', `Video is not ready yet, current status: ${(await videoOf(req, job)).status}`, [{ path: 'video_id', message: 'not completed' }]);
    }
    const artifactId = (job.output as { video?: { artifact_id?: unknown } } | null)?.video?.artifact_id;
    const artifact = typeof artifactId === 'string' ? await deps.artifacts.findForProject(job.projectId, artifactId) : null;
    if (!artifact) throw new AppError('not_found', `The content of video ${job.id} is no longer stored`);
    await sendArtifact(deps, artifact, req, res);
  });

  // any other path below the mount is answered in this API's shape too
  router.use((req) => {
    throw new AppError('not_found', `No route for ${req.method} ${req.originalUrl.split('?')[0]}`);
  });
  router.use(compatErrorHandler(deps.logger, (error) => openAiErrorBody(error)));
  return router;
}
