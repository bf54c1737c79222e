import { TestStack, type Project } from '@genqueue/testing';
import { StackRedis, submit } from './helpers';
import { Receiver, signaturesOf, verifyWith, type Received } from './webhooks-helpers';

const SCHEDULE_MS = [300, 600];
const TIMEOUT_MS = 1_500;

/** Webhooks end to end: real API, worker and simulator processes, a local receiver, the reference verifier. */
describe('webhooks', () => {
  let stack: TestStack;
  let receiver: Receiver;
  let redis: StackRedis;
  let pathSeq = 0;
  const path = (name: string): string => `/${name}-${(pathSeq += 1)}`;

  beforeAll(async () => {
    receiver = await Receiver.start();
    stack = await TestStack.start({
      env: {
        ALLOW_PRIVATE_URLS: 'true',
        WEBHOOK_RETRY_SCHEDULE_MS: SCHEDULE_MS.join(','),
        WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
        // a killed worker's delivery moves on after 2 s
        WORKER_LOCK_MS: '2000',
        WORKER_STALLED_INTERVAL_MS: '1000',
      },
    });
    redis = new StackRedis(stack);
  }, 120_000);

  afterAll(async () => {
    await redis?.close();
    await stack?.stop();
    await receiver?.close();
  });

  const projectSecret = async (project: Project): Promise<string> => {
    const res = await stack.api.get('/v1/webhook-secret', { key: project.key });
    expect(res.status).toBe(200);
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    return res.body.secret as string;
  };

  const deliveries = async (project: Project, query: string): Promise<any[]> => {
    const res = await stack.api.get(`/v1/webhook-deliveries?${query}`, { key: project.key });
    expect(res.status).toBe(200);
    return res.body.data;
  };

  /** Holds until the job's deliveries are all final (succeeded or failed), through the list route. */
  const settledDeliveries = async (project: Project, jobId: string, count: number): Promise<any[]> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const data = await deliveries(project, `job_id=${jobId}`);
      if (data.length >= count && data.every((d) => d.status !== 'pending')) return data;
      if (Date.now() > deadline) throw new Error(`deliveries of ${jobId} not settled: ${JSON.stringify(data)}`);
      // no event announces a recorded attempt: the list is read again shortly
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('retries a receiver answering 500 twice, then 200: three attempts, one webhook-id, every signature valid', async () => {
    const project = await stack.createProject();
    const secret = await projectSecret(project);
    const target = path('flaky');
    const url = receiver.target(target, (_req, res, index) => {
      res.writeHead(index < 2 ? 500 : 200).end(index < 2 ? 'not yet' : 'thanks');
    });
    const job = await submit(stack, project.key, {
      type: 'image.generate',
      input: { prompt: 'a fox for the flaky receiver' },
      webhook_url: url,
      webhook_events: ['job.succeeded'],
    });
    const seen = await receiver.waitForCount(target, 3);
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(seen[0]!.headers['webhook-id']).toMatch(/^msg_[0-9A-Z]{26}$/);
    for (const received of seen) {
      const payload = verifyWith(secret, received) as any;
      expect(payload).toMatchObject({ type: 'job.succeeded', data: { id: job.id, object: 'job', status: 'succeeded' } });
      expect(Object.keys(payload)).toEqual(['type', 'timestamp', 'data']);
      expect(received.headers['content-type']).toBe('application/json');
    }
    // the retries waited (about) as the schedule says
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(SCHEDULE_MS[0]! - 50);
    expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(SCHEDULE_MS[1]! - 50);
    // artifact links in the payload are signed and usable without a key
    const artifact = seen[2]!.json.data.artifacts[0];
    expect(artifact.url).toContain('sig=');
    expect((await fetch(artifact.url)).status).toBe(200);

    const [delivery] = await settledDeliveries(project, job.id, 1);
    expect(delivery).toMatchObject({
      object: 'webhook_delivery',
      webhook_id: seen[0]!.headers['webhook-id'],
      event_type: 'job.succeeded',
      job_id: job.id,
      endpoint_id: null,
      url,
      status: 'succeeded',
    });
    expect(delivery.attempts.map((a: any) => [a.status_code, a.error])).toEqual([
      [500, null],
      [500, null],
      [200, null],
    ]);
    for (const attempt of delivery.attempts) {
      expect(typeof attempt.duration_ms).toBe('number');
      expect(Date.parse(attempt.at)).not.toBeNaN();
    }
  });

  it('retries a receiver that never answers on the (shortened) schedule, then gives up as failed', async () => {
    const project = await stack.createProject();
    const secret = await projectSecret(project);
    const target = path('silent');
    const url = receiver.target(target, (_req, res) => receiver.hold(res));
    const job = await submit(stack, project.key, {
      type: 'image.generate',
      input: { prompt: 'a fox nobody hears' },
      webhook_url: url,
      webhook_events: ['job.succeeded'],
    });
    const [delivery] = await settledDeliveries(project, job.id, 1);
    expect(delivery.status).toBe('failed');
    expect(delivery.attempts).toHaveLength(SCHEDULE_MS.length + 1);
    for (const attempt of delivery.attempts) {
      expect(attempt.status_code).toBeNull();
      expect(attempt.error).toMatch(/timeout/);
      expect(attempt.duration_ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    }
    const seen = receiver.on(target);
    expect(seen).toHaveLength(SCHEDULE_MS.length + 1);
    for (const received of seen) verifyWith(secret, received);
  });

  it('signs with both secrets for a day after a rotation, each verifiable on its own', async () => {
    const project = await stack.createProject();
    const oldSecret = await projectSecret(project);
    const rotated = await stack.api.post('/v1/webhook-secret/rotate', { key: project.key, body: {} });
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    expect(await projectSecret(project)).toBe(newSecret);

    const target = path('rotation');
    await submit(stack, project.key, {
      type: 'image.generate',
      input: { prompt: 'a fox after a rotation' },
      webhook_url: receiver.target(target),
      webhook_events: ['job.succeeded'],
    });
    const [received] = await receiver.waitForCount(target, 1);
    expect(signaturesOf(received!)).toHaveLength(2);
    for (const signature of signaturesOf(received!)) expect(signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verifyWith(newSecret, received!)).toMatchObject({ type: 'job.succeeded' });
    expect(verifyWith(oldSecret, received!)).toMatchObject({ type: 'job.succeeded' });
    const stranger = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    expect(() => verifyWith(stranger, received!)).toThrow();
  });

  it('delivers to project endpoints by their event-type filters, each signed with its own secret; redeliver sends again', async () => {
    const project = await stack.createProject();
    const allPath = path('ep-all');
    const finalPath = path('ep-final');
    const failedPath = path('ep-failed');
    const create = async (p: string, body: Record<string, unknown>) => {
      const res = await stack.api.post('/v1/webhook-endpoints', { key: project.key, body: { url: receiver.target(p), ...body } });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ object: 'webhook_endpoint', id: expect.stringMatching(/^wep_/), secret: expect.stringMatching(/^whsec_/) });
      return res.body;
    };
    const all = await create(allPath, { description: 'everything' });
    const final = await create(finalPath, { event_types: ['job.succeeded'] });
    await create(failedPath, { event_types: ['job.failed'] });
    const job = await submit(stack, project.key, { type: 'image.generate', input: { prompt: 'a fox for the endpoints' } });

    const toAll = await receiver.waitFor('job.started and job.succeeded at the all-types endpoint', () =>
      ['job.started', 'job.succeeded'].every((t) => receiver.on(allPath).some((r) => r.json?.type === t && r.json?.data?.id === job.id)),
    );
    expect(toAll.length).toBeGreaterThan(0);
    const [toFinal] = await receiver.waitForCount(finalPath, 1);
    expect(verifyWith(final.secret, toFinal!)).toMatchObject({ type: 'job.succeeded', data: { id: job.id } });
    for (const received of receiver.on(allPath)) verifyWith(all.secret, received);
    expect(() => verifyWith(all.secret, toFinal!)).toThrow();

    const settled = await settledDeliveries(project, job.id, 3);
    expect(settled.map((d) => [d.endpoint_id, d.event_type, d.status]).sort()).toEqual(
      [
        [all.id, 'job.started', 'succeeded'],
        [all.id, 'job.succeeded', 'succeeded'],
        [final.id, 'job.succeeded', 'succeeded'],
      ].sort(),
    );
    expect(receiver.on(failedPath)).toHaveLength(0);
    expect((await deliveries(project, `endpoint_id=${final.id}`)).map((d) => d.id)).toEqual([settled.find((d) => d.endpoint_id === final.id).id]);
    expect(await deliveries(project, `job_id=${job.id}&status=failed`)).toEqual([]);

    // redeliver: the same webhook-id, signed again, one more attempt recorded
    const delivery = settled.find((d) => d.endpoint_id === final.id);
    const redelivered = await stack.api.post(`/v1/webhook-deliveries/${delivery.id}/redeliver`, { key: project.key, body: {} });
    expect(redelivered.status).toBe(202);
    const again = await receiver.waitForCount(finalPath, 2);
    expect(again[1]!.headers['webhook-id']).toBe(delivery.webhook_id);
    verifyWith(final.secret, again[1]!);
    const [after] = await settledDeliveries(project, job.id, 3).then((list) => list.filter((d) => d.id === delivery.id));
    expect(after.status).toBe('succeeded');
    expect(after.attempts).toHaveLength(2);

    // a removed endpoint gets nothing more
    expect((await stack.api.delete(`/v1/webhook-endpoints/${all.id}`, { key: project.key })).status).toBe(200);
    const listed = await stack.api.get('/v1/webhook-endpoints', { key: project.key });
    expect(listed.body.data).toHaveLength(2);
    expect(listed.body.data.map((e: any) => e.id)).toContain(final.id);
    expect(listed.body.data.some((e: any) => e.id === all.id)).toBe(false);
  });

  it('disables an endpoint that answers 410 Gone', async () => {
    const project = await stack.createProject();
    const gonePath = path('gone');
    const created = await stack.api.post('/v1/webhook-endpoints', {
      key: project.key,
      body: { url: receiver.target(gonePath, (_req, res) => res.writeHead(410).end('gone')), event_types: ['job.succeeded'] },
    });
    const job = await submit(stack, project.key, { type: 'image.generate', input: { prompt: 'a fox for a gone endpoint' } });
    const [delivery] = await settledDeliveries(project, job.id, 1);
    expect(delivery).toMatchObject({ status: 'failed', attempts: [{ status_code: 410 }] });
    const listed = await stack.api.get('/v1/webhook-endpoints', { key: project.key });
    expect(listed.body.data.find((e: any) => e.id === created.body.id)).toMatchObject({ status: 'disabled', disabled_reason: expect.stringContaining('410') });
  });

  it('a worker killed mid-delivery after the final transition still delivers once per target (by webhook-id)', async () => {
    const project = await stack.createProject();
    const secret = await projectSecret(project);
    const jobPath = path('crash-job');
    const endpointPath = path('crash-endpoint');
    // the first request to each target is held until the worker is gone; later ones answer 200
    const stallFirst = (_req: Received, res: import('node:http').ServerResponse, index: number) => (index === 0 ? receiver.hold(res) : res.end('ok'));
    const endpoint = await stack.api.post('/v1/webhook-endpoints', {
      key: project.key,
      body: { url: receiver.target(endpointPath, stallFirst), event_types: ['job.succeeded'] },
    });
    const job = await submit(stack, project.key, {
      type: 'image.generate',
      input: { prompt: 'a fox outliving its worker' },
      webhook_url: receiver.target(jobPath, stallFirst),
      webhook_events: ['job.succeeded'],
    });
    await receiver.waitFor('the first attempt at both targets', () => receiver.on(jobPath).length >= 1 && receiver.on(endpointPath).length >= 1);
    await stack.stopWorker('SIGKILL');
    expect((await stack.api.get(`/v1/jobs/${job.id}`, { key: project.key })).body.status).toBe('succeeded');

    await stack.startWorker();
    await receiver.waitFor('a second attempt at both targets', () => receiver.on(jobPath).length >= 2 && receiver.on(endpointPath).length >= 2);
    const settled = await settledDeliveries(project, job.id, 2);
    expect(settled.map((d) => d.status)).toEqual(['succeeded', 'succeeded']);
    for (const [p, s] of [
      [jobPath, secret],
      [endpointPath, endpoint.body.secret],
    ] as const) {
      const seen = receiver.on(p);
      expect(new Set(seen.map((r) => r.headers['webhook-id'])).size).toBe(1);
      for (const received of seen) verifyWith(s, received);
    }
    // one acknowledged attempt per delivery: the killed one never finished, so it is not recorded
    for (const delivery of settled) expect(delivery.attempts.map((a: any) => a.status_code)).toEqual([200]);
  }, 60_000);

  it('delivers a committed event whose queue job was lost (crash between commit and enqueue) through the sweeper', async () => {
    const project = await stack.createProject();
    const secret = await projectSecret(project);
    const target = path('lost-enqueue');
    await stack.stopWorker();
    const job = await submit(stack, project.key, {
      type: 'image.generate',
      input: { prompt: 'a fox canceled while no worker runs' },
      webhook_url: receiver.target(target),
      webhook_events: ['job.canceled'],
    });
    const canceled = await stack.api.post(`/v1/jobs/${job.id}/cancel`, { key: project.key, body: {} });
    expect(canceled.body.status).toBe('canceled');
    const [pending] = await deliveries(project, `job_id=${job.id}`);
    expect(pending).toMatchObject({ status: 'pending', event_type: 'job.canceled', attempts: [] });
    // Redis forgets the delivery's queue job, as if the process died right after the commit
    await redis.queue('webhook-deliver').obliterate({ force: true });

    await stack.startWorker();
    const [received] = await receiver.waitForCount(target, 1);
    expect(verifyWith(secret, received!)).toMatchObject({ type: 'job.canceled', data: { id: job.id, status: 'canceled' } });
    const [delivered] = await settledDeliveries(project, job.id, 1);
    expect(delivered).toMatchObject({ status: 'succeeded', webhook_id: received!.headers['webhook-id'] });
    expect(receiver.on(target)).toHaveLength(1);
  }, 60_000);
});
