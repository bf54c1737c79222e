import { createHash } from 'node:crypto';
import { Router, type Response } from 'express';
import { asObject, jsonBody } from '../body';
import { sha256Hex } from '../hash';
import { videoContent } from '../media/produce';
import { renderPng } from '../media/png';
import type { SimulatorState } from '../state';
import { observeMjTask, observeVideoTask } from '../tasks/observe';
import type { SimTask, SubmissionKeyCounter } from '../tasks/task-store';
import { patchTaskOptions, presentTaskOptions } from '../tasks/task-options';

/**
 * `/_sim/tasks*`: per-task counters and state for tests and benches (no auth, not counted).
 *
 * - `GET /_sim/tasks[?family=video|mj][&key=…][&state=…][&summary=1]`
 * - `GET /_sim/tasks/{id}`: one task, with its timeline and result hash
 * - `GET|POST /_sim/tasks/config`: task options (snake_case), changes apply to new tasks
 */
export function tasksControlRoutes(state: SimulatorState): Router {
  const router = Router();
  router.use('/_sim/tasks', jsonBody);

  router.get('/_sim/tasks/config', (_req, res) => {
    res.json(presentTaskOptions(state.options.tasks));
  });
  router.post('/_sim/tasks/config', (req, res) => {
    const problem = patchTaskOptions(state.options.tasks, asObject(req.body));
    if (problem) return badRequest(res, problem);
    res.json(presentTaskOptions(state.options.tasks));
  });

  router.get('/_sim/tasks', (req, res) => {
    const q = (name: string): string | undefined => (typeof req.query[name] === 'string' ? (req.query[name] as string) : undefined);
    const family = q('family');
    const key = q('key') ?? q('prompt');
    const stateFilter = q('state');
    let tasks = [...state.tasks.all()];
    if (family !== undefined) tasks = tasks.filter((t) => t.family === family);
    if (key !== undefined) tasks = tasks.filter((t) => t.key === key);
    if (stateFilter !== undefined) tasks = tasks.filter((t) => t.state === stateFilter);
    const presented = tasks.map((t) => presentTask(state, t));
    const totals = {
      tasks: presented.length,
      submissions: presented.reduce((n, t) => n + t.submissions, 0),
      modal_submissions: presented.reduce((n, t) => n + t.modal_submissions, 0),
      status_requests: presented.reduce((n, t) => n + t.status_requests, 0),
      fetch_requests: presented.reduce((n, t) => n + t.fetch_requests, 0),
      list_requests: presented.reduce((n, t) => n + t.list_requests, 0),
      content_requests: presented.reduce((n, t) => n + t.content_requests, 0),
      image_requests: presented.reduce((n, t) => n + t.image_requests, 0),
      by_status: countBy(presented.map((t) => `${t.family}:${t.status}`)),
    };
    res.json({
      now_ms: state.clock.now(),
      submit_attempts: state.tasks.submitAttempts,
      totals,
      by_key: presentKeys(state.tasks.keys(), key),
      by_state: presentKeys(state.tasks.states(), stateFilter),
      ...(q('summary') === '1' ? {} : { tasks: presented }),
    });
  });

  router.get('/_sim/tasks/:id', (req, res) => {
    const task = state.tasks.get(String(req.params['id']));
    if (!task) {
      res.status(404).json({ error: { message: 'unknown task', type: 'invalid_request_error' } });
      return;
    }
    res.json({ ...presentTask(state, task), ...presentDetail(state, task) });
  });

  return router;
}

const badRequest = (res: Response, message: string): void => {
  res.status(400).json({ error: { message, type: 'invalid_request_error' } });
};

const countBy = (values: string[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
};

function presentKeys(map: Map<string, SubmissionKeyCounter>, only: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, c] of map) {
    if (only !== undefined && key !== only) continue;
    out[key] = { attempts: c.attempts, accepted: c.accepted, task_ids: [...c.taskIds] };
  }
  return out;
}

function presentTask(state: SimulatorState, task: SimTask) {
  const c = task.counters;
  const common = {
    id: task.id,
    family: task.family,
    key: task.key,
    prompt: task.prompt,
    state: task.state,
    submitted_at_ms: task.submittedAtMs,
    submissions: c.submissions,
    modal_submissions: c.modalSubmissions,
    status_requests: c.statusRequests,
    fetch_requests: c.fetchRequests,
    list_requests: c.listRequests,
    content_requests: c.contentRequests,
    image_requests: c.imageRequests,
    cost_quota: task.costQuota,
    refunded: task.isRefunded,
  };
  if (task.family === 'video') {
    const view = observeVideoTask(state, task);
    return { ...common, action: task.action, model: task.model, status: view.internal, progress: `${view.progress}%`, polls: view.polls, terminal_at_ms: view.terminalAtMs };
  }
  const view = observeMjTask(state, task);
  return { ...common, action: task.action, model: 'midjourney', status: view.status, progress: view.progress, polls: view.polls, terminal_at_ms: view.terminalAtMs };
}

/** What a test needs to check a stored artifact: the bytes the result URL serves. */
function presentDetail(state: SimulatorState, task: SimTask): Record<string, unknown> {
  if (task.family === 'video') {
    const view = observeVideoTask(state, task);
    const content = videoContent(task.mediaSeed, task.prompt);
    const hash = createHash('sha256');
    for (const piece of content.pieces()) hash.update(piece);
    return {
      outcome: task.outcome,
      seconds: task.seconds,
      size: task.size,
      fail_reason: view.failReason,
      raw_status: view.raw.status,
      content_expires_at_ms: view.contentExpiresAtMs,
      result: { content_type: 'video/mp4', sha256: hash.digest('hex'), bytes: content.bytes },
    };
  }
  const view = observeMjTask(state, task);
  const png = renderPng(task.mediaSeed, state.options.imagePx);
  return {
    outcome: task.outcome,
    parent_id: task.parentId,
    custom_id: task.customId,
    modal: task.modal,
    modal_submitted_at_ms: task.modalSubmittedAtMs,
    fail_reason: view.failReason,
    image_expires_at_ms: view.imageExpiresAtMs,
    result: { content_type: 'image/png', sha256: sha256Hex(png), bytes: png.length },
  };
}
