import type { TestStack } from '@genqueue/testing';
import { eventually, sql, useStack } from './helpers';

/**
 * `GET /v1/events` streams are served by the process's shared poller (issue 11), like job streams
 * and long polls: one Postgres read per interval for all of them, not one per stream per 2 s.
 */
describe('project event streams on the shared poller', () => {
  let stack: TestStack;
  useStack(
    (ready) => {
      stack = ready;
    },
    { withoutWorker: true, env: { MAX_STREAMS_PER_PROJECT: '2' } },
  );

  const metric = async (name: string, label: string): Promise<number> => {
    const res = await stack.api.get('/metrics', { key: stack.adminKey });
    expect(res.status).toBe(200);
    const match = new RegExp(`^${name}\\{[^}]*="${label}"\\} (\\d+)`, 'm').exec(res.text);
    if (!match) throw new Error(`no ${name}{${label}} in /metrics`);
    return Number(match[1]);
  };

  /** An SSE request left open, with what it has received so far. */
  const hold = (key: string) => {
    const controller = new AbortController();
    const received = { text: '' };
    const done = fetch(`${stack.apiUrl}/v1/events`, { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' }, signal: controller.signal })
      .then(async (res) => {
        const decoder = new TextDecoder();
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) received.text += decoder.decode(chunk, { stream: true });
      })
      .catch(() => null);
    return { received, done, close: () => controller.abort() };
  };

  it('serves 40 streams of 20 projects with one read per interval, and still delivers their events', async () => {
    const projects = await Promise.all(Array.from({ length: 20 }, () => stack.createProject()));
    const held: Array<ReturnType<typeof hold>> = [];
    try {
      for (const project of projects) for (let i = 0; i < 2; i += 1) held.push(hold(project.key));
      await eventually(() => metric('genqueue_api_open_connections', 'stream'), (n) => n === 40, 15_000, '40 open streams');
      await eventually(() => metric('genqueue_api_job_watch', 'watchers'), (n) => n === 40, 15_000, 'the hub watching 40 streams');

      const committed = async (): Promise<number> => {
        const [row] = await sql<{ n: string }>('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()');
        return Number(row?.n);
      };
      // an idle backend publishes its counts up to 10 s late: start once the hub has polled six times
      const settled = (await metric('genqueue_api_job_watch', 'reads')) + 6;
      await eventually(() => metric('genqueue_api_job_watch', 'reads'), (n) => n >= settled, 20_000, 'six hub polls');
      const readsBefore = await metric('genqueue_api_job_watch', 'reads');
      const before = await committed();
      await new Promise((resolve) => setTimeout(resolve, 6_000)); // the measuring window, not a synchronisation
      const after = await committed();
      const readsAfter = await metric('genqueue_api_job_watch', 'reads');
      // one read per stream per 2 s would be about 120
      expect(after - before).toBeLessThan(30);
      expect(readsAfter - readsBefore).toBeGreaterThanOrEqual(2);
      expect(readsAfter - readsBefore).toBeLessThanOrEqual(4);

      // the streams still carry their project's events (and only theirs)
      const first = projects[0];
      const created = await stack.api.post('/v1/jobs', { key: first!.key, body: { type: 'image.generate', input: { prompt: 'a fox on the project stream' } } });
      expect(created.status).toBe(202);
      await eventually(async () => held[0]!.received.text.includes(created.body.id) && held[1]!.received.text.includes(created.body.id), (ok) => ok, 15_000, 'the job.created event on both streams of its project');
      expect(held[0]!.received.text).toContain('event: job.created');
      expect(held[2]!.received.text).not.toContain(created.body.id);
    } finally {
      for (const h of held) h.close();
    }
  }, 90_000);
});
