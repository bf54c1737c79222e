/**
 * WARNING: persisted in `jobs.upstream_state`; workers of different versions read each other's rows.
 * Add fields, never rename them.
 *
 * The submit window only moves forward: `ready` → `submitting` → `polling` (submitted: the task id
 * is saved) or `submit_unknown`; back to `ready` only on an answer that says nothing was created.
 *
 * `ready`: nothing submitted (or the gateway answered that nothing was created).
 * `submitting`: a submit call may be in flight. A run that finds this without a task id (and no
 *   answer kept in its process) knows the call's answer was lost: the outcome is unknown.
 * `submit_unknown`: the submit may have created a task, but no answer says which (no answer at all,
 *   a proxy's 502/504/524, or a lost answer). The gateway has no look-up by our reference, so the
 *   job fails `upstream_submit_unknown`; only an explicit retry submits again.
 * `polling`: the task id is saved; never submit again.
 * `downloading`: the gateway reported success; the result is being copied into storage.
 */
export type TaskPhase = 'ready' | 'submitting' | 'submit_unknown' | 'polling' | 'downloading';

export type TaskState = {
  phase: TaskPhase;
  /** ISO time of the last phase change */
  at: string;
  /** submit calls started (gateway refusals such as MJ code 23 included) */
  submits: number;
  /** submits made again because an earlier one's answer was lost (older workers; no longer done) */
  resubmitted?: number;
  /** ISO time the gateway accepted the task */
  submittedAt?: string;
  /** consecutive polls that did not find the task (insert lag right after submit) */
  missing?: number;
  /** consecutive failed calls (429, 5xx, network) */
  errors?: number;
  /** MJ code 23 answers (queue full, nothing created) */
  queueFull?: number;
};

export function readTaskState(value: unknown): TaskState {
  const raw = (value && typeof value === 'object' ? value : {}) as Partial<TaskState>;
  const known: readonly TaskPhase[] = ['submitting', 'submit_unknown', 'polling', 'downloading'];
  const phase: TaskPhase = raw.phase !== undefined && known.includes(raw.phase) ? raw.phase : 'ready';
  return { ...raw, phase, at: typeof raw.at === 'string' ? raw.at : new Date(0).toISOString(), submits: Number(raw.submits ?? 0) };
}
