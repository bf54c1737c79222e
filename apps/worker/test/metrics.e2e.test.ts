import { startTsProcess, TestStack, type Project } from '@genqueue/testing';
import { armFault, clearFaults, pollUntil, simulatedMs, submit } from './helpers';
import { Scrape } from './prometheus-text';
import { TASK_ENV } from './tasks-helpers';
import { Receiver } from './webhooks-helpers';

const METRICS_TOKEN = 'scraper-token-for-the-metrics-e2e';

/**
 * Both processes' /metrics while jobs of every family run: the test reads the Prometheus text with
 * its own parser and checks that each documented series exists and moves.
 */
describe('metrics of the API and the worker', () => {
  let stack: TestStack;
  let receiver: Receiver;
  let project: Project;

  beforeAll(async () => {
    receiver = await Receiver.start();
    stack = await TestStack.start({
      withWorkerHttp: true,
      env: { ...TASK_ENV, METRICS_TOKEN, WEBHOOK_RETRY_SCHEDULE_MS: '200,400', WEBHOOK_TIMEOUT_MS: '2000' },
    });
    project = await stack.createProject();
  }, 120_000);

  afterEach(async () => {
    await clearFaults(stack);
  });

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  const workerUrl = (): string => {
    if (!stack.workerUrl) throw new Error('the worker has no HTTP port');
    return stack.workerUrl;
  };
  const workerGet = (path: string, key?: string): Promise<Response> =>
    fetch(`${workerUrl()}${path}`, key ? { headers: { authorization: `Bearer ${key}` } } : {});

  async function scrapeWorker(): Promise<Scrape> {
    const res = await workerGet('/metrics', METRICS_TOKEN);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return Scrape.parse(await res.text());
  }

  async function scrapeApi(): Promise<Scrape> {
    const res = await stack.api.get('/metrics', { key: stack.adminKey });
    expect(res.status).toBe(200);
    return Scrape.parse(res.text);
  }

  /** Scrapes `scrape` until `moved` holds (the series move right after the work they count, not before). */
  const until = (what: string, scrape: () => Promise<Scrape>, moved: (s: Scrape) => boolean): Promise<Scrape> =>
    pollUntil(what, async () => {
      const s = await scrape();
      return moved(s) ? s : undefined;
    }, 30_000, 100);

  it('serves /healthz, /readyz and /metrics on the worker port, /metrics only to the admin key or METRICS_TOKEN', async () => {
    const health = await workerGet('/healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await workerGet('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { postgres: true, redis: true } });

    expect((await workerGet('/metrics')).status).toBe(401);
    expect((await workerGet('/metrics', 'not-the-token-0123456789')).status).toBe(401);
    const forbidden = await workerGet('/metrics', project.key);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: { code: 'forbidden' } });
    expect((await workerGet('/metrics', stack.adminKey)).status).toBe(200);
    expect((await workerGet('/metrics', METRICS_TOKEN)).status).toBe(200);
    expect((await workerGet('/nothing-here')).status).toBe(404);
    expect((await fetch(`${workerUrl()}/metrics`, { method: 'POST' })).status).toBe(405);

    const scrape = await scrapeWorker();
    expect(scrape.types.get('genqueue_jobs_finished_total')).toBe('counter');
    expect(scrape.types.get('genqueue_job_duration_seconds')).toBe('histogram');
    expect(scrape.types.get('genqueue_queue_jobs')).toBe('gauge');
    expect(scrape.has('genqueue_worker_process_cpu_user_seconds_total')).toBe(true);
  });

  it('stops a second worker whose port is taken before it takes any job', async () => {
    const port = new URL(workerUrl()).port;
    const clash = startTsProcess('worker-clash', 'apps/worker/src/main.ts', { ...stack.env, WORKER_HTTP_PORT: port }, stack.logDir);
    expect(await clash.exited).toBe(1);
    // the first worker still answers
    expect((await workerGet('/healthz')).status).toBe(200);
  }, 60_000);

  it('counts jobs of every family, gateway requests, polls, webhooks and failed runs as they happen', async () => {
    const [workerBefore, apiBefore] = [await scrapeWorker(), await scrapeApi()];
    const secret = await stack.api.get('/v1/webhook-secret', { key: project.key });
    expect(secret.status).toBe(200);
    // the first attempt meets a 500, the second is delivered
    const hook = receiver.target('/metrics-hook', (_req, res, index) => {
      res.writeHead(index === 0 ? 500 : 200).end(index === 0 ? 'not yet' : 'ok');
    });

    // one 5xx on the image route: the image job's first run fails and is retried
    await armFault(stack, { route: 'images.generations', kind: 'server_error', times: 1 });
    const image = await submit(stack, project.key, {
      type: 'image.generate',
      input: { prompt: 'a lighthouse for the metrics' },
      webhook_url: hook,
      webhook_events: ['job.succeeded'],
    });
    const bodies = [
      { type: 'video.generate', input: { prompt: 'a metrics video' } },
      { type: 'mj.imagine', input: { prompt: 'a metrics imagine' } },
      { type: 'audio.speech', input: { input: 'read the metrics aloud', voice: 'alloy', response_format: 'wav' } },
      { type: 'media.chat', input: { model: 'gpt-4o', messages: [{ role: 'user', content: 'metrics, please' }] } },
      { type: 'embedding.batch', input: { inputs: Array.from({ length: 20 }, (_, i) => `metrics line ${i}`), dimensions: 4, chunk_size: 10 } },
    ];
    const others = await Promise.all(bodies.map((body) => submit(stack, project.key, body)));
    const finals = await Promise.all([image, ...others].map((job) => stack.waitFinal(project.key, job.id)));
    for (const job of finals) expect({ type: job.type, status: job.status }).toEqual({ type: job.type, status: 'succeeded' });
    const types = finals.map((job) => job.type as string);

    // the API counts submissions; the worker counts what it finished
    const apiAfter = await scrapeApi();
    for (const type of types) expect(apiAfter.sum('genqueue_jobs_submitted_total', { type })).toBeGreaterThan(apiBefore.sum('genqueue_jobs_submitted_total', { type }));

    await receiver.waitForCount('/metrics-hook', 2);
    const worker = await until('the delivered webhook counted', scrapeWorker, (s) => s.sum('genqueue_webhook_attempts_total', { outcome: 'delivered' }) > workerBefore.sum('genqueue_webhook_attempts_total', { outcome: 'delivered' }));
    const moved = (name: string, labels: Record<string, string> = {}): void => {
      expect({ name, labels, moved: worker.sum(name, labels) > workerBefore.sum(name, labels) }).toEqual({ name, labels, moved: true });
    };

    for (const type of types) {
      moved('genqueue_jobs_finished_total', { type, status: 'succeeded' });
      moved('genqueue_job_duration_seconds_count', { type });
      moved('genqueue_job_queue_wait_seconds_count', { type });
      moved('genqueue_job_attempts_count', { type });
    }
    // the image job's first run met the 5xx and was retried
    moved('genqueue_job_failed_runs_total', { type: 'image.generate', outcome: 'retried' });
    expect(worker.sum('genqueue_job_attempts_sum', { type: 'image.generate' }) - workerBefore.sum('genqueue_job_attempts_sum', { type: 'image.generate' })).toBe(2);

    // the gateway: answers by route family and outcome, their latency, task polls and MJ batches
    moved('genqueue_upstream_requests_total', { family: 'image', outcome: '5xx' });
    for (const family of ['image', 'video_submit', 'video_poll', 'mj_submit', 'mj_poll', 'audio', 'embedding']) {
      moved('genqueue_upstream_requests_total', { family, outcome: 'ok' });
      moved('genqueue_upstream_request_duration_seconds_count', { family });
    }
    moved('genqueue_upstream_task_polls_total', { kind: 'video' });
    moved('genqueue_upstream_task_polls_total', { kind: 'mj' });
    moved('genqueue_upstream_mj_poll_batch_size_count');

    // webhooks: the 500, then the delivery and its delay from the event
    moved('genqueue_webhook_attempts_total', { outcome: 'retry' });
    moved('genqueue_webhook_delivery_delay_seconds_count');

    // gauges of shared state: present whatever their value
    for (const queue of ['job-image', 'job-video', 'job-mj', 'job-audio', 'job-embedding', 'embedding-chunk', 'webhook-deliver']) {
      for (const state of ['waiting', 'active', 'delayed', 'failed']) expect([queue, state, worker.has('genqueue_queue_jobs', { queue, state })]).toEqual([queue, state, true]);
      expect(worker.has('genqueue_queue_paused', { queue, reason: 'rate_limited' })).toBe(true);
    }
    for (const lane of ['image', 'video_submit', 'video_poll', 'mj_submit', 'mj_poll', 'audio', 'embedding']) {
      for (const reason of ['rate_limited', 'outage', 'refused']) expect(worker.has('genqueue_gateway_lane_held', { lane, reason })).toBe(true);
      expect(worker.sum('genqueue_gateway_lane_rate_per_minute', { lane })).toBeGreaterThan(0);
    }
    expect(worker.has('genqueue_upstream_parked_tasks', { type: 'video.generate' })).toBe(true);
    expect(worker.has('genqueue_upstream_parked_tasks', { type: 'mj.imagine' })).toBe(true);
    expect(worker.has('genqueue_jobs_waiting_on_project_limit', { type: 'image.generate' })).toBe(true);
    expect(worker.has('genqueue_webhook_deliveries_pending')).toBe(true);
    expect(worker.has('genqueue_webhook_endpoints', { state: 'failing' })).toBe(true);
    expect(worker.has('genqueue_sweeper_repairs_total', { kind: 'requeued' })).toBe(true);
    expect(worker.has('genqueue_sweeper_repairs_total', { kind: 'timed_out' })).toBe(true);
    // the sweeper's and the balance timer's first ticks come within a second of the worker's start,
    // on their own timers: wait for them instead of racing them (a fast run scraped before either)
    const ticked = await until('a sweep and a balance read', scrapeWorker, (s) => s.sum('genqueue_sweeper_runs_total', { result: 'ok' }) > 0 && s.sum('genqueue_gateway_balance_usd') > 0);
    expect(ticked.sum('genqueue_sweeper_runs_total', { result: 'ok' })).toBeGreaterThan(0);
    // the gateway balance the ledger's timer read (the simulator starts with a positive balance)
    expect(ticked.sum('genqueue_gateway_balance_usd')).toBeGreaterThan(0);
    expect(worker.has('genqueue_gateway_balance_low')).toBe(true);
    // no id ever becomes a label value
    for (const sample of worker.samples) {
      for (const value of Object.values(sample.labels)) expect(value).not.toMatch(/^(job|prj|whd|key|art|file)_/);
    }
  }, 120_000);

  it('counts a start refused by the project limit, and the sweeper expiring the job that waited', async () => {
    const limited = await stack.createProject({ max_running_jobs: 1 });
    const before = await scrapeWorker();
    // the first job holds the project's one slot for a few seconds
    await armFault(stack, { route: 'images.generations', kind: 'slow', times: 1, delay_ms: await simulatedMs(stack, 6_000) });
    const holder = await submit(stack, limited.key, { type: 'image.generate', input: { prompt: 'holds the slot' } });
    await pollUntil('the first job running', async () => ((await stack.api.get(`/v1/jobs/${holder.id}`, { key: limited.key })).body.status === 'running' ? true : undefined));
    const waiter = await submit(stack, limited.key, { type: 'image.generate', input: { prompt: 'waits for the slot' }, ttl_seconds: 1 });

    expect((await stack.waitFinal(limited.key, waiter.id)).status).toBe('expired');
    const after = await until('the expiry counted', scrapeWorker, (s) => s.sum('genqueue_sweeper_repairs_total', { kind: 'expired' }) > before.sum('genqueue_sweeper_repairs_total', { kind: 'expired' }));
    expect(after.sum('genqueue_job_project_limit_waits_total', { queue: 'job-image' })).toBeGreaterThan(before.sum('genqueue_job_project_limit_waits_total', { queue: 'job-image' }));
    expect(after.sum('genqueue_jobs_finished_total', { type: 'image.generate', status: 'expired' })).toBeGreaterThan(before.sum('genqueue_jobs_finished_total', { type: 'image.generate', status: 'expired' }));
    expect((await stack.waitFinal(limited.key, holder.id)).status).toBe('succeeded');
  }, 60_000);

  it('keeps SSE streams and ?wait long polls out of the API request-duration histogram, and shows open streams', async () => {
    const job = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'a job to watch' } });
    const route = '/v1/jobs/:id';
    const before = await scrapeApi();
    const reads = (s: Scrape): number => s.sum('genqueue_http_requests_total', { route, method: 'GET' });
    const waited = await stack.api.get(`/v1/jobs/${job.id}?wait=1`, { key: project.key });
    expect(waited.status).toBe(200);
    // the request is counted when its response closes: that is the moment to look at the histogram
    const afterWait = await until('the long poll counted', scrapeApi, (s) => reads(s) === reads(before) + 1);
    expect(afterWait.sum('genqueue_http_request_duration_seconds_count', { route, method: 'GET' })).toBe(before.sum('genqueue_http_request_duration_seconds_count', { route, method: 'GET' }));
    // a plain read is timed
    expect((await stack.api.get(`/v1/jobs/${job.id}`, { key: project.key })).status).toBe(200);
    const afterRead = await until('the read counted', scrapeApi, (s) => reads(s) === reads(before) + 2);
    expect(afterRead.sum('genqueue_http_request_duration_seconds_count', { route, method: 'GET' })).toBe(before.sum('genqueue_http_request_duration_seconds_count', { route, method: 'GET' }) + 1);

    // an SSE stream of the project: open while it lasts, counted (not timed) once it ends
    const controller = new AbortController();
    const stream = await fetch(`${stack.apiUrl}/v1/events`, { headers: { authorization: `Bearer ${project.key}`, accept: 'text/event-stream' }, signal: controller.signal });
    expect(stream.status).toBe(200);
    const open = await until('the stream open', scrapeApi, (s) => s.sum('genqueue_api_open_connections', { kind: 'stream' }) === 1);
    expect(open.has('genqueue_http_requests_total', { route: '/v1/events' })).toBe(false);
    controller.abort();
    const closed = await until('the stream closed', scrapeApi, (s) => s.sum('genqueue_api_open_connections', { kind: 'stream' }) === 0 && s.has('genqueue_http_requests_total', { route: '/v1/events' }));
    expect(closed.sum('genqueue_http_request_duration_seconds_count', { route: '/v1/events' })).toBe(0);
  }, 60_000);

  it('counts a cancel done by the API as a finished job of the API process', async () => {
    const before = await scrapeApi();
    // a job whose upstream task stays queued, so it is still running when canceled
    const job = await submit(stack, project.key, { type: 'mj.imagine', input: { prompt: 'never served sim:queued' } });
    const canceled = await stack.api.post(`/v1/jobs/${job.id}/cancel`, { key: project.key, body: {} });
    expect(canceled.status).toBe(200);
    const after = await scrapeApi();
    expect(after.sum('genqueue_jobs_finished_total', { type: 'mj.imagine', status: 'canceled' })).toBe(before.sum('genqueue_jobs_finished_total', { type: 'mj.imagine', status: 'canceled' }) + 1);
  }, 30_000);
});
