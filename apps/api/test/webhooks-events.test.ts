import { freePort, startTsProcess, type ManagedProcess, type Project, type TestStack } from '@genqueue/testing';
import { eventIdFloor } from '../src/services/project-event-stream';
import { expectError, readSse, sseEvents, startStack, stopStack, type SseMessage, type SseResult } from './helpers';

/** Live events served by any API instance: a stream broken on one process resumes on another. */
describe('live events across two API processes', () => {
  let stack: TestStack;
  let second: ManagedProcess;
  let secondUrl: string;
  let project: Project;

  beforeAll(async () => {
    stack = await startStack();
    const port = await freePort();
    secondUrl = `http://127.0.0.1:${port}`;
    second = startTsProcess('api-2', 'apps/api/src/main.ts', { ...stack.env, PORT: String(port) }, stack.logDir);
    await second.waitForLine('api.listening', 60_000);
    project = await stack.createProject();
  }, 120_000);

  afterAll(async () => {
    await second?.stop();
    await stopStack(stack);
  });

  /** The simulator answers image generations after `realMs` (its fast clock scales the delay). */
  const slowImages = async (realMs: number): Promise<void> => {
    const clock = await stack.sim.get('/_sim/clock');
    const delay = clock.body.fast_time ? realMs * Number(clock.body.time_factor) : realMs;
    const res = await stack.sim.post('/_sim/faults', { body: { route: 'images.generations', kind: 'slow', delay_ms: delay, times: -1 } });
    expect(res.status).toBe(201);
  };

  const storedEvents = async (jobId: string): Promise<any[]> => {
    const res = await stack.api.get(`/v1/jobs/${jobId}/events`, { key: project.key, headers: { accept: 'application/json' } });
    return res.body.data;
  };

  it('resumes one job’s stream on the other process after Last-Event-ID, with no event lost or repeated', async () => {
    await slowImages(1_500);
    try {
      const job = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'image.generate', input: { prompt: 'a fox between two APIs' } } });
      expect(job.status).toBe(202);
      const first = await readSse(`${stack.apiUrl}/v1/jobs/${job.body.id}/events`, {
        key: project.key,
        stopWhen: (messages) => messages.filter((m) => m.event === 'job.started').length > 0,
      });
      const before = sseEvents(first);
      expect(first.closedByServer).toBe(false);
      expect(before.map((e) => e.event)).toEqual(['job.created', 'job.started']);

      const rest = await readSse(`${secondUrl}/v1/jobs/${job.body.id}/events`, {
        key: project.key,
        headers: { 'last-event-id': before[before.length - 1]!.id },
      });
      expect(rest.closedByServer).toBe(true);
      const after = sseEvents(rest);
      const all = [...before, ...after];
      expect(all.map((e) => Number(e.id))).toEqual(all.map((_, i) => i + 1));
      expect(all.map((e) => e.event)).toEqual(['job.created', 'job.started', 'job.succeeded']);
      expect(all.map((e) => e.data.id)).toEqual((await storedEvents(job.body.id)).map((e) => e.id));
    } finally {
      await stack.sim.delete('/_sim/faults');
    }
  }, 60_000);

  it('GET /v1/events streams every job of the project and resumes by event id on the other process', async () => {
    await slowImages(600);
    try {
      const jobIds: string[] = [];
      const submitAll = async () => {
        for (const n of [1, 2, 3]) {
          const res = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'image.generate', input: { prompt: `a project-wide fox ${n}` } } });
          expect(res.status).toBe(202);
          jobIds.push(res.body.id);
        }
      };
      // Resuming from "now" (an id made of the current time) instead of waiting for the stream's headers.
      const startId = eventIdFloor(Date.now() - 1);
      await submitAll();
      const first = sseEvents(
        await readSse(`${stack.apiUrl}/v1/events`, {
          key: project.key,
          headers: { 'last-event-id': startId },
          stopWhen: (messages) => messages.filter((m) => m.data !== undefined).length >= 4,
        }),
      );
      expect(first.length).toBeGreaterThanOrEqual(4);

      const isDone = (events: Array<{ event: string; data: any }>) =>
        jobIds.every((id) => events.some((e) => e.data.job_id === id && e.event === 'job.succeeded'));
      const rest = sseEvents(
        await readSse(`${secondUrl}/v1/events`, {
          key: project.key,
          headers: { 'last-event-id': first[first.length - 1]!.id },
          stopWhen: (messages) => isDone([...first, ...sseEvents({ status: 200, contentType: '', messages, closedByServer: false })]),
          timeoutMs: 30_000,
        }),
      );
      const all = [...first, ...rest];
      expect(isDone(all)).toBe(true);
      const ids = all.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort()).toEqual(ids);
      for (const e of all) {
        expect(e.id).toBe(e.data.id);
        expect(e.event).toBe(e.data.type);
      }
      const stored = (await Promise.all(jobIds.map(storedEvents))).flat().map((e) => e.id).sort();
      expect(ids.filter((id) => stored.includes(id))).toEqual(stored);
    } finally {
      await stack.sim.delete('/_sim/faults');
    }
  }, 60_000);

  it('refuses a Last-Event-ID that is not an event id, and needs a key', async () => {
    const bad = await readSse(`${stack.apiUrl}/v1/events`, { key: project.key, headers: { 'last-event-id': '12' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'invalid_request' } });
    const anonymous = await stack.api.get('/v1/events', {});
    expectError(anonymous, 401, 'unauthorized');
  });
});

/** With nothing to send, both event streams write a `: heartbeat` comment every SSE_HEARTBEAT_MS. */
describe('SSE heartbeats', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // no worker: a submitted job stays queued, so its stream stays open with nothing to send
    stack = await startStack({ withoutWorker: true, env: { SSE_HEARTBEAT_MS: '200' } });
  }, 120_000);

  afterAll(async () => {
    await stopStack(stack);
  });

  const heartbeats = (messages: SseMessage[]) => messages.filter((m) => m.comment === 'heartbeat').length;

  /** Reads `path` until two heartbeats came; fails when they do not within 8 s (the default is 15 s). */
  const readHeartbeats = async (path: string, key: string): Promise<SseResult> => {
    const res = await readSse(`${stack.apiUrl}${path}`, { key, timeoutMs: 8_000, stopWhen: (messages) => heartbeats(messages) >= 2 });
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^text\/event-stream/);
    expect(heartbeats(res.messages)).toBeGreaterThanOrEqual(2);
    // still open: the client stopped reading, not the server
    expect(res.closedByServer).toBe(false);
    return res;
  };

  it('GET /v1/jobs/{id}/events sends heartbeats while the job waits', async () => {
    const project = await stack.createProject();
    const job = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'image.generate', input: { prompt: 'a fox nobody runs' } } });
    expect(job.status).toBe(202);
    const res = await readHeartbeats(`/v1/jobs/${job.body.id}/events`, project.key);
    expect(sseEvents(res).map((e) => e.event)).toEqual(['job.created']);
    expect((await stack.api.get(`/v1/jobs/${job.body.id}`, { key: project.key })).body.status).toBe('queued');
  }, 30_000);

  it('GET /v1/events sends heartbeats while no job changes', async () => {
    const project = await stack.createProject();
    const res = await readHeartbeats('/v1/events', project.key);
    expect(sseEvents(res)).toEqual([]);
  }, 30_000);
});
