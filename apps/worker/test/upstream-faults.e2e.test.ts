import { TestStack, type Project } from '@genqueue/testing';
import { armFault, clearFaults, counterDelta, expectedSha, jobEvents, pollUntil, routeCounter, simulatedMs, type RouteCounter } from './helpers';

const MAX_ATTEMPTS = 3;

/** How the worker rides out (or gives up on) each kind of gateway failure. */
describe('gateway faults', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // Production's URL policy: the worker fetches media from public addresses and the gateway only.
    stack = await TestStack.start({
      env: {
        JOB_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        ALLOW_PRIVATE_URLS: 'false',
        // an outage is as many 5xx in a row as a job has attempts, so no job fails of one
        GATEWAY_OUTAGE_THRESHOLD: String(MAX_ATTEMPTS),
        GATEWAY_OUTAGE_HOLD_MS: '300',
        GATEWAY_REFUSED_HOLD_MS: '300',
      },
    });
  }, 120_000);

  afterEach(async () => {
    await clearFaults(stack);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** Runs one job on a fresh project and reports what the simulator saw on `route` meanwhile. */
  async function runWithCounter(route: string, body: unknown): Promise<{ job: any; project: Project; seen: RouteCounter }> {
    const project = await stack.createProject();
    const before = await routeCounter(stack, route);
    const job = await stack.runJob(project.key, body);
    return { job, project, seen: counterDelta(before, await routeCounter(stack, route)) };
  }

  const generate = (prompt: string, extra: Record<string, unknown> = {}) => ({ type: 'image.generate', input: { prompt }, ...extra });

  it('waits out empty-bodied 429s without using up attempts', async () => {
    // more 429s than the job has attempts: rate limiting pauses the lane, it is not a failed attempt
    await armFault(stack, { route: 'images.generations', kind: 'rate_limit_empty', times: MAX_ATTEMPTS + 1 });
    const prompt = 'rate limited fox';
    const { job, project, seen } = await runWithCounter('images.generations', generate(prompt));

    expect(job.status).toBe('succeeded');
    expect(seen).toEqual({ received: MAX_ATTEMPTS + 2, statuses: { '429': MAX_ATTEMPTS + 1, '200': 1 } });
    expect(job.artifacts).toHaveLength(1);
    expect(job.artifacts[0].sha256).toBe(await expectedSha(stack, 'gpt-image-1', prompt, 0));
    expect(job.error).toBeNull();
    const types = (await jobEvents(stack, project.key, job.id)).map((e) => e.type);
    expect(types).toEqual(['job.created', 'job.started', 'job.succeeded']);
  });

  it('retries 500s and succeeds', async () => {
    await armFault(stack, { route: 'images.generations', kind: 'server_error', times: 2 });
    const { job, project, seen } = await runWithCounter('images.generations', generate('flaky gateway fox'));

    expect(job.status).toBe('succeeded');
    expect(seen).toEqual({ received: 3, statuses: { '500': 2, '200': 1 } });
    expect(job.attempts).toBe(3);
    expect(job.error).toBeNull();
    expect(job.artifacts).toHaveLength(1);
    const events = await jobEvents(stack, project.key, job.id);
    expect(events.filter((e) => e.type === 'job.succeeded')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'job.failed')).toHaveLength(0);
  });

  it('holds the lane through an outage: the job waits, using no attempt, and ends only at its deadline', async () => {
    await armFault(stack, { route: 'images.generations', kind: 'server_error', times: -1 });
    const project = await stack.createProject();
    const before = await routeCounter(stack, 'images.generations');
    const job = await stack.runJob(project.key, { ...generate('fox in an outage'), deadline_seconds: 4 });
    const seen = counterDelta(before, await routeCounter(stack, 'images.generations'));

    // not failed after JOB_MAX_ATTEMPTS 500s, as before the lane was held: the deadline ended it
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'upstream_timeout' });
    // the gateway saw the outage's first answers and then one probe per hold, not a request per wake
    expect(seen.received).toBeGreaterThanOrEqual(MAX_ATTEMPTS);
    expect(seen.received).toBeLessThan(MAX_ATTEMPTS + 10);
    expect(Object.keys(seen.statuses)).toEqual(['500']);
    expect(job.artifacts).toEqual([]);
    const attempts = await stack.api.get(`/admin/v1/jobs/${job.id}/attempts`, { key: stack.adminKey });
    expect(attempts.body.data.map((a: { outcome: string }) => a.outcome)).toContain('waited');
  });

  it('after an outage ends, the jobs that waited through it succeed', async () => {
    await armFault(stack, { route: 'images.generations', kind: 'server_error', times: -1 });
    const project = await stack.createProject();
    const submitted = await Promise.all(['a', 'b', 'c'].map((n) => stack.api.post('/v1/jobs', { key: project.key, body: generate(`outage fox ${n}`) })));
    const ids = submitted.map((res) => res.body.id as string);
    // wait until the lane is held: the gateway has answered the outage's run of 500s
    await pollUntil('the outage to be seen', async () => (((await routeCounter(stack, 'images.generations')).statuses['500'] ?? 0) >= MAX_ATTEMPTS ? true : undefined));
    for (const id of ids) expect((await stack.api.get(`/v1/jobs/${id}`, { key: project.key })).body.status).not.toBe('failed');
    await clearFaults(stack);
    for (const id of ids) expect((await stack.waitFinal(project.key, id)).status).toBe('succeeded');
  });

  it('fails a refused input as upstream_rejected at once', async () => {
    await armFault(stack, { route: 'images.generations', kind: 'rejected', times: -1 });
    const { job, seen } = await runWithCounter('images.generations', generate('refused fox'));

    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'upstream_rejected', retryable: false });
    expect(seen.received).toBe(1);
  });

  it('fails a banned prompt as upstream_rejected with the gateway message', async () => {
    const { job, seen } = await runWithCounter('images.generations', generate('a forbidden fox'));

    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'upstream_rejected', retryable: false });
    expect(job.error.message.length).toBeGreaterThan(0);
    expect(seen).toEqual({ received: 1, statuses: { '400': 1 } });
  });

  it.each([
    ['auth', '401'],
    ['quota', '403'],
  ])('holds the lane while the gateway refuses the key (%s): jobs wait, and run once it accepts it again', async (kind, status) => {
    await armFault(stack, { route: 'images.generations', kind, times: -1 });
    const project = await stack.createProject();
    const before = await routeCounter(stack, 'images.generations');
    const submitted = await Promise.all([1, 2, 3].map((n) => stack.api.post('/v1/jobs', { key: project.key, body: generate(`locked out fox ${kind} ${n}`) })));
    // a refusal holds the lane at once: the other jobs wait instead of each meeting the 401/403
    await pollUntil('a probe after the hold', async () => (counterDelta(before, await routeCounter(stack, 'images.generations')).received >= 2 ? true : undefined));
    const during = counterDelta(before, await routeCounter(stack, 'images.generations'));
    expect(Object.keys(during.statuses)).toEqual([status]);
    // waiting, not failed: a job that met the refusal waits running; one that has not started yet stays
    // queued (it takes the lane's place before it starts, and a held lane gives none)
    for (const res of submitted) expect(['queued', 'running']).toContain((await stack.api.get(`/v1/jobs/${res.body.id}`, { key: project.key })).body.status);
    await clearFaults(stack);
    for (const res of submitted) expect((await stack.waitFinal(project.key, res.body.id)).status).toBe('succeeded');
  });

  it('retries an HTML 502 page from the proxy in front of the gateway', async () => {
    await armFault(stack, { route: 'images.generations', kind: 'bad_gateway_html', times: 1 });
    const { job, seen } = await runWithCounter('images.generations', generate('proxied fox'));

    expect(job.status).toBe('succeeded');
    expect(seen).toEqual({ received: 2, statuses: { '502': 1, '200': 1 } });
  });

  it('retries a reset connection in the middle of a chat stream', async () => {
    await armFault(stack, { route: 'chat.completions', kind: 'reset', times: 1 });
    const { job, seen } = await runWithCounter('chat.completions', {
      type: 'media.chat',
      input: { model: 'gpt-4o-image', messages: [{ role: 'user', content: 'a reset harbor' }] },
    });

    expect(job.status).toBe('succeeded');
    // the printed link is on the simulated CDN (localhost): a private address, refused here
    expect(job.output.media).toEqual([]);
    expect(job.output.skipped_media).toEqual([{ url: expect.stringContaining('/_sim/blobs/'), reason: 'refused: non-public address' }]);
    expect(seen.received).toBe(2);
  });

  it('retries a Gemini 500 and succeeds', async () => {
    await armFault(stack, { route: 'gemini.generate', kind: 'server_error', times: 1 });
    const { job, seen } = await runWithCounter('gemini.generate', { type: 'image.gemini', input: { prompt: 'a flaky banana' } });

    expect(job.status).toBe('succeeded');
    expect(seen).toEqual({ received: 2, statuses: { '500': 1, '200': 1 } });
  });

  it('fails as upstream_timeout when the gateway is slower than the job deadline, and abandons the call', async () => {
    await armFault(stack, { route: 'images.generations', kind: 'slow', times: 1, delay_ms: await simulatedMs(stack, 20_000) });
    const project = await stack.createProject();
    const before = await routeCounter(stack, 'images.generations');
    const startedAt = Date.now();
    const job = await stack.runJob(project.key, { ...generate('a slow fox'), deadline_seconds: 2 });

    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'upstream_timeout', retryable: false });
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(new Date(job.finished_at).getTime() - new Date(job.started_at).getTime()).toBeGreaterThanOrEqual(1_900);
    // the worker hung up instead of waiting for the answer
    const seen = await pollUntil('the slow call to be abandoned', async () => {
      const delta = counterDelta(before, await routeCounter(stack, 'images.generations'));
      return delta.statuses['aborted'] ? delta : undefined;
    });
    expect(seen).toEqual({ received: 1, statuses: { aborted: 1 } });
  });

  it('refuses to fetch an input URL on a private address (ALLOW_PRIVATE_URLS=false)', async () => {
    const { job, seen } = await runWithCounter('images.edits', {
      type: 'image.edit',
      input: { prompt: 'edit the metadata service', images: [{ url: `${stack.apiUrl.replace('127.0.0.1', 'localhost')}/healthz` }] },
    });

    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'invalid_input', retryable: false });
    // the tenant is told the address is not public, never what the name resolved to
    expect(job.error.message).toContain('refused: non-public address');
    expect(job.error.message).not.toMatch(/127\.0\.0\.1|::1/);
    expect(seen.received).toBe(0);
  });

  it("still downloads result links from the gateway's own (private) origin", async () => {
    const { job } = await runWithCounter('blobs', { type: 'image.generate', input: { prompt: 'a private gateway fox', model: 'dall-e-3' } });
    expect(job.status).toBe('succeeded');
    expect(job.artifacts).toHaveLength(1);
  });
});
