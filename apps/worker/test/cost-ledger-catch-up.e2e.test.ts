import { Client } from 'pg';
import type { Project, TestStack } from '@genqueue/testing';
import { pollUntil, useStack } from './helpers';
import { TASK_ENV } from './tasks-helpers';

/** The balance timer's catch-up: finished jobs without a ledger entry get one (a worker stopped before recording). */
describe('cost ledger catch-up', () => {
  let stack: TestStack;
  let project: Project;

  useStack((started) => ({ stack, project } = started), {
    env: { ...TASK_ENV, GATEWAY_BALANCE_INTERVAL_MS: '300', GATEWAY_BALANCE_MIN_GAP_MS: '0' },
  });

  beforeAll(async () => {
    const res = await stack.sim.post('/_sim/config', { body: { usage_token_limit: null, global_api_limit: null } });
    expect(res.status).toBe(200);
  });

  async function entries(jobId: string, count: number): Promise<any[]> {
    return pollUntil(`${count} ledger entries of ${jobId}`, async () => {
      const res = await stack.api.get(`/v1/usage/jobs/${jobId}`, { key: project.key });
      return res.body.data?.length >= count ? (res.body.data as any[]) : undefined;
    });
  }

  it('prices finished jobs with no entry from their input (tasks, refund included) or their balance snapshots', async () => {
    const video = await stack.runJob(project.key, { type: 'video.generate', input: { prompt: 'a calm lake at dawn', model: 'sora-2', seconds: '8' } });
    const failed = await stack.runJob(project.key, { type: 'video.generate', input: { prompt: 'a storm sim:fail', model: 'sora-2', seconds: '4' } });
    const speech = await stack.runJob(project.key, { type: 'audio.speech', input: { input: 'catch up', voice: 'alloy', response_format: 'wav' } });
    expect([video.status, failed.status, speech.status]).toEqual(['succeeded', 'failed', 'succeeded']);
    const recorded = { video: await entries(video.id, 1), failed: await entries(failed.id, 2), speech: await entries(speech.id, 1) };
    expect(recorded.speech[0]).toMatchObject({ source: 'balance_delta', units: 5_000 });

    // as if the worker had stopped before recording them
    const db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      const removed = await db.query('DELETE FROM job_costs WHERE job_id = ANY($1)', [[video.id, failed.id, speech.id]]);
      expect(removed.rowCount).toBe(4);
    } finally {
      await db.end();
    }

    const [videoAgain, failedAgain, speechAgain] = [await entries(video.id, 1), await entries(failed.id, 2), await entries(speech.id, 1)];
    expect(videoAgain).toEqual([expect.objectContaining({ kind: 'charge', source: 'task_price', units: 400_000, detail: expect.objectContaining({ recovered: true, task_id: video.upstream.task_id }) })]);
    expect(failedAgain.map((c) => [c.kind, c.units]).sort()).toEqual([
      ['charge', 200_000],
      ['refund', -200_000],
    ]);
    expect(speechAgain).toEqual([expect.objectContaining({ source: 'balance_delta', estimated: true, units: recorded.speech[0].units })]);
  });
});
