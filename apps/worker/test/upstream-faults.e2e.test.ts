import { TestStack, type Project } from '@genqueue/testing';
import { armFault, clearFaults, counterDelta, expectedSha, jobEvents, pollUntil, routeCounter, simulatedMs, type RouteCounter } from './helpers';

const MAX_ATTEMPTS = 3;

/** How the worker rides out (or gives up on) each kind of gateway failure. */
describe('gateway faults', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // Production's URL policy: the worker fetches media from public addresses and the gateway only.
    stack = await TestStack.start({ env: { JOB_MAX_ATTEMPTS: String(MAX_ATTEMPTS), ALLOW_PRIVATE_URLS: 'false' } });
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

  it('fails as upstream_error (retryable) after JOB_MAX_ATTEMPTS calls when the gateway keeps failing', async () => {
    await armFault(stack, { route: 'images.generations', kind: 'server_error', times: -1 });
    const { job, seen } = await runWithCounter('images.generations', generate('doomed fox'));

    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'upstream_error', retryable: true });
    expect(seen).toEqual({ received: MAX_ATTEMPTS, statuses: { '500': MAX_ATTEMPTS } });
    expect(job.artifacts).toEqual([]);
    expect(job.output).toBeNull();
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
  ])('fails as upstream_auth when the gateway refuses the key (%s)', async (kind, status) => {
    await armFault(stack, { route: 'images.generations', kind, times: -1 });
    const { job, seen } = await runWithCounter('images.generations', generate(`locked out fox ${kind}`));

    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'upstream_auth', retryable: false });
    expect(seen).toEqual({ received: 1, statuses: { [status]: 1 } });
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
    expect(job.output.media).toHaveLength(1);
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
      input: { prompt: 'edit the metadata service', images: [{ url: `${stack.apiUrl}/healthz` }] },
    });

    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'invalid_input', retryable: false });
    expect(job.error.message).toContain('private address');
    expect(seen.received).toBe(0);
  });

  it("still downloads result links from the gateway's own (private) origin", async () => {
    const { job } = await runWithCounter('blobs', { type: 'image.generate', input: { prompt: 'a private gateway fox', model: 'dall-e-3' } });
    expect(job.status).toBe('succeeded');
    expect(job.artifacts).toHaveLength(1);
  });
});
