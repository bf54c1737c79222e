import { Router, type RequestHandler, type Response } from 'express';
import { asArray, asObject, asString, type JsonObject } from '../body';
import { gatewayAbort, mjGatewayError, mjSubmitResult, panicError } from '../errors';
import { sha256Hex } from '../hash';
import { renderPng } from '../media/png';
import { publicBaseUrl, requestIdOf } from '../middleware/locals';
import { perMinuteLimit, relayRoute, tagRoute } from '../middleware/route-guards';
import { faultGate } from '../middleware/fault-gate';
import { findBannedWord } from '../prompt';
import type { RouteKey } from '../route-keys';
import type { SimulatorState } from '../state';
import { markersIn } from '../tasks/markers';
import {
  actionOfCustomId,
  buttonsFor,
  DISCORD_INSTANCE_ID,
  mjSeed,
  mjTaskDto,
  MODAL_ACTIONS,
  REMIX_ACTIONS,
} from '../tasks/mj-model';
import { observeMjTask } from '../tasks/observe';
import type { MjAction, MjOutcome, MjTask } from '../tasks/task-store';

/** `/mj/...` also answers under `/mj-fast`, `/mj-relax` and `/mj-turbo` (the mode is stripped, §9.1). */
const MODE_PREFIXES = ['', '/mj-fast', '/mj-relax', '/mj-turbo'];
const paths = (path: string): string[] => MODE_PREFIXES.map((prefix) => `${prefix}${path}`);

const DATA_URL = /^data:image\/[\w.+-]+;base64,[A-Za-z0-9+/=\s]+$/;
const BLEND_DIMENSIONS: Record<string, string> = { PORTRAIT: '2:3', SQUARE: '1:1', LANDSCAPE: '3:2' };

/** `mj-api-secret` is rewritten into `Authorization` when that is empty or `midjourney-proxy` (§1.1). */
const mjApiSecret: RequestHandler = (req, _res, next) => {
  const secret = req.get('mj-api-secret');
  const authorization = req.get('authorization') ?? '';
  if (secret && (authorization === '' || authorization.toLowerCase() === 'midjourney-proxy')) req.headers['authorization'] = `Bearer ${secret}`;
  next();
};

const mjRelay = (state: SimulatorState, key: RouteKey, flavor: 'mj_submit' | 'mj'): RequestHandler[] => [mjApiSecret, ...relayRoute(state, key, flavor)];

type Submit = { body: JsonObject; requestId: string; baseUrl: string };

/**
 * Midjourney through new-api (docs/gateway.md §9): submit routes with the proxy's result codes and the
 * gateway's rewrites, fetch / list-by-condition read the gateway's database, image proxy without auth.
 */
export function mjRoutes(state: SimulatorState): Router {
  const router = Router();
  const submit = (kind: string, handler: (state: SimulatorState, s: Submit, res: Response) => void): void => {
    router.post(paths(`/mj/submit/${kind}`), ...mjRelay(state, 'mj.submit', 'mj_submit'), (req, res) => {
      handler(state, { body: asObject(req.body), requestId: requestIdOf(res), baseUrl: publicBaseUrl(state, req) }, res);
    });
  };
  submit('imagine', submitImagine);
  submit('action', submitAction);
  submit('modal', submitModal);
  submit('blend', submitBlend);
  submit('describe', submitDescribe);

  router.get(paths('/mj/task/:id/fetch'), ...mjRelay(state, 'mj.fetch', 'mj'), (req, res) => {
    const task = state.tasks.mj(String(req.params['id']));
    if (!task) {
      res.status(400).json(mjGatewayError('task_no_found', '', 4));
      return;
    }
    task.counters.statusRequests += 1;
    task.counters.fetchRequests += 1;
    res.json(mjTaskDto(task, observeMjTask(state, task), publicBaseUrl(state, req), state.clock.now()));
  });

  router.post(paths('/mj/task/list-by-condition'), ...mjRelay(state, 'mj.list', 'mj'), (req, res) => {
    const ids = new Set(asArray(asObject(req.body)['ids']).filter((id): id is string => typeof id === 'string'));
    const found = [...ids].map((id) => state.tasks.mj(id)).filter((t): t is MjTask => t !== undefined);
    found.sort((a, b) => a.seq - b.seq);
    const baseUrl = publicBaseUrl(state, req);
    const now = state.clock.now();
    res.json(
      found.map((task) => {
        task.counters.statusRequests += 1;
        task.counters.listRequests += 1;
        return mjTaskDto(task, observeMjTask(state, task), baseUrl, now);
      }),
    );
  });

  router.get(paths('/mj/task/:id/image-seed'), ...mjRelay(state, 'mj.image_seed', 'mj'), (req, res) => {
    const task = state.tasks.mj(String(req.params['id']));
    if (!task) {
      res.status(400).json(mjGatewayError('task_no_found', '', 4));
      return;
    }
    if (observeMjTask(state, task).status !== 'SUCCESS') {
      res.status(400).json(mjSubmitResult(4, '关联任务状态错误'));
      return;
    }
    const seed = BigInt(`0x${sha256Hex(`${task.mediaSeed}|seed`).slice(0, 12)}`) % 4_294_967_296n;
    res.json({ code: 1, description: '成功', result: seed.toString() });
  });

  router.get(paths('/mj/image/:id'), tagRoute(state, 'mj.image'), perMinuteLimit(state, 'mj.image'), faultGate(state, 'mj.image'), (req, res) => {
    const task = state.tasks.mj(String(req.params['id']));
    if (!task) {
      res.status(400).json({ error: 'midjourney_task_not_found' });
      return;
    }
    task.counters.imageRequests += 1;
    const view = observeMjTask(state, task);
    const px = state.options.imagePx;
    if (view.status === 'SUCCESS') {
      if (view.imageExpiresAtMs !== null && state.clock.now() >= view.imageExpiresAtMs) {
        // The Discord CDN's answer, wrapped by the gateway's image proxy.
        res.status(403).json({ error: 'This content is no longer available.' });
        return;
      }
      res.status(200).type('image/png').send(renderPng(task.mediaSeed, px));
      return;
    }
    if (view.status === 'IN_PROGRESS') {
      res.status(200).type('image/png').send(renderPng(`${task.mediaSeed}|preview|${view.progress}`, px));
      return;
    }
    res.status(404).json({ error: 'image not available' });
  });

  return router;
}

const str = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');
const okResult = (id: string, description = '提交成功', properties: Record<string, unknown> = { discordInstanceId: DISCORD_INSTANCE_ID }) =>
  mjSubmitResult(1, description, id, properties);

function outcomeOf(text: string): MjOutcome {
  const markers = markersIn(text);
  if (markers.has('sim:timeout')) return 'stall';
  if (markers.has('sim:cancel')) return 'cancelled';
  if (markers.has('sim:fail-raw')) return 'failed_raw';
  if (markers.has('sim:fail')) return 'failed';
  return 'success';
}

/** Quota is checked by the gateway before the proxy sees anything (E5 `quota_not_enough`). */
function canPay(state: SimulatorState, res: Response, cost: number): boolean {
  if (state.balance.canAfford(cost)) return true;
  res.status(400).json(mjGatewayError('quota_not_enough', '', 4));
  return false;
}

/** The proxy's answer to the submit markers (codes 4, 9, 23; 22 is accepted and rewritten). Returns true when answered. */
function answerSubmitMarkers(res: Response, text: string): boolean {
  const markers = markersIn(text);
  if (markers.has('sim:invalid')) {
    res.json(mjSubmitResult(4, '参数校验错误: 无效的参数'));
    return true;
  }
  if (markers.has('sim:queue-full')) {
    res.json(mjSubmitResult(23, '队列已满，请稍后尝试', null, { numberOfQueues: 10, discordInstanceId: DISCORD_INSTANCE_ID }));
    return true;
  }
  if (markers.has('sim:system-error')) {
    res.json(mjSubmitResult(9, '提交失败，队列已满，请稍后重试'));
    return true;
  }
  return false;
}

function checkImages(res: Response, images: unknown[]): string[] | null {
  const sources = images.map(asString);
  if (sources.some((s) => !DATA_URL.test(s))) {
    res.json(mjSubmitResult(4, 'base64格式错误'));
    return null;
  }
  return sources.map((s) => sha256Hex(Buffer.from(s.slice(s.indexOf(',') + 1), 'base64')));
}

type NewMjTask = {
  action: MjAction;
  key: string;
  prompt: string;
  promptEn: string;
  description: string;
  body: JsonObject;
  inputSha256s: string[];
  seedParts: string[];
  outcome: MjOutcome;
  parentId?: string;
  customId?: string;
  modal?: MjTask['modal'];
  cost: number;
};

function createMjTask(state: SimulatorState, spec: NewMjTask): MjTask {
  const o = state.options.tasks;
  const now = state.clock.now();
  const seq = state.tasks.nextSeq();
  const id = state.tasks.mjId(now);
  const task = state.tasks.add<Omit<MjTask, 'counters' | 'isRefunded'>>({
    id,
    family: 'mj',
    seq,
    key: spec.key,
    prompt: spec.prompt,
    state: str(spec.body['state']).slice(0, 255),
    submittedAtMs: now,
    grid: state.tasks.gridFor(seq, state.durationMs(o.pollTickMs), state.durationMs(o.pollSpacingMs)),
    durationMs: state.durationMs(o.mjDurationMs),
    timeoutMs: state.durationMs(o.mjTimeoutMs),
    costQuota: spec.cost,
    inputSha256s: spec.inputSha256s,
    mediaSeed: mjSeed([spec.action, ...spec.seedParts]),
    action: spec.action,
    promptEn: spec.promptEn,
    description: spec.description,
    botType: str(spec.body['botType']) || 'MID_JOURNEY',
    parentId: spec.parentId ?? null,
    customId: spec.customId ?? '',
    outcome: spec.outcome,
    modal: spec.modal ?? null,
    modalSubmittedAtMs: null,
    hash: state.tasks.uuidFor(id),
    imageTtlMs: state.durationMs(o.mjImageTtlSec * 1000),
    hasButtons: o.mjButtons,
  });
  state.balance.charge(spec.cost);
  return task;
}

function submitImagine(state: SimulatorState, { body }: Submit, res: Response): void {
  const prompt = str(body['prompt']);
  state.tasks.countAttempt(prompt, str(body['state']));
  if (prompt === '') {
    res.status(400).json(mjGatewayError('prompt_is_required', '', 4));
    return;
  }
  const cost = state.options.tasks.mjCostQuota;
  if (!canPay(state, res, cost)) return;
  const bannedWord = findBannedWord(prompt, state.options.bannedWords);
  if (bannedWord) {
    res.json(mjSubmitResult(24, '可能包含敏感词', null, { promptEn: prompt, bannedWord }));
    return;
  }
  if (answerSubmitMarkers(res, prompt)) return;
  const inputSha256s = checkImages(res, asArray(body['base64Array']));
  if (!inputSha256s) return;
  const task = createMjTask(state, {
    action: 'IMAGINE',
    key: prompt,
    prompt,
    promptEn: prompt,
    description: markersIn(prompt).has('sim:queued') ? '排队中，前面还有2个任务' : '提交成功',
    body,
    inputSha256s,
    seedParts: [prompt, inputSha256s.join(',')],
    outcome: outcomeOf(prompt),
    cost,
  });
  if (markersIn(prompt).has('sim:queued')) {
    // Code 22 from the proxy; new-api rewrites `"code":22` to `"code":1` in the body.
    res.json(okResult(task.id, task.description, { numberOfQueues: 2, discordInstanceId: DISCORD_INSTANCE_ID }));
    return;
  }
  res.json(okResult(task.id));
}

function submitAction(state: SimulatorState, { body, requestId }: Submit, res: Response): void {
  const taskId = str(body['taskId']);
  const customId = str(body['customId']);
  state.tasks.countAttempt(`action:${taskId}:${customId}`, str(body['state']));
  // The distributor reads customId before anything else (§9.2).
  if (customId === '') {
    res.status(400).json(gatewayAbort('Invalid request: custom_id_is_required', requestId));
    return;
  }
  const action = actionOfCustomId(customId);
  if (action === 'panic') {
    res.status(500).json(panicError('runtime error: index out of range [1] with length 1'));
    return;
  }
  if (action === 'unknown') {
    res.status(400).json(gatewayAbort(`Invalid request: unknown_action:${customId}`, requestId));
    return;
  }
  const parent = state.tasks.mj(taskId);
  if (!parent) {
    res.status(400).json(mjGatewayError('task_not_found', '', 4));
    return;
  }
  const parentView = observeMjTask(state, parent);
  if (parentView.status !== 'SUCCESS') {
    res.status(400).json(mjGatewayError('task_status_not_success', '', 4));
    return;
  }
  const isModal = MODAL_ACTIONS.has(action);
  const cost = isModal ? 0 : state.options.tasks.mjCostQuota;
  if (!canPay(state, res, cost)) return;
  if (parent.hasButtons && !buttonsFor(parent.action, parent.hash).some((b) => b.customId === customId)) {
    res.status(404).json(mjSubmitResult(3, '关联任务不存在或已失效'));
    return;
  }
  const isRemix = !isModal && body['enableRemix'] === true && REMIX_ACTIONS.has(action);
  const finalPrompt = parent.promptEn || parent.prompt;
  const task = createMjTask(state, {
    action,
    key: `action:${taskId}:${customId}`,
    prompt: parent.prompt,
    promptEn: finalPrompt,
    description: isModal || isRemix ? 'Waiting for window confirm' : '提交成功',
    body,
    inputSha256s: [],
    seedParts: [parent.mediaSeed, customId],
    outcome: 'success',
    parentId: parent.id,
    customId,
    modal: isModal ? 'visible' : isRemix ? 'after_poll' : null,
    cost,
  });
  if (isModal) {
    // Code 21 is kept for INPAINT and CUSTOM_ZOOM: the task waits for `/submit/modal`.
    res.json(mjSubmitResult(21, task.description, task.id, { finalPrompt, remix: true }));
    return;
  }
  // With remix the proxy answered 21; new-api rewrote it to 1. MODAL shows only on fetch.
  res.json(isRemix ? okResult(task.id, task.description, { finalPrompt, remix: true }) : okResult(task.id));
}

function submitModal(state: SimulatorState, { body }: Submit, res: Response): void {
  const taskId = str(body['taskId']);
  const prompt = str(body['prompt']);
  state.tasks.countAttempt(`modal:${taskId}`, str(body['state']));
  const task = state.tasks.mj(taskId);
  if (!task) {
    res.status(400).json(mjGatewayError('task_not_found', '', 4));
    return;
  }
  const cost = state.options.tasks.mjCostQuota;
  if (!canPay(state, res, cost)) return;
  const view = observeMjTask(state, task);
  if (task.modal === null || task.modalSubmittedAtMs !== null || view.status === 'FAILURE') {
    res.json(mjSubmitResult(4, '任务状态错误'));
    return;
  }
  const mask = str(body['maskBase64']);
  if (task.action === 'INPAINT' && mask === '') {
    res.json(mjSubmitResult(4, 'maskBase64不能为空'));
    return;
  }
  if (mask !== '' && !DATA_URL.test(mask)) {
    res.json(mjSubmitResult(4, 'base64格式错误'));
    return;
  }
  const bannedWord = findBannedWord(prompt, state.options.bannedWords);
  if (bannedWord) {
    res.json(mjSubmitResult(24, '可能包含敏感词', null, { promptEn: prompt, bannedWord }));
    return;
  }
  task.modalSubmittedAtMs = state.clock.now();
  if (prompt !== '') {
    task.prompt = prompt;
    task.promptEn = prompt;
    task.outcome = outcomeOf(prompt);
  }
  task.mediaSeed = mjSeed([task.action, task.mediaSeed, prompt, mask === '' ? '' : sha256Hex(mask)]);
  task.costQuota += cost;
  state.balance.charge(cost);
  state.tasks.countModal(task, `modal:${taskId}`, str(body['state']).slice(0, 255));
  res.json(okResult(task.id));
}

function submitBlend(state: SimulatorState, { body }: Submit, res: Response): void {
  const images = asArray(body['base64Array']);
  const hashes = images.map((s) => sha256Hex(asString(s)));
  const key = `blend:${sha256Hex(hashes.join(','))}`;
  state.tasks.countAttempt(key, str(body['state']));
  const cost = state.options.tasks.mjCostQuota;
  if (!canPay(state, res, cost)) return;
  if (images.length < 2 || images.length > 5) {
    res.json(mjSubmitResult(4, 'base64List参数错误'));
    return;
  }
  const dimensions = str(body['dimensions']) || 'SQUARE';
  const ratio = BLEND_DIMENSIONS[dimensions];
  if (!ratio) {
    res.json(mjSubmitResult(4, 'dimensions参数错误'));
    return;
  }
  const inputSha256s = checkImages(res, images);
  if (!inputSha256s) return;
  const promptEn = `${inputSha256s.map((_, i) => `<#${i + 1}>`).join(' ')} --ar ${ratio}`;
  const task = createMjTask(state, {
    action: 'BLEND',
    key,
    prompt: '',
    promptEn,
    description: '提交成功',
    body,
    inputSha256s,
    seedParts: [dimensions, inputSha256s.join(',')],
    outcome: 'success',
    cost,
  });
  res.json(okResult(task.id));
}

function submitDescribe(state: SimulatorState, { body }: Submit, res: Response): void {
  const base64 = str(body['base64']);
  const link = str(body['link']);
  const key = `describe:${sha256Hex(base64 || link)}`;
  state.tasks.countAttempt(key, str(body['state']));
  const cost = state.options.tasks.mjCostQuota;
  if (!canPay(state, res, cost)) return;
  if (base64 === '' && link === '') {
    res.json(mjSubmitResult(4, 'base64不能为空'));
    return;
  }
  let inputSha256s: string[];
  if (base64 !== '') {
    const checked = checkImages(res, [base64]);
    if (!checked) return;
    inputSha256s = checked;
  } else {
    inputSha256s = [sha256Hex(link)];
  }
  const task = createMjTask(state, {
    action: 'DESCRIBE',
    key,
    prompt: '',
    promptEn: '',
    description: '提交成功',
    body,
    inputSha256s,
    seedParts: [inputSha256s.join(',')],
    outcome: 'success',
    cost,
  });
  res.json(okResult(task.id));
}

