import type { Project, TestStack } from '@genqueue/testing';
import { eventually, expectError, sql, useStack } from './helpers';

/**
 * Long-lived connections are bounded per project and per process, and one shared poller serves
 * every `?wait` and job stream of a process. No worker runs: the jobs stay queued, so every wait
 * and stream stays open until the test lets go of it.
 */
describe('long-lived connections', () => {
  let stack: TestStack;
  useStack(
    (ready) => {
      stack = ready;
    },
    { withoutWorker: true, env: { MAX_WAITS_PER_PROJECT: '3', MAX_STREAMS_PER_PROJECT: '2', MAX_ADMIN_STREAMS: '1' } },
  );

  /** One sample of /metrics (scraped with the admin key). */
  const metric = async (name: string, label: string): Promise<number> => {
    const res = await stack.api.get('/metrics', { key: stack.adminKey });
    expect(res.status).toBe(200);
    const match = new RegExp(`^${name}\\{[^}]*="${label}"\\} (\\d+)`, 'm').exec(res.text);
    if (!match) throw new Error(`no ${name}{${label}} in /metrics`);
    return Number(match[1]);
  };

  const queuedJob = async (project: Project): Promise<string> => {
    const res = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'image.generate', input: { prompt: 'a fox that never runs' } } });
    expect(res.status).toBe(202);
    return res.body.id;
  };

  /** A request left open: its answer (or its abort) arrives later. */
  const hold = (path: string, key: string, accept = 'application/json') => {
    const controller = new AbortController();
    const answer = fetch(`${stack.apiUrl}${path}`, { headers: { authorization: `Bearer ${key}`, accept }, signal: controller.signal }).catch(
      () => null,
    );
    return { answer, close: () => controller.abort() };
  };

  it('holds at most MAX_WAITS_PER_PROJECT ?wait polls of a project; one more is a 429 with Retry-After; a freed slot is used again', async () => {
    const project = await stack.createProject();
    const other = await stack.createProject();
    const jobId = await queuedJob(project);
    const held = [0, 1, 2].map(() => hold(`/v1/jobs/${jobId}?wait=60`, project.key));
    try {
      await eventually(() => metric('genqueue_api_open_connections', 'wait'), (n) => n === 3, 10_000, 'three open waits');

      const over = await stack.api.get(`/v1/jobs/${jobId}?wait=60`, { key: project.key });
      expectError(over, 429, 'rate_limited');
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      // a plain read takes no slot, and another project has slots of its own
      expect((await stack.api.get(`/v1/jobs/${jobId}`, { key: project.key })).status).toBe(200);
      const otherJob = await queuedJob(other);
      expect((await stack.api.get(`/v1/jobs/${otherJob}?wait=1`, { key: other.key })).status).toBe(200);

      held[0]!.close();
      await eventually(() => metric('genqueue_api_open_connections', 'wait'), (n) => n === 2, 10_000, 'a freed wait slot');
      const again = await stack.api.get(`/v1/jobs/${jobId}?wait=1`, { key: project.key });
      expect(again.status).toBe(200);
      expect(again.body.status).toBe('queued');
    } finally {
      for (const h of held) h.close();
    }
  }, 60_000);

  it('holds at most MAX_STREAMS_PER_PROJECT event streams of a project (job streams and /v1/events together)', async () => {
    const project = await stack.createProject();
    const jobId = await queuedJob(project);
    const first = hold(`/v1/jobs/${jobId}/events`, project.key, 'text/event-stream');
    const second = hold('/v1/events', project.key, 'text/event-stream');
    try {
      // an SSE answer's headers come at once: both are open once fetch resolves
      expect((await first.answer)?.status).toBe(200);
      expect((await second.answer)?.status).toBe(200);

      const over = await stack.api.get(`/v1/jobs/${jobId}/events`, { key: project.key, headers: { accept: 'text/event-stream' } });
      expectError(over, 429, 'rate_limited');
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      expectError(await stack.api.get('/v1/events', { key: project.key, headers: { accept: 'text/event-stream' } }), 429, 'rate_limited');
      // the JSON log is a plain read
      expect((await stack.api.get(`/v1/jobs/${jobId}/events`, { key: project.key, headers: { accept: 'application/json' } })).status).toBe(200);

      first.close();
      await eventually(() => metric('genqueue_api_open_connections', 'stream'), (n) => n === 1, 10_000, 'a freed stream slot');
      const third = hold(`/v1/jobs/${jobId}/events`, project.key, 'text/event-stream');
      expect((await third.answer)?.status).toBe(200);
      third.close();
    } finally {
      first.close();
      second.close();
    }
  }, 60_000);

  it('holds at most MAX_ADMIN_STREAMS admin event streams per process', async () => {
    const first = hold('/admin/v1/events', stack.adminKey, 'text/event-stream');
    try {
      expect((await first.answer)?.status).toBe(200);
      expectError(await stack.api.get('/admin/v1/events', { key: stack.adminKey, headers: { accept: 'text/event-stream' } }), 429, 'rate_limited');
      first.close();
      await eventually(() => metric('genqueue_api_open_connections', 'admin_stream'), (n) => n === 0, 10_000, 'a freed admin stream slot');
      const again = hold('/admin/v1/events', stack.adminKey, 'text/event-stream');
      expect((await again.answer)?.status).toBe(200);
      again.close();
    } finally {
      first.close();
    }
  }, 60_000);

  it('serves many waiters and streams with one Postgres read per interval, not one per connection', async () => {
    // 20 projects × (3 waits + 2 streams) = 100 open connections on 100 queued jobs
    const projects = await Promise.all(Array.from({ length: 20 }, () => stack.createProject()));
    const held: Array<ReturnType<typeof hold>> = [];
    try {
      for (const project of projects) {
        for (let i = 0; i < 3; i += 1) held.push(hold(`/v1/jobs/${await queuedJob(project)}?wait=60`, project.key));
        for (let i = 0; i < 2; i += 1) held.push(hold(`/v1/jobs/${await queuedJob(project)}/events`, project.key, 'text/event-stream'));
      }
      await eventually(() => metric('genqueue_api_open_connections', 'wait'), (n) => n === 60, 15_000, '60 open waits');
      await eventually(() => metric('genqueue_api_open_connections', 'stream'), (n) => n === 40, 15_000, '40 open streams');

      // Transactions committed in the stack's own database over 6 s (three recheck intervals).
      // Nothing else runs there: no worker, and this test's own two reads. One read per connection
      // per 2 s would be about 300.
      const committed = async (): Promise<number> => {
        const [row] = await sql<{ n: string }>('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()');
        return Number(row?.n);
      };
      // Start once the hub has polled six times (over 10 s): an idle Postgres backend publishes its
      // counts up to 10 s late (PGSTAT_IDLE_INTERVAL), so the setup's own commits are counted by then.
      const settled = (await metric('genqueue_api_job_watch', 'reads')) + 6;
      await eventually(() => metric('genqueue_api_job_watch', 'reads'), (n) => n >= settled, 20_000, 'six hub polls');
      const readsBefore = await metric('genqueue_api_job_watch', 'reads');
      const before = await committed();
      await new Promise((resolve) => setTimeout(resolve, 6_000)); // the measuring window, not a synchronisation
      const after = await committed();
      const readsAfter = await metric('genqueue_api_job_watch', 'reads');
      expect(after - before).toBeLessThan(40);
      expect(readsAfter - readsBefore).toBeGreaterThanOrEqual(2);
      expect(readsAfter - readsBefore).toBeLessThanOrEqual(4);
      expect(await metric('genqueue_api_job_watch', 'watchers')).toBe(100);
    } finally {
      for (const h of held) h.close();
    }
  }, 90_000);
});
