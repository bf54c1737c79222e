import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TestStack } from '@genqueue/testing';
import { startStack, stopStack } from './helpers';

/** The access log (issue 13, item 4): one line per request with its id, never a key, body or query string. */
describe('request ids and the access log', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // the worker's per-run lines are at debug
    stack = await startStack({ env: { LOG_LEVEL: 'debug' } });
  }, 120_000);

  afterAll(async () => {
    await stopStack(stack);
  });

  /** A process's log lines for a request id, once the process has written them. */
  async function linesOf(requestId: string, timeoutMs = 10_000, process = 'api'): Promise<any[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = readFileSync(path.join(stack.logDir, `${process}.log`), 'utf8')
        .split('\n')
        .filter((line) => line.includes(requestId))
        .map((line) => JSON.parse(line));
      if (lines.length > 0) return lines;
      if (Date.now() > deadline) throw new Error(`no log line for ${requestId}`);
      await new Promise((resolve) => setTimeout(resolve, 50)); // the process writes its log asynchronously
    }
  }

  it("answers the caller's X-Request-Id and logs the request under it", async () => {
    const project = await stack.createProject();
    const requestId = `trace-${Date.now()}`;
    const res = await stack.api.get('/v1/jobs?limit=5&metadata.secret=hush', { key: project.key, headers: { 'x-request-id': requestId } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(requestId);
    const [line, ...more] = await linesOf(requestId);
    expect(more).toHaveLength(0);
    expect(line).toMatchObject({ msg: 'http.request', request_id: requestId, method: 'GET', path: '/v1/jobs', status: 200, project_id: project.id });
    expect(typeof line.ms).toBe('number');
    const raw = JSON.stringify(line);
    expect(raw).not.toContain(project.key);
    expect(raw).not.toContain('hush');
  });

  it('replaces an id that is not a plain token with its own', async () => {
    for (const sent of ['has spaces in it', 'x'.repeat(129), 'line\\nbreak']) {
      const res = await stack.api.get('/healthz', { headers: { 'x-request-id': sent } });
      expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9A-Z]{26}$/);
    }
    const res = await stack.api.get('/v1/jobs');
    expect(res.status).toBe(401);
    const id = res.headers.get('x-request-id')!;
    expect(id).toMatch(/^req_[0-9A-Z]{26}$/);
    expect((await linesOf(id))[0]).toMatchObject({ request_id: id, path: '/v1/jobs', status: 401 });
    expect((await linesOf(id))[0].project_id).toBeUndefined();
  });

  it('gives a job submission an id that its error answers carry too', async () => {
    const project = await stack.createProject();
    const res = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'image.generate', input: {} }, headers: { 'x-request-id': 'bad-input-1' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-request-id')).toBe('bad-input-1');
    expect((await linesOf('bad-input-1'))[0]).toMatchObject({ method: 'POST', path: '/v1/jobs', status: 400 });
  });

  it("carries the submitting request's id into the worker's log lines of the job", async () => {
    const project = await stack.createProject();
    const res = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'image.generate', input: { prompt: 'a traced fox' } }, headers: { 'x-request-id': 'trace-job-7' } });
    expect(res.status).toBe(202);
    expect((await stack.waitFinal(project.key, res.body.id)).status).toBe('succeeded');
    const apiLines = await linesOf('trace-job-7');
    expect(apiLines.some((l) => l.msg === 'http.request' && l.path === '/v1/jobs')).toBe(true);
    // the worker's lines of that job name the request and the job
    const workerLines = await linesOf('trace-job-7', 10_000, 'worker');
    expect(workerLines.length).toBeGreaterThan(0);
    for (const line of workerLines) expect(line).toMatchObject({ request_id: 'trace-job-7', job_id: res.body.id });
  });
});
