import type { Project, TestStack } from '@genqueue/testing';
import { pollUntil, useStack } from './helpers';
import { TASK_ENV } from './tasks-helpers';
import { Receiver } from './webhooks-helpers';

/** The built-in price catalog's figures, which the simulator charges too (apps/simulator/src/pricing.ts). */
const GPT_IMAGE = { ratio: 5, completionRatio: 8 };
const VIDEO_UNITS_PER_SECOND = 50_000; // US$0.10
const MJ_UNITS = 25_000; // US$0.05
const ALERT_USD = 1;

/** The cost ledger end to end: every job kind records what the gateway charged, with its source. */
describe('cost ledger', () => {
  let stack: TestStack;
  let project: Project;
  let receiver: Receiver;
  const jobIds: string[] = [];
  const startedAt = new Date(Date.now() - 60_000);

  useStack(
    (started) => ({ stack, project } = started),
    {
      env: {
        ...TASK_ENV,
        // every estimate reads the balance at once (the simulator's token route limit is lifted below)
        GATEWAY_BALANCE_MIN_GAP_MS: '0',
        GATEWAY_BALANCE_ALERT_USD: String(ALERT_USD),
      },
    },
  );

  beforeAll(async () => {
    const res = await stack.sim.post('/_sim/config', { body: { usage_token_limit: null, global_api_limit: null } });
    expect(res.status).toBe(200);
    receiver = await Receiver.start();
  });

  afterAll(async () => {
    await receiver?.close();
  });

  /** The job's ledger entries, once the recorder has written `count` of them. */
  async function costsOf(jobId: string, count = 1): Promise<any> {
    return pollUntil(`${count} ledger entries of ${jobId}`, async () => {
      const res = await stack.api.get(`/v1/usage/jobs/${jobId}`, { key: project.key });
      expect(res.status).toBe(200);
      return res.body.data.length >= count ? res.body : undefined;
    });
  }

  async function run(body: Record<string, unknown>): Promise<any> {
    const job = await stack.runJob(project.key, body);
    jobIds.push(job.id);
    return job;
  }

  const balanceUsed = async (): Promise<number> => (await stack.sim.get('/_sim/state')).body.balance.used as number;

  it('image.generate: usage tokens priced with the model ratio and completion ratio', async () => {
    const job = await run({ type: 'image.generate', input: { prompt: 'a paper boat', model: 'gpt-image-1' } });
    expect(job.status).toBe('succeeded');
    const { input_tokens: input, output_tokens: output } = job.output.usage;
    const costs = await costsOf(job.id);
    const expected = Math.round((input + output * GPT_IMAGE.completionRatio) * GPT_IMAGE.ratio);
    expect(costs.data).toEqual([
      expect.objectContaining({ object: 'job_cost', kind: 'charge', source: 'usage', estimated: false, units: expected, usd: expected / 500_000, model: 'gpt-image-1' }),
    ]);
    expect(costs.data[0].detail).toMatchObject({ prompt_tokens: input, completion_tokens: output, ratio: 5, completion_ratio: 8 });
    expect(costs.units).toBe(expected);
  });

  it('media.chat and embedding.batch: usage tokens at ratio 1', async () => {
    const chat = await run({ type: 'media.chat', input: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'say something short' }] } });
    expect(chat.status).toBe('succeeded');
    const chatCosts = await costsOf(chat.id);
    expect(chatCosts.data[0]).toMatchObject({ source: 'usage', units: chat.output.usage.prompt_tokens + chat.output.usage.completion_tokens });

    const batch = await run({ type: 'embedding.batch', input: { inputs: ['alpha beta', 'gamma delta epsilon', 'zeta'], chunk_size: 10 } });
    expect(batch.status).toBe('succeeded');
    const batchCosts = await costsOf(batch.id);
    expect(batchCosts.data[0]).toMatchObject({ source: 'usage', estimated: false, units: batch.output.usage.prompt_tokens });
    expect(batch.output.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('video.generate: the billing header (seconds × size ratio × price per second)', async () => {
    const job = await run({ type: 'video.generate', input: { prompt: 'waves on a beach', model: 'sora-2', seconds: '8', size: '1280x720' } });
    expect(job.status).toBe('succeeded');
    const costs = await costsOf(job.id);
    expect(costs.data).toEqual([expect.objectContaining({ kind: 'charge', source: 'billing_header', estimated: false, units: 8 * VIDEO_UNITS_PER_SECOND, model: 'sora-2' })]);
    expect(costs.data[0].detail).toMatchObject({ other_ratios: { seconds: 8, size: 1 }, price_usd: 0.1, task_id: job.upstream.task_id });
  });

  it('a failed video task records the charge and the gateway’s refund (a negative entry)', async () => {
    const job = await run({ type: 'video.generate', input: { prompt: 'a storm at sea sim:fail', model: 'sora-2', seconds: '4' } });
    expect(job.status).toBe('failed');
    const costs = await costsOf(job.id, 2);
    const charge = costs.data.find((c: any) => c.kind === 'charge');
    const refund = costs.data.find((c: any) => c.kind === 'refund');
    expect(charge).toMatchObject({ source: 'billing_header', units: 4 * VIDEO_UNITS_PER_SECOND });
    expect(refund).toMatchObject({ source: 'billing_header', units: -4 * VIDEO_UNITS_PER_SECOND, detail: expect.objectContaining({ refund_of: charge.id }) });
    expect(costs.units).toBe(0);
  });

  it('mj.imagine: the task price of mj_imagine', async () => {
    const job = await run({ type: 'mj.imagine', input: { prompt: 'a lighthouse at dusk' } });
    expect(job.status).toBe('succeeded');
    const costs = await costsOf(job.id);
    expect(costs.data).toEqual([expect.objectContaining({ kind: 'charge', source: 'task_price', estimated: false, units: MJ_UNITS, model: 'mj_imagine' })]);
  });

  it('audio.speech shows no usage: the balance before and after, marked estimated', async () => {
    const before = await balanceUsed();
    const job = await run({ type: 'audio.speech', input: { input: 'read this aloud', voice: 'alloy', response_format: 'wav' } });
    expect(job.status).toBe('succeeded');
    const charged = (await balanceUsed()) - before;
    expect(charged).toBe(5_000);
    const costs = await costsOf(job.id);
    expect(costs.data).toEqual([expect.objectContaining({ kind: 'charge', source: 'balance_delta', estimated: true, units: charged })]);
    expect(costs.estimated).toBe(true);
    expect(costs.data[0].detail).toMatchObject({ balance_delta: charged, other_jobs_units: 0 });
  });

  it('/v1/usage and /admin/v1/usage: per day and type, totals equal the sum of the jobs, and the simulator’s own count', async () => {
    let sum = 0;
    for (const id of jobIds) sum += (await costsOf(id)).units;
    const to = new Date(Date.now() + 60_000).toISOString();
    const mine = await stack.api.get(`/v1/usage?from=${startedAt.toISOString()}&to=${to}`, { key: project.key });
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ object: 'usage', project_id: project.id, totals: { units: sum, usd: sum / 500_000 } });
    const types = new Set(mine.body.data.map((r: any) => r.type));
    expect(types).toEqual(new Set(['image.generate', 'media.chat', 'embedding.batch', 'video.generate', 'mj.imagine', 'audio.speech']));
    const video = mine.body.data.find((r: any) => r.type === 'video.generate');
    expect(video).toMatchObject({ day: new Date().toISOString().slice(0, 10), jobs: 2, units: 8 * VIDEO_UNITS_PER_SECOND, refunded_units: 4 * VIDEO_UNITS_PER_SECOND });
    // the simulator charged (and refunded) the same amounts
    expect(await balanceUsed()).toBe(sum);

    const other = await stack.createProject();
    const otherJob = await stack.runJob(other.key, { type: 'mj.imagine', input: { prompt: 'another project’s lighthouse' } });
    expect(otherJob.status).toBe('succeeded');
    await pollUntil('the other project’s entry', async () => {
      const res = await stack.api.get(`/v1/usage/jobs/${otherJob.id}`, { key: other.key });
      return res.body.data?.length === 1 ? true : undefined;
    });
    const all = await stack.api.get(`/admin/v1/usage?from=${startedAt.toISOString()}&to=${to}`, { key: stack.adminKey });
    expect(all.status).toBe(200);
    expect(all.body.totals.units).toBe(sum + MJ_UNITS);
    expect(all.body.projects).toEqual(
      expect.arrayContaining([expect.objectContaining({ project_id: project.id, units: sum }), expect.objectContaining({ project_id: other.id, units: MJ_UNITS })]),
    );
    expect(all.body.data).toContainEqual(expect.objectContaining({ project_id: other.id, type: 'mj.imagine', units: MJ_UNITS, jobs: 1 }));
    expect(all.body.balance).toMatchObject({ object: 'gateway_balance', available_units: expect.any(Number) });
    // one project's key sees only its own spend; another project's job is not found
    expect((await stack.api.get(`/v1/usage/jobs/${otherJob.id}`, { key: project.key })).status).toBe(404);
    const onlyOther = await stack.api.get(`/admin/v1/usage?project_id=${other.id}&from=${startedAt.toISOString()}&to=${to}`, { key: stack.adminKey });
    expect(onlyOther.body.totals.units).toBe(MJ_UNITS);
  });

  it('bad inputs answer 400 in the contract’s error shape', async () => {
    const cases = [
      `/v1/usage?from=yesterday`,
      `/v1/usage?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z`,
      `/v1/usage?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`,
    ];
    for (const url of cases) {
      const res = await stack.api.get(url, { key: project.key });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { code: 'invalid_request', message: expect.any(String), details: [expect.objectContaining({ path: expect.any(String), message: expect.any(String) })] } });
    }
    const admin = await stack.api.get('/admin/v1/usage?to=not-a-date', { key: stack.adminKey });
    expect(admin.status).toBe(400);
    expect(admin.body.error).toMatchObject({ code: 'invalid_request', details: [expect.objectContaining({ path: 'to' })] });
    expect((await stack.api.get('/admin/v1/usage', { key: project.key })).status).toBe(403);
    expect((await stack.api.get('/v1/usage')).status).toBe(401);
  });

  it('gateway.balance_low fires once when the balance crosses GATEWAY_BALANCE_ALERT_USD', async () => {
    const url = receiver.target('/balance');
    const endpoint = await stack.api.post('/v1/webhook-endpoints', { key: project.key, body: { url, event_types: ['gateway.balance_low'] } });
    expect(endpoint.status).toBe(201);
    // 505 000 units left (US$1.01), each speech costs 10 000: the second one crosses US$1
    const config = await stack.sim.post('/_sim/config', { body: { quota_granted: 515_000, audio_cost_quota: 10_000 } });
    expect(config.status).toBe(200);
    const speech = { type: 'audio.speech', input: { input: 'low balance', voice: 'alloy', response_format: 'wav' } };
    const jobs = [];
    for (let i = 0; i < 3; i += 1) {
      const job = await stack.runJob(project.key, speech);
      expect(job.status).toBe('succeeded');
      await costsOf(job.id);
      jobs.push(job);
    }
    const [received] = await receiver.waitForCount('/balance', 1);
    expect(received?.json).toMatchObject({
      type: 'gateway.balance_low',
      data: { object: 'gateway_balance', available_units: expect.any(Number), threshold_usd: ALERT_USD },
    });
    expect((received?.json as any).data.available_units).toBeLessThan(500_000);
    // every snapshot after the crossing is in (the third job's cost needed one): still one delivery
    const deliveries = await stack.api.get(`/admin/v1/webhook-deliveries?event_type=gateway.balance_low`, { key: stack.adminKey });
    expect(deliveries.status).toBe(200);
    expect(deliveries.body.data).toHaveLength(1);
    expect(receiver.on('/balance')).toHaveLength(1);
  });
});
