import type { TestStack } from '@genqueue/testing';
import { pollUntil } from './helpers';

/** Settings that make task kinds quick on a fast-time simulator (video ≈ 1.75 s, MJ ≈ 1 s). */
export const TASK_ENV: Record<string, string> = {
  TASK_POLL_MIN_MS: '100',
  TASK_POLL_MAX_MS: '400',
  MJ_POLL_WINDOW_MS: '10',
  // a wake is a BullMQ job start: the lanes' per-minute limit must not throttle polls in tests
  LANE_VIDEO_RPM: '100000',
  LANE_MJ_RPM: '100000',
  WORKER_LOCK_MS: '2000',
  WORKER_STALLED_INTERVAL_MS: '1000',
  // a job found `submitting` waits this + 5 s before submitting again (a lost answer, not a live call)
  TASK_SUBMIT_TIMEOUT_MS: '8000',
};

export type KeyCounter = { attempts: number; accepted: number; task_ids: string[] };

/** Submissions the simulator saw under one key (video/imagine prompt, `action:<task>:<custom>`, `modal:<task>`, …). */
export async function submissionsByKey(stack: TestStack, key: string): Promise<KeyCounter> {
  const res = await stack.sim.get(`/_sim/tasks?key=${encodeURIComponent(key)}&summary=1`);
  return (res.body.by_key?.[key] as KeyCounter | undefined) ?? { attempts: 0, accepted: 0, task_ids: [] };
}

/** Submissions the simulator saw with this MJ `state` (we put the job id there). */
export async function submissionsByState(stack: TestStack, jobId: string): Promise<KeyCounter> {
  const res = await stack.sim.get(`/_sim/tasks?state=${encodeURIComponent(jobId)}&summary=1`);
  return (res.body.by_state?.[jobId] as KeyCounter | undefined) ?? { attempts: 0, accepted: 0, task_ids: [] };
}

export async function simTask(stack: TestStack, taskId: string): Promise<any> {
  const res = await stack.sim.get(`/_sim/tasks/${encodeURIComponent(taskId)}`);
  if (res.status !== 200) throw new Error(`sim task ${taskId}: ${res.status} ${res.text}`);
  return res.body;
}

export async function setTaskConfig(stack: TestStack, config: Record<string, unknown>): Promise<Record<string, unknown>> {
  const before = await stack.sim.get('/_sim/tasks/config');
  const res = await stack.sim.post('/_sim/tasks/config', { body: config });
  if (res.status !== 200) throw new Error(`task config: ${res.status} ${res.text}`);
  return before.body;
}

/** Waits until the job's row satisfies `check` (for states no endpoint waits on, e.g. "task id saved"). */
export function waitForJob(stack: TestStack, key: string, jobId: string, what: string, check: (job: any) => boolean, timeoutMs = 30_000): Promise<any> {
  return pollUntil(
    what,
    async () => {
      const res = await stack.api.get(`/v1/jobs/${jobId}`, { key });
      return check(res.body) ? res.body : undefined;
    },
    timeoutMs,
  );
}

export const TERMINAL_EVENTS = ['job.succeeded', 'job.failed', 'job.canceled', 'job.expired'];

/**
 * Test-only SQL for a stack's own database: the first `refused` writes that set a job's task id
 * fail, as a Postgres blip right after the gateway accepted a submit would (a sequence counts them,
 * since it is not rolled back with the failing statement). Run the statements in order.
 */
export function refuseTaskIdWritesSql(refused: number): string[] {
  return [
    `CREATE SEQUENCE test_refused_task_id_writes`,
    `CREATE FUNCTION test_refuse_task_id_write() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.upstream_task_id IS NOT NULL AND OLD.upstream_task_id IS NULL
           AND nextval('test_refused_task_id_writes') <= ${refused} THEN
          RAISE EXCEPTION 'injected failure: task id write refused';
        END IF;
        RETURN NEW;
      END $$`,
    `CREATE TRIGGER test_refuse_task_id_write BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION test_refuse_task_id_write()`,
  ];
}
