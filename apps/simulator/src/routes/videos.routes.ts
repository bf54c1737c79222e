import { Readable } from 'node:stream';
import { Router, type Request, type Response } from 'express';
import { asObject } from '../body';
import { findModel } from '../catalog';
import { gatewayAbort, modelNotFound, taskError, videoContentError, withRequestId } from '../errors';
import { sha256Hex } from '../hash';
import { renderMp4 } from '../media/mp4';
import { videoContent } from '../media/produce';
import { publicBaseUrl, requestIdOf } from '../middleware/locals';
import { relayRoute } from '../middleware/route-guards';
import { isMultipart, parseMultipart } from '../multipart';
import { findBannedWord } from '../prompt';
import type { SimulatorState, UploadedPart } from '../state';
import { markersIn } from '../tasks/markers';
import { observeVideoTask } from '../tasks/observe';
import type { VideoOutcome, VideoTask } from '../tasks/task-store';
import { gatewayVideoBody, soraVideoBody, videoSeed, videoSubmitBody, videoTaskDtoBody } from '../tasks/video-model';

/** Sizes the gateway accepts per sora model (§8.1); other video models take any size. */
const SORA_SIZES: Record<string, string[]> = {
  'sora-2': ['720x1280', '1280x720'],
  'sora-2-pro': ['720x1280', '1280x720', '1792x1024', '1024x1792'],
};
const SORA_SECONDS = ['4', '8', '12'];
const DEFAULT_SIZE = '720x1280';
const BIG_SIZES = new Set(['1792x1024', '1024x1792']);

/** What the gateway shows when an upstream submit was refused: the upstream body, as a string. */
const upstreamRefusal = (message: string, param: string | null, code: string): string =>
  JSON.stringify({ error: { message, type: 'invalid_request_error', param, code } });

/**
 * Sora-format video (docs/gateway.md §8): `POST /v1/videos` (JSON or multipart), `POST /v1/videos/{id}/remix`, status in every shape
 * (`/v1/videos/{id}` and new-api's `/v1/video/generations/{id}` wrapper), and `/content`.
 */
export function videosRoutes(state: SimulatorState): Router {
  const router = Router();

  router.post('/v1/videos', ...relayRoute(state, 'videos.create', 'task_submit'), async (req, res) => {
    const form = await readCreateRequest(state, req, res);
    if (form) createVideo(state, req, res, form);
  });

  router.post('/v1/videos/:id/remix', ...relayRoute(state, 'videos.remix', 'task_submit'), (req, res) => {
    remixVideo(state, req, res);
  });

  router.get('/v1/videos/:id', ...relayRoute(state, 'videos.status', 'task'), (req, res) => {
    const task = readStatusTask(state, req, res);
    if (!task) return;
    const view = observeVideoTask(state, task);
    res.json(task.isSora ? soraVideoBody(task, view) : gatewayVideoBody(task, view, publicBaseUrl(state, req)));
  });

  router.get('/v1/video/generations/:id', ...relayRoute(state, 'videos.status', 'task'), (req, res) => {
    const task = readStatusTask(state, req, res);
    if (!task) return;
    res.json(videoTaskDtoBody(task, observeVideoTask(state, task), publicBaseUrl(state, req)));
  });

  router.get('/v1/videos/:id/content', ...relayRoute(state, 'videos.content'), (req, res) => {
    const task = state.tasks.video(String(req.params['id']));
    if (!task) {
      res.status(404).json(videoContentError('Task not found'));
      return;
    }
    task.counters.contentRequests += 1;
    const view = observeVideoTask(state, task);
    if (view.internal !== 'SUCCESS') {
      res.status(400).json(videoContentError(`Task is not completed yet, current status: ${view.internal}`));
      return;
    }
    if (view.contentExpiresAtMs !== null && state.clock.now() >= view.contentExpiresAtMs) {
      res.status(502).json({ error: { message: 'Upstream service returned status 403', type: 'server_error' } });
      return;
    }
    // `?variant=` is not forwarded by the gateway: always the video.
    res.setHeader('Cache-Control', 'public, max-age=86400');
    const content = videoContent(task.mediaSeed, task.prompt);
    if (!content.isLarge) {
      res.status(200).type('video/mp4').send(renderMp4(task.mediaSeed));
      return;
    }
    // `sim:mib=N`: streamed with backpressure, never held whole
    res.status(200).type('video/mp4').setHeader('Content-Length', String(content.bytes));
    Readable.from(content.pieces()).pipe(res);
  });

  return router;
}

type CreateForm = { fields: Record<string, unknown>; inputSha256s: string[] };

async function readCreateRequest(state: SimulatorState, req: Request, res: Response): Promise<CreateForm | null> {
  if (!isMultipart(req)) {
    const fields = asObject(req.body);
    const reference = fields['input_reference'];
    const inputSha256s = typeof reference === 'string' && reference !== '' ? [sha256Hex(decodeReference(reference))] : [];
    return { fields, inputSha256s };
  }
  try {
    const form = await parseMultipart(req);
    const parts: UploadedPart[] = form.files.map((f) => ({ field: f.field, filename: f.filename, contentType: f.contentType, bytes: f.data.length, sha256: sha256Hex(f.data) }));
    state.uploads.push({ routeKey: 'videos.create', requestId: requestIdOf(res), atMs: state.clock.now(), fields: form.fields, files: parts });
    return { fields: form.fields, inputSha256s: parts.filter((p) => p.field === 'input_reference').map((p) => p.sha256) };
  } catch (err) {
    res.status(400).json(taskError('invalid_request', `failed to parse multipart form: ${err instanceof Error ? err.message : String(err)}`));
    return null;
  }
}

/** A JSON `input_reference` is a URL or a (data-URL) base64 string; URLs are hashed as text. */
function decodeReference(value: string): Buffer {
  if (/^https?:\/\//i.test(value)) return Buffer.from(value, 'utf8');
  const comma = value.startsWith('data:') ? value.indexOf(',') : -1;
  return Buffer.from(comma >= 0 ? value.slice(comma + 1) : value, 'base64');
}

const text = (value: unknown): string => (typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '');

function outcomeOf(prompt: string): VideoOutcome {
  const markers = markersIn(prompt);
  if (markers.has('sim:timeout')) return 'stall';
  if (markers.has('sim:expired')) return 'expired';
  if (markers.has('sim:cancel')) return 'cancelled';
  if (markers.has('sim:moderation')) return 'moderation';
  if (markers.has('sim:fail')) return 'failed';
  return 'success';
}

function createVideo(state: SimulatorState, req: Request, res: Response, form: CreateForm): void {
  const requestId = requestIdOf(res);
  const { fields } = form;
  const modelId = text(fields['model']);
  if (modelId === '') {
    res.status(400).json(gatewayAbort('Model name not specified, model name cannot be empty', requestId));
    return;
  }
  const model = findModel(modelId);
  if (!model) {
    res.status(503).json(modelNotFound(modelId, requestId));
    return;
  }
  const prompt = text(fields['prompt']);
  state.tasks.countAttempt(prompt);
  if (model.family !== 'video') {
    res.status(400).json(taskError('invalid_request', `model ${modelId} does not support video generation`));
    return;
  }
  if (prompt === '') {
    res.status(400).json(taskError('invalid_request', 'prompt is required'));
    return;
  }
  const isSora = modelId.startsWith('sora');
  const size = text(fields['size']) || DEFAULT_SIZE;
  const allowedSizes = SORA_SIZES[modelId];
  if (allowedSizes && !allowedSizes.includes(size)) {
    res.status(400).json(taskError('invalid_size', `${modelId} size is invalid`));
    return;
  }
  const seconds = text(fields['seconds']) || text(fields['duration']) || '4';
  const secondsNumber = Number(seconds);
  if (isSora && !SORA_SECONDS.includes(seconds)) {
    const message = `Invalid value: '${seconds}'. Supported values are: '4', '8', and '12'.`;
    res.status(400).json(taskError('fail_to_fetch_task', upstreamRefusal(message, 'seconds', 'invalid_value')));
    return;
  }
  if (!isSora && !(Number.isInteger(secondsNumber) && secondsNumber >= 1 && secondsNumber <= 60)) {
    res.status(400).json(taskError('fail_to_fetch_task', upstreamRefusal(`invalid duration: ${seconds}`, 'duration', 'invalid_value')));
    return;
  }
  storeVideoTask(state, res, { model: modelId, isSora, prompt, seconds, size, inputSha256s: form.inputSha256s, action: form.inputSha256s.length > 0 ? 'generate' : 'textGenerate' });
}

type NewVideoTask = Pick<VideoTask, 'model' | 'isSora' | 'prompt' | 'seconds' | 'size' | 'inputSha256s' | 'action' | 'remixedFromId'>;

/** The end of a submit or a remix: the balance, moderation, then the task, the charge and the ratios header (§8.1). */
function storeVideoTask(state: SimulatorState, res: Response, spec: NewVideoTask): void {
  const requestId = requestIdOf(res);
  const o = state.options.tasks;
  const sizeRatio = BIG_SIZES.has(spec.size) ? 1.666667 : 1;
  const secondsNumber = Number(spec.seconds);
  const cost = Math.round(secondsNumber * o.videoCostQuotaPerSecond * sizeRatio);
  if (!state.balance.canAfford(cost)) {
    const message = withRequestId(`用户额度不足, 剩余额度: ＄${(state.balance.available / 500_000).toFixed(6)}`, requestId);
    res.status(403).json(taskError('insufficient_user_quota', message));
    return;
  }
  if (findBannedWord(spec.prompt, state.options.bannedWords)) {
    res.status(400).json(taskError('fail_to_fetch_task', upstreamRefusal('Your request was blocked by our moderation system.', null, 'moderation_blocked')));
    return;
  }

  const now = state.clock.now();
  const seq = state.tasks.nextSeq();
  const id = o.videoIdStyle === 'upstream' ? `video_${state.ids.hex(32)}` : state.ids.id('task_', 32);
  const task: Omit<VideoTask, 'counters' | 'isRefunded'> = {
    ...spec,
    id,
    family: 'video',
    seq,
    key: spec.prompt,
    state: '',
    submittedAtMs: now,
    grid: state.tasks.gridFor(seq, state.durationMs(o.pollTickMs), state.durationMs(o.pollSpacingMs)),
    durationMs: state.durationMs(o.videoDurationMs),
    timeoutMs: state.durationMs(o.videoTimeoutMinutes * 60_000),
    costQuota: cost,
    mediaSeed: videoSeed(spec.model, spec.prompt, spec.seconds, spec.size, spec.inputSha256s),
    outcome: outcomeOf(spec.prompt),
    createdAt: o.videoCreatedAtUnit === 'ms' ? Math.floor(now) : Math.floor(now / 1000),
    contentTtlMs: state.durationMs(o.videoContentTtlSec * 1000),
    isStaleAfterTimeout: o.soraStaleAfterTimeout,
  };
  const stored = state.tasks.add(task);
  state.balance.charge(cost);
  res.setHeader('X-New-Api-Other-Ratios', JSON.stringify({ seconds: secondsNumber, size: sizeRatio }));
  res.json(videoSubmitBody(stored));
}

/**
 * `POST /v1/videos/{id}/remix` (§8.4): body `{"prompt"}`; a new task on the original's model,
 * seconds and size, with the original video as its input (its media seed feeds the new one).
 * An unknown original is 400 `task_not_exist`, as for a status read.
 */
function remixVideo(state: SimulatorState, req: Request, res: Response): void {
  const fields = asObject(req.body);
  const prompt = text(fields['prompt']);
  state.tasks.countAttempt(prompt);
  const original = state.tasks.video(String(req.params['id']));
  if (!original) {
    res.status(400).json(taskError('task_not_exist', 'task_not_exist'));
    return;
  }
  if (prompt === '') {
    res.status(400).json(taskError('invalid_request', 'prompt is required'));
    return;
  }
  const { model, isSora, seconds, size } = original;
  storeVideoTask(state, res, { model, isSora, prompt, seconds, size, inputSha256s: [sha256Hex(original.mediaSeed)], action: 'remix', remixedFromId: original.id });
}

/** Unknown ids (and, with `videoInsertLagRequests`, the first reads of a fresh task) are 400 `task_not_exist`. */
function readStatusTask(state: SimulatorState, req: Request, res: Response): VideoTask | null {
  const task = state.tasks.video(String(req.params['id']));
  if (task) task.counters.statusRequests += 1;
  if (!task || task.counters.statusRequests <= state.options.tasks.videoInsertLagRequests) {
    res.status(400).json(taskError('task_not_exist', 'task_not_exist'));
    return null;
  }
  return task;
}
