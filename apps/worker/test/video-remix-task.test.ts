import type { Job } from '@genqueue/db';
import pino from 'pino';
import { JobFailure } from '../src/handlers/job-failure';
import type { TaskContext } from '../src/tasks/task-kind';
import { videoTaskKind } from '../src/tasks/video.task';

/** The video task kind's `video.remix` side on fakes: the parent it re-reads, and the one remix call it makes. */

const PROJECT = 'prj_01JD7Q3V9XK6M2N4P8R0S5T7VW';
const job = (id: string, fields: Partial<Job>): Job =>
  ({ id, projectId: PROJECT, type: 'video.generate', status: 'succeeded', input: {}, parentId: null, upstreamTaskId: null, ...fields }) as unknown as Job;

const ORIGIN = job('job_origin', { input: { prompt: 'a', model: 'sora-2-pro', seconds: '12', size: '1792x1024' }, upstreamTaskId: 'task_origin' });
const FIRST_REMIX = job('job_remix1', { type: 'video.remix', input: { parent_id: 'job_origin', prompt: 'b' }, parentId: 'job_origin', upstreamTaskId: 'task_remix1' });

function remixContext(parentId: string, others: Job[]) {
  const jobs = new Map([ORIGIN, FIRST_REMIX, ...others].map((j) => [j.id, j]));
  const calls: Array<{ id: string; prompt: string }> = [];
  const charges: unknown[][] = [];
  const self = job('job_self', { type: 'video.remix', status: 'running', input: { parent_id: parentId, prompt: 'c' }, parentId });
  const ctx = {
    job: self,
    type: 'video.remix',
    input: { parent_id: parentId, prompt: 'c' },
    findJob: async (id: string) => jobs.get(id) ?? null,
    upstream: {
      videos: {
        remix: async (id: string, request: { prompt: string }) => {
          calls.push({ id, prompt: request.prompt });
          return { id: 'task_new', status: 'pending', rawStatus: 'queued', progress: 0, otherRatios: { seconds: 12, size: 1.666667 }, raw: {} };
        },
      },
    },
    costs: { videoCharged: async (...args: unknown[]) => void charges.push(args) },
    signal: new AbortController().signal,
    logger: pino({ level: 'silent' }),
  } as unknown as TaskContext<'video.remix'>;
  return { ctx, calls, charges };
}

describe('video.remix in the video task kind', () => {
  it('submits one remix of the parent task, billed on the original video.generate of its chain', async () => {
    const { ctx, calls, charges } = remixContext('job_remix1', []);
    const prepared = await videoTaskKind.prepare(ctx);
    expect(prepared).toEqual({ kind: 'remix', parentTaskId: 'task_remix1', prompt: 'c', basis: { model: 'sora-2-pro', seconds: 12, sizeRatio: 1.666667 } });
    expect(await videoTaskKind.submit(ctx, prepared)).toEqual({ kind: 'accepted', taskId: 'task_new', upstreamStatus: 'queued', progress: 0 });
    expect(calls).toEqual([{ id: 'task_remix1', prompt: 'c' }]);
    expect(charges).toEqual([[ctx.job, 'task_new', { seconds: 12, size: 1.666667 }, { model: 'sora-2-pro', seconds: 12, sizeRatio: 1.666667 }]]);
  });

  it.each([
    ['missing', 'job_gone', [], /not a video job of this project/],
    ['of another project', 'job_foreign', [job('job_foreign', { projectId: 'prj_other', upstreamTaskId: 'task_f' })], /not a video job of this project/],
    ['an image job', 'job_image', [job('job_image', { type: 'image.generate', upstreamTaskId: null })], /not a video job/],
    ['failed', 'job_failed', [job('job_failed', { status: 'failed', upstreamTaskId: 'task_x' })], /is failed; only a succeeded video job/],
    ['succeeded without a task id', 'job_bare', [job('job_bare', {})], /without a gateway task/],
  ])('fails for good, before any submit, when the parent is %s', async (_name, parentId, others, message) => {
    const { ctx, calls } = remixContext(parentId, others);
    const failure = await videoTaskKind.prepare(ctx).then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(JobFailure);
    expect(failure).toMatchObject({ code: 'invalid_input', retryable: false, message: expect.stringMatching(message) });
    expect(calls).toEqual([]);
  });
});
