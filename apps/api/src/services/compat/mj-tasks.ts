import { AppError, isId, type PublicJob } from '@genqueue/core';
import type { Job } from '@genqueue/db';
import { COMPAT_METADATA, decodeImageDataUrl, inlineSlot, type CompatJobRequest, type InlineImage } from './compat-submit';

/**
 * The midjourney-proxy API over genqueue jobs (docs/compat.md): request bodies as midjourney-proxy
 * and the gateway's `/mj` routes take them, task objects as their `fetch` answers them. The task id
 * is the genqueue job id.
 */

export type MjSubmitKind = 'imagine' | 'action' | 'blend' | 'describe' | 'modal';

export type MjButton = { customId: string; emoji: string; label: string; type: number; style: number };

export type MjTaskView = {
  id: string;
  action: string;
  customId: string;
  botType: string;
  prompt: string;
  promptEn: string;
  description: string;
  state: string;
  submitTime: number;
  startTime: number | null;
  finishTime: number | null;
  imageUrl: string;
  videoUrl: string;
  status: string;
  progress: string;
  failReason: string;
  buttons: MjButton[];
  maskBase64: string;
  properties: Record<string, unknown>;
};

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const asRecord = (value: unknown): Record<string, unknown> => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

/** The field of a midjourney-proxy request that a failing path of the job request came from. */
export function mjFieldOf(kind: MjSubmitKind): (path: string) => string {
  const fields: Record<string, string> = {
    'input.prompt': 'prompt',
    'input.bot_type': 'botType',
    'input.job_id': 'taskId',
    'input.custom_id': 'customId',
    'input.mask': 'maskBase64',
    'input.dimensions': 'dimensions',
    'input.image': kind === 'describe' ? 'base64' : 'image',
    'input.images': 'base64Array',
  };
  return (path) => {
    if (fields[path]) return fields[path];
    const images = /^input\.images\.(\d+)/.exec(path);
    if (images) return `base64Array.${images[1]}`;
    return path.startsWith('input.') ? path.slice(6) : path;
  };
}

/**
 * A submit body as a job request. Fields genqueue does not use (`accountFilter`, `enableRemix`,
 * `strong`, …) are ignored as the gateway ignores them; `state` and `notifyHook` go into metadata.
 */
export function mjJobRequest(kind: MjSubmitKind, body: unknown, imageLimitBytes: number): CompatJobRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('invalid_request', 'The request body must be a JSON object', [{ path: '(body)', message: 'expected a JSON object' }]);
  }
  const b = body as Record<string, unknown>;
  const images: InlineImage[] = [];
  const inline = (value: unknown, path: string) => {
    images.push(decodeImageDataUrl(value, path, imageLimitBytes, `mj-${kind}-${images.length}.png`));
    return inlineSlot(images.length - 1);
  };
  const base64Array = (path: string, required: boolean) => {
    const value = b['base64Array'];
    if (value === undefined || value === null) {
      if (required) throw new AppError('invalid_request', 'base64Array is required', [{ path, message: 'required: 2 to 5 data URLs' }]);
      return undefined;
    }
    if (!Array.isArray(value)) throw new AppError('invalid_request', 'base64Array must be an array', [{ path, message: 'must be an array of data URLs' }]);
    if (value.length > 5) throw new AppError('invalid_request', 'base64Array holds at most 5 images', [{ path, message: 'at most 5 images' }]);
    return value.length === 0 && !required ? undefined : value.map((v, i) => inline(v, `${path}.${i}`));
  };
  const optional = (key: string) => (b[key] === undefined || b[key] === null || b[key] === '' ? undefined : b[key]);
  const botType = optional('botType');
  const taskId = (key: string) => {
    const id = b[key];
    if (typeof id !== 'string' || id === '') throw new AppError('invalid_request', `${key} is required`, [{ path: key, message: 'required: the id of an earlier task' }]);
    // an id that is not one of ours can only be unknown (a midjourney-proxy numeric id, say)
    if (!isId('job', id)) throw new AppError('not_found', `Task ${id} not found`, [{ path: key, message: 'no such task' }]);
    return id;
  };

  let type: string;
  let input: Record<string, unknown>;
  switch (kind) {
    case 'imagine': {
      const array = base64Array('base64Array', false);
      type = 'mj.imagine';
      input = { prompt: b['prompt'], ...(array ? { images: array } : {}), ...(botType !== undefined ? { bot_type: botType } : {}), seed: true };
      break;
    }
    case 'action':
      type = 'mj.action';
      input = { job_id: taskId('taskId'), custom_id: b['customId'], seed: true };
      break;
    case 'modal': {
      const mask = optional('maskBase64');
      type = 'mj.modal';
      input = { job_id: taskId('taskId'), ...(optional('prompt') !== undefined ? { prompt: b['prompt'] } : {}), ...(mask !== undefined ? { mask: inline(mask, 'maskBase64') } : {}) };
      break;
    }
    case 'blend': {
      const array = base64Array('base64Array', true);
      type = 'mj.blend';
      input = { images: array, ...(optional('dimensions') !== undefined ? { dimensions: b['dimensions'] } : {}), ...(botType !== undefined ? { bot_type: botType } : {}) };
      break;
    }
    case 'describe': {
      const link = optional('link');
      const base64 = optional('base64');
      if (base64 === undefined && link === undefined) throw new AppError('invalid_request', 'base64 is required', [{ path: 'base64', message: 'required: a data URL of the image (or link)' }]);
      type = 'mj.describe';
      input = { image: base64 !== undefined ? inline(base64, 'base64') : { url: link }, ...(botType !== undefined ? { bot_type: botType } : {}) };
      break;
    }
  }

  const metadata: Record<string, string> = { [COMPAT_METADATA.api]: 'mj' };
  const state = optional('state');
  if (state !== undefined) {
    if (typeof state !== 'string' || state.length > 255) throw new AppError('invalid_request', 'state must be a string of at most 255 characters', [{ path: 'state', message: 'at most 255 characters' }]);
    metadata[COMPAT_METADATA.mjState] = state;
  }
  const hook = optional('notifyHook');
  if (hook !== undefined) {
    if (typeof hook !== 'string' || hook.length > 512 || !/^https?:\/\//i.test(hook)) {
      throw new AppError('invalid_request', 'notifyHook must be an http(s) URL of at most 512 characters', [{ path: 'notifyHook', message: 'must be an http(s) URL' }]);
    }
    metadata[COMPAT_METADATA.mjNotifyHook] = hook;
  }
  return { type, input, metadata, images };
}

/** midjourney-proxy's action name of a button's customId (as the gateway reads it). */
export function actionOfCustomId(customId: string): string {
  const parts = customId.split('::');
  const name = (parts[1] === 'JOB' ? parts[2] : parts[1]) ?? '';
  if (name.includes('upsample')) return 'UPSCALE';
  if (name === 'low_variation') return 'LOW_VARIATION';
  if (name === 'high_variation') return 'HIGH_VARIATION';
  if (name.includes('variation')) return 'VARIATION';
  if (name.includes('pan')) return 'PAN';
  if (name.includes('reroll')) return 'REROLL';
  if (name === 'Outpaint') return 'ZOOM';
  if (name === 'CustomZoom') return 'CUSTOM_ZOOM';
  if (name === 'Inpaint') return 'INPAINT';
  return 'ACTION';
}

function actionOf(job: Pick<Job, 'type' | 'input'>): string {
  switch (job.type) {
    case 'mj.imagine':
      return 'IMAGINE';
    case 'mj.blend':
      return 'BLEND';
    case 'mj.describe':
      return 'DESCRIBE';
    case 'mj.modal':
      return 'MODAL';
    case 'mj.action':
      return actionOfCustomId(str(asRecord(job.input)['custom_id']) ?? '');
    default:
      return job.type.toUpperCase();
  }
}

/**
 * The task status a midjourney-proxy client knows: NOT_START (queued in genqueue), SUBMITTED
 * (running, not yet picked up upstream), IN_PROGRESS, MODAL (waiting for a modal submit), SUCCESS,
 * FAILURE (failed or expired), CANCEL (canceled in genqueue).
 */
export function mjStatusOf(job: Pick<Job, 'status' | 'upstreamStatus' | 'upstreamTaskId'>): string {
  switch (job.status) {
    case 'queued':
      return 'NOT_START';
    case 'succeeded':
      return 'SUCCESS';
    case 'failed':
    case 'expired':
      return 'FAILURE';
    case 'canceled':
      return 'CANCEL';
    default: {
      const upstream = (job.upstreamStatus ?? '').toUpperCase();
      if (upstream === 'MODAL' || upstream === 'IN_PROGRESS') return upstream;
      return 'SUBMITTED';
    }
  }
}

export const MJ_FINAL_STATUSES: readonly string[] = ['SUCCESS', 'FAILURE', 'CANCEL'];

/**
 * A job as midjourney-proxy's task object. `imageUrl` is a signed link to our stored copy (valid
 * 24 h, no key needed); `prompt` of an action or modal task is that of the task it continues
 * (`rootPrompt`), as midjourney-proxy shows it.
 */
export function toMjTask(job: Job, view: PublicJob, rootPrompt: string): MjTaskView {
  const input = asRecord(job.input);
  const output = asRecord(job.output);
  const metadata = asRecord(job.metadata);
  const status = mjStatusOf(job);
  const imageId = str(asRecord(output['image'])['artifact_id']);
  const imageUrl = status === 'SUCCESS' && imageId ? (view.artifacts.find((a) => a.id === imageId)?.url ?? '') : '';
  const describePrompts = Array.isArray(output['prompts']) ? (output['prompts'] as unknown[]).filter((p): p is string => typeof p === 'string') : null;
  const prompt = describePrompts ? describePrompts.join('\n\n') : rootPrompt;
  const promptEn = describePrompts ? prompt : (str(output['prompt_en']) ?? prompt);
  const buttons = Array.isArray(output['buttons'])
    ? (output['buttons'] as unknown[]).map((b) => {
        const button = asRecord(b);
        return { customId: str(button['custom_id']) ?? '', emoji: str(button['emoji']) ?? '', label: str(button['label']) ?? '', type: 2, style: 2 };
      })
    : [];
  const error = asRecord(job.error);
  const final = MJ_FINAL_STATUSES.includes(status);
  const progress = status === 'SUCCESS' || status === 'FAILURE' ? 100 : Math.max(0, Math.min(99, Math.round(job.progress)));
  const seed = output['seed'];
  return {
    id: job.id,
    action: actionOf(job),
    customId: str(input['custom_id']) ?? '',
    botType: str(input['bot_type']) ?? '',
    prompt,
    promptEn,
    description: 'Submit success',
    state: str(metadata[COMPAT_METADATA.mjState]) ?? '',
    submitTime: job.createdAt.getTime(),
    startTime: job.startedAt ? job.startedAt.getTime() : null,
    finishTime: final && job.finishedAt ? job.finishedAt.getTime() : null,
    imageUrl,
    videoUrl: '',
    status,
    progress: `${progress}%`,
    failReason: status === 'FAILURE' || status === 'CANCEL' ? (str(error['message']) ?? (status === 'CANCEL' ? 'canceled' : 'failed')) : '',
    buttons,
    maskBase64: '',
    properties: {
      finalPrompt: promptEn,
      finalZhPrompt: '',
      ...(job.parentId ? { parentTaskId: job.parentId } : {}),
      ...(typeof seed === 'string' || typeof seed === 'number' ? { seed: String(seed) } : {}),
      ...(status === 'MODAL' ? { remix: true } : {}),
      genqueueStatus: job.status,
      ...(job.error ? { errorCode: str(error['code']) ?? null } : {}),
    },
  };
}

/** The prompt shown for a job: its own, or (action, modal) that of the task it continues. */
export async function rootPromptOf(job: Job, findJob: (id: string) => Promise<Job | null>): Promise<string> {
  let current: Job | null = job;
  for (let depth = 0; current && depth < 20; depth += 1) {
    const prompt = str(asRecord(current.input)['prompt']);
    if (prompt) return prompt;
    current = current.parentId ? await findJob(current.parentId) : null;
  }
  return '';
}
