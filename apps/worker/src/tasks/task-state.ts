/**
 * WARNING: persisted in `jobs.upstream_state`; workers of different versions read each other's rows.
 * Add fields, never rename them.
 *
 * `ready`: nothing submitted (or the gateway answered that nothing was created).
 * `submitting`: a submit call may be in flight; if a worker finds this without a task id, the call's
 *   answer was lost (crash in the window between the answer and the saved id) and it submits again.
 * `polling`: the task id is saved; never submit again.
 * `downloading`: the gateway reported success; the result is being copied into storage.
 */
export type TaskPhase = 'ready' | 'submitting' | 'polling' | 'downloading';

export type TaskState = {
  phase: TaskPhase;
  /** ISO time of the last phase change */
  at: string;
  /** submit calls started (gateway refusals such as MJ code 23 included) */
  submits: number;
  /** submits made again because an earlier one's answer was lost */
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
  const phase: TaskPhase = raw.phase === 'submitting' || raw.phase === 'polling' || raw.phase === 'downloading' ? raw.phase : 'ready';
  return { ...raw, phase, at: typeof raw.at === 'string' ? raw.at : new Date(0).toISOString(), submits: Number(raw.submits ?? 0) };
}
