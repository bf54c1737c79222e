import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { GatewayLaneGovernor } from '@genqueue/queue';
import { TestStack, type Project } from '@genqueue/testing';
import { eventIdFloor } from '../src/services/project-event-stream';
import { countJobRows, eventually, expectError, ISO_TIME, JOB_ID, queuedJobIds, readSse, sql, sseEvents, useStack } from './helpers';

const INDEX_HTML = '<!doctype html><html><head><script type="module" src="/admin/assets/app-3f9a1c.js"></script></head><body><div id="root"></div></body></html>';
const APP_JS = 'console.log("genqueue dashboard fixture");\n';

/** A stand-in dashboard build, so these tests do not depend on the UI's own build at the moment they run. */
function fixtureBuild(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'genqueue-dashboard-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), INDEX_HTML);
  writeFileSync(path.join(dir, 'assets', 'app-3f9a1c.js'), APP_JS);
  return dir;
}

const image = (prompt: string) => ({ type: 'image.generate', input: { prompt } });

/** The admin routes of docs/admin-api.md that the dashboard uses, with the admin key and with a session. */
describe('admin dashboard routes', () => {
  let stack: TestStack;
  const admin = () => ({ key: stack.adminKey });
  useStack(
    (started) => {
      stack = started;
    },
    { withoutWorker: true, env: { DASHBOARD_DIR: fixtureBuild(), SSE_HEARTBEAT_MS: '500' } },
  );

  async function signIn(): Promise<{ cookie: string; csrf: string }> {
    const res = await stack.api.post('/admin/session', { body: { key: stack.adminKey } });
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('gq_admin_session='))!.split(';')[0]!;
    return { cookie, csrf: res.body.csrf_token };
  }

  const submit = async (project: Project, body: unknown) => {
    const res = await stack.api.post('/v1/jobs', { key: project.key, body });
    if (res.status !== 202) throw new Error(`submit: ${res.status} ${res.text}`);
    return res.body;
  };

  const waitBulkDone = (id: string) =>
    eventually(
      async () => (await stack.api.get(`/admin/v1/bulk-actions/${id}`, admin())).body,
      (view) => view.status === 'done',
      60_000,
      `bulk action ${id} done`,
    );

  describe('bulk cancel by filter, no worker running', () => {
    it('cancels all 1,200 queued jobs of a project in pages, and the counts follow', async () => {
      const project = await stack.createProject();
      const other = await stack.createProject();
      const bystander = await submit(other, image('not in the filter'));
      for (let batch = 0; batch < 2; batch += 1) {
        const jobs = Array.from({ length: 600 }, (_, i) => ({ ...image(`bulk ${batch}-${i}`), metadata: { batch: String(batch) } }));
        const res = await stack.api.post('/v1/jobs/bulk', { key: project.key, body: { jobs } });
        expect(res.status).toBe(202);
      }
      const queuedCount = await stack.api.get(`/admin/v1/jobs/count?project_id=${project.id}&status=queued`, admin());
      expect(queuedCount.body).toEqual({ object: 'count', count: 1200 });

      const started = await stack.api.post('/admin/v1/jobs/bulk-cancel', { ...admin(), body: { filter: { project_id: project.id, status: 'queued' } } });
      expect(started.status).toBe(202);
      expect(started.body).toEqual({
        object: 'bulk_action',
        id: expect.stringMatching(/^bulk_[0-9A-Z]{26}$/),
        action: 'cancel',
        status: expect.stringMatching(/^(running|done)$/),
        matched: 1200,
        processed: expect.any(Number),
        changed: expect.any(Number),
        skipped: expect.any(Number),
      });
      const done = await waitBulkDone(started.body.id);
      expect(done).toEqual({ ...started.body, status: 'done', processed: 1200, changed: 1200, skipped: 0 });

      const [row] = await sql<{ n: string }>(`SELECT count(*)::text AS n FROM jobs WHERE project_id = $1 AND status = 'canceled'`, [project.id]);
      expect(row?.n).toBe('1200');
      expect((await stack.api.get(`/admin/v1/jobs/count?project_id=${project.id}&status=canceled`, admin())).body.count).toBe(1200);
      expect((await stack.api.get(`/admin/v1/jobs/count?project_id=${project.id}&status=queued,running`, admin())).body.count).toBe(0);
      const listed = (await stack.api.get('/admin/v1/projects', admin())).body.data.find((p: any) => p.id === project.id);
      expect(listed.counts).toEqual({ queued: 0, running: 0, succeeded: 0, failed: 0, canceled: 1200, expired: 0 });
      // each cancel took its job out of Redis; the other project's job is untouched
      const stillQueued = new Set(await queuedJobIds(stack));
      expect(stillQueued.has(bystander.id)).toBe(true);
      const canceledIds = await sql<{ id: string }>('SELECT id FROM jobs WHERE project_id = $1', [project.id]);
      expect(canceledIds.filter(({ id }) => stillQueued.has(id))).toEqual([]);
      expect((await stack.api.get(`/v1/jobs/${bystander.id}`, { key: other.key })).body.status).toBe('queued');
      // each cancel wrote its event
      const [events] = await sql<{ n: string }>(`SELECT count(*)::text AS n FROM job_events WHERE project_id = $1 AND type = 'job.canceled'`, [project.id]);
      expect(events?.n).toBe('1200');
    }, 120_000);
  });

  describe('bulk by ids', () => {
    it('works through a mix of ids: changes what it may, skips unknown ids and jobs in the wrong state', async () => {
      const project = await stack.createProject();
      const queued = await submit(project, image('to cancel'));
      const canceled = await submit(project, image('already canceled'));
      expect((await stack.api.post(`/v1/jobs/${canceled.id}/cancel`, { key: project.key })).status).toBe(200);
      const unknown = 'job_00000000000000000000000000';
      const res = await stack.api.post('/admin/v1/jobs/bulk-cancel', { ...admin(), body: { ids: [queued.id, canceled.id, unknown, queued.id] } });
      expect(res.status).toBe(202);
      const done = res.body.status === 'done' ? res.body : await waitBulkDone(res.body.id);
      expect(done).toMatchObject({ action: 'cancel', status: 'done', matched: 3, processed: 3, changed: 1, skipped: 2 });
      expect((await stack.api.get(`/admin/v1/bulk-actions/${res.body.id}`, admin())).body).toEqual(done);

      const retried = await stack.api.post('/admin/v1/jobs/bulk-retry', { ...admin(), body: { ids: [queued.id, canceled.id] } });
      const retryDone = retried.body.status === 'done' ? retried.body : await waitBulkDone(retried.body.id);
      expect(retryDone).toMatchObject({ action: 'retry', status: 'done', matched: 2, changed: 2, skipped: 0 });
      for (const id of [queued.id, canceled.id]) expect((await stack.api.get(`/v1/jobs/${id}`, { key: project.key })).body.status).toBe('queued');
    });

    it.each<[string, unknown, string]>([
      ['neither ids nor filter', {}, 'ids'],
      ['both ids and filter', { ids: ['job_00000000000000000000000000'], filter: {} }, 'ids'],
      ['an id that is not a job id', { ids: ['prj_00000000000000000000000000'] }, 'ids.0'],
      ['no ids', { ids: [] }, 'ids'],
      ['more than 1000 ids', { ids: Array.from({ length: 1001 }, () => 'job_00000000000000000000000000') }, 'ids'],
      ['an unknown status in the filter', { filter: { status: 'queued,lost' } }, 'filter.status'],
      ['an unknown filter field', { filter: { owner: 'me' } }, 'filter.owner'],
      ['a bad date in the filter', { filter: { created_after: 'yesterday' } }, 'filter.created_after'],
    ])('answers 400 for %s and changes nothing', async (_name, body, pathName) => {
      const project = await stack.createProject();
      const job = await submit(project, image('stays queued'));
      const res = await stack.api.post('/admin/v1/jobs/bulk-cancel', { ...admin(), body });
      expect(expectError(res, 400, 'invalid_request').details.map((d) => d.path)).toContain(pathName);
      expect((await stack.api.get(`/v1/jobs/${job.id}`, { key: project.key })).body.status).toBe('queued');
    });

    it('answers 404 for an unknown bulk action', async () => {
      expectError(await stack.api.get('/admin/v1/bulk-actions/bulk_00000000000000000000000000', admin()), 404, 'not_found');
      expectError(await stack.api.get('/admin/v1/bulk-actions/nope', admin()), 404, 'not_found');
    });
  });

  describe('jobs', () => {
    let project: Project;
    beforeAll(async () => {
      project = await stack.createProject();
    });

    it('submits into a project: 202 with project_id; the job reads back with project_name and upstream_state', async () => {
      const session = await signIn();
      const res = await stack.api.post('/admin/v1/jobs', {
        body: { project_id: project.id, ...image('submitted by an operator'), metadata: { via: 'dashboard' } },
        headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
      });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ id: expect.stringMatching(JOB_ID), object: 'job', status: 'queued', project_id: project.id, metadata: { via: 'dashboard' } });
      const detail = await stack.api.get(`/admin/v1/jobs/${res.body.id}`, { headers: { cookie: session.cookie } });
      expect(detail.status).toBe(200);
      const projectName = (await stack.api.get('/admin/v1/projects', admin())).body.data.find((p: any) => p.id === project.id).name;
      expect(detail.body).toMatchObject({ id: res.body.id, project_id: project.id, project_name: projectName, upstream_state: null });
      // the project's own key sees it too
      expect((await stack.api.get(`/v1/jobs/${res.body.id}`, { key: project.key })).status).toBe(200);
    });

    it.each<[string, (p: Project) => unknown, number, string, string | null]>([
      ['no project_id', () => image('x'), 400, 'invalid_request', 'project_id'],
      ['a project_id that is not one', () => ({ project_id: 'default', ...image('x') }), 400, 'invalid_request', 'project_id'],
      ['an unknown project', () => ({ project_id: 'prj_00000000000000000000000000', ...image('x') }), 404, 'not_found', null],
      ['an unknown job type', (p) => ({ project_id: p.id, type: 'image.paint', input: {} }), 400, 'invalid_request', null],
      ['an input that fails its schema', (p) => ({ project_id: p.id, type: 'image.generate', input: { prompt: 42 } }), 400, 'invalid_request', 'input.prompt'],
    ])('POST /admin/v1/jobs with %s: the contract error and nothing stored', async (_name, body, status, code, pathName) => {
      const before = await countJobRows(project.id);
      const [all] = await sql<{ n: string }>('SELECT count(*)::text AS n FROM jobs');
      const error = expectError(await stack.api.post('/admin/v1/jobs', { ...admin(), body: body(project) }), status, code);
      if (pathName) expect(error.details.map((d) => d.path)).toContain(pathName);
      expect(await countJobRows(project.id)).toBe(before);
      const [after] = await sql<{ n: string }>('SELECT count(*)::text AS n FROM jobs');
      expect(after?.n).toBe(all?.n);
    });

    it('lists by several statuses and counts with the same filters', async () => {
      const p = await stack.createProject();
      const a = await submit(p, image('alpha'));
      const b = await submit(p, image('beta'));
      await submit(p, image('gamma'));
      expect((await stack.api.post(`/admin/v1/jobs/${b.id}/cancel`, admin())).status).toBe(200);
      const both = await stack.api.get(`/admin/v1/jobs?project_id=${p.id}&status=canceled,queued`, admin());
      expect(both.status).toBe(200);
      expect(both.body.data).toHaveLength(3);
      const canceledOnly = await stack.api.get(`/admin/v1/jobs?project_id=${p.id}&status=canceled`, admin());
      expect(canceledOnly.body.data.map((j: any) => j.id)).toEqual([b.id]);
      expect(canceledOnly.body.data[0].project_id).toBe(p.id);
      expect((await stack.api.get(`/admin/v1/jobs/count?project_id=${p.id}`, admin())).body).toEqual({ object: 'count', count: 3 });
      expect((await stack.api.get(`/admin/v1/jobs/count?project_id=${p.id}&status=queued`, admin())).body.count).toBe(2);
      expect((await stack.api.get(`/admin/v1/jobs/count?project_id=${p.id}&q=${a.id}`, admin())).body.count).toBe(1);
      // /v1 keeps one status
      expectError(await stack.api.get('/v1/jobs?status=canceled,queued', { key: p.key }), 400, 'invalid_request');
      expect((await stack.api.get('/v1/jobs?status=canceled', { key: p.key })).body.data.map((j: any) => j.id)).toEqual([b.id]);
    });

    it.each([
      ['/admin/v1/jobs?status=queued,lost', 'status'],
      ['/admin/v1/jobs?limit=500', 'limit'],
      ['/admin/v1/jobs?cursor=not-a-cursor', 'cursor'],
      ['/admin/v1/jobs/count?created_after=yesterday', 'created_after'],
      ['/admin/v1/jobs/count?status=', 'status'],
    ])('GET %s answers 400 naming %s', async (url, pathName) => {
      expect(expectError(await stack.api.get(url, admin()), 400, 'invalid_request').details.map((d) => d.path)).toContain(pathName);
    });

    it('cancels and retries one job, 409 when the state does not allow it', async () => {
      const job = await submit(project, image('cancel me'));
      const canceled = await stack.api.post(`/admin/v1/jobs/${job.id}/cancel`, admin());
      expect(canceled.status).toBe(200);
      expect(canceled.body).toMatchObject({ id: job.id, status: 'canceled', project_id: project.id });
      expectError(await stack.api.post(`/admin/v1/jobs/${job.id}/cancel`, admin()), 409, 'conflict');
      const retried = await stack.api.post(`/admin/v1/jobs/${job.id}/retry`, admin());
      expect(retried.status).toBe(202);
      expect(retried.body).toMatchObject({ id: job.id, status: 'queued', project_id: project.id });
      expectError(await stack.api.post(`/admin/v1/jobs/${job.id}/retry`, admin()), 409, 'conflict');
      const events = await stack.api.get(`/admin/v1/jobs/${job.id}/events`, admin());
      expect(events.status).toBe(200);
      expect(events.body.data.map((e: any) => [e.seq, e.type])).toEqual([
        [1, 'job.created'],
        [2, 'job.canceled'],
        [3, 'job.retried'],
      ]);
    });

    it('lists a job’s failed runs oldest first, and its children', async () => {
      const job = await submit(project, image('parent'));
      const child1 = await submit(project, image('child one'));
      const child2 = await submit(project, image('child two'));
      await sql('UPDATE jobs SET parent_id = $1 WHERE id = ANY($2)', [job.id, [child1.id, child2.id]]);
      await sql(
        `INSERT INTO job_attempts (id, job_id, attempt, outcome, error, created_at) VALUES
           ($1, $3, 2, 'failed', '{"code":"upstream_error","message":"boom","retryable":false}', now()),
           ($2, $3, 1, 'rate_limited', '{"code":"upstream_error","message":"429","retryable":true}', now() - interval '1 minute')`,
        [`jat_${randomBytes(13).toString('hex').toUpperCase().slice(0, 26)}`, `jat_${randomBytes(13).toString('hex').toUpperCase().slice(0, 26)}`, job.id],
      );
      const attempts = await stack.api.get(`/admin/v1/jobs/${job.id}/attempts`, admin());
      expect(attempts.status).toBe(200);
      expect(attempts.body.data).toEqual([
        { attempt: 1, outcome: 'rate_limited', error: { code: 'upstream_error', message: '429', retryable: true }, at: expect.stringMatching(ISO_TIME) },
        { attempt: 2, outcome: 'failed', error: { code: 'upstream_error', message: 'boom', retryable: false }, at: expect.stringMatching(ISO_TIME) },
      ]);
      expect((await stack.api.get(`/admin/v1/jobs/${child1.id}/attempts`, admin())).body.data).toEqual([]);
      const children = await stack.api.get(`/admin/v1/jobs/${job.id}/children`, admin());
      expect(children.body.data.map((j: any) => [j.id, j.parent_id, j.project_id])).toEqual([
        [child1.id, job.id, project.id],
        [child2.id, job.id, project.id],
      ]);
    });

    it.each(['', '/events', '/attempts', '/children'])('GET /admin/v1/jobs/{unknown}%s answers 404', async (suffix) => {
      expectError(await stack.api.get(`/admin/v1/jobs/job_00000000000000000000000000${suffix}`, admin()), 404, 'not_found');
      expectError(await stack.api.get(`/admin/v1/jobs/not-a-job${suffix}`, admin()), 404, 'not_found');
    });

    it('answers 404 for unknown jobs on cancel and retry, and for unknown artifacts', async () => {
      expectError(await stack.api.post('/admin/v1/jobs/job_00000000000000000000000000/cancel', admin()), 404, 'not_found');
      expectError(await stack.api.post('/admin/v1/jobs/job_00000000000000000000000000/retry', admin()), 404, 'not_found');
      expectError(await stack.api.get('/admin/v1/artifacts/art_00000000000000000000000000/content', admin()), 404, 'not_found');
    });
  });

  describe('GET /admin/v1/events', () => {
    it('streams the events of every project with project_id, and resumes after Last-Event-ID', async () => {
      const a = await stack.createProject();
      const b = await stack.createProject();
      const startId = eventIdFloor(Date.now() - 1);
      const jobA = await submit(a, image('event in a'));
      const jobB = await submit(b, image('event in b'));
      const wanted = new Set([jobA.id, jobB.id]);
      const seenBoth = (messages: Array<{ data?: string }>) =>
        new Set(messages.flatMap((m) => (m.data ? [JSON.parse(m.data).job_id] : [])).filter((id) => wanted.has(id))).size === 2;

      const first = await readSse(`${stack.apiUrl}/admin/v1/events`, { key: stack.adminKey, headers: { 'last-event-id': startId }, stopWhen: seenBoth });
      expect(first.status).toBe(200);
      expect(first.contentType).toMatch(/^text\/event-stream/);
      const events = sseEvents(first).filter((e) => wanted.has(e.data.job_id));
      expect(events.map((e) => [e.data.job_id, e.data.project_id, e.event])).toEqual([
        [jobA.id, a.id, 'job.created'],
        [jobB.id, b.id, 'job.created'],
      ]);
      for (const e of events) {
        expect(e.id).toBe(e.data.id);
        expect(e.data).toMatchObject({ object: 'event', seq: 1, data: { id: e.data.job_id } });
      }
      const all = sseEvents(first).map((e) => e.id);
      expect([...all].sort()).toEqual(all);

      // resume after A's event, with the session cookie this time: B's comes, A's does not again
      const session = await signIn();
      const resumed = await readSse(`${stack.apiUrl}/admin/v1/events`, {
        headers: { cookie: session.cookie, 'last-event-id': events[0]!.id },
        stopWhen: (messages) => messages.some((m) => m.data && JSON.parse(m.data).job_id === jobB.id),
      });
      expect(resumed.status).toBe(200);
      const after = sseEvents(resumed);
      expect(after.map((e) => e.id)).not.toContain(events[0]!.id);
      expect(after.filter((e) => wanted.has(e.data.job_id)).map((e) => e.id)).toEqual([events[1]!.id]);
    });

    it('delivers a change made while the stream is open', async () => {
      const project = await stack.createProject();
      const job = await submit(project, image('live'));
      const [created] = await sql<{ id: string }>(`SELECT id FROM job_events WHERE job_id = $1`, [job.id]);
      const reading = readSse(`${stack.apiUrl}/admin/v1/events`, {
        key: stack.adminKey,
        headers: { 'last-event-id': created!.id },
        stopWhen: (messages) => messages.some((m) => m.event === 'job.canceled' && JSON.parse(m.data ?? '{}').job_id === job.id),
      });
      expect((await stack.api.post(`/admin/v1/jobs/${job.id}/cancel`, admin())).status).toBe(200);
      const result = await reading;
      expect(sseEvents(result).find((e) => e.data.job_id === job.id)).toMatchObject({ event: 'job.canceled', data: { project_id: project.id, seq: 2 } });
    });

    it('answers 400 for a Last-Event-ID that is not an event id, 401 without credentials', async () => {
      const bad = await readSse(`${stack.apiUrl}/admin/v1/events`, { key: stack.adminKey, headers: { 'last-event-id': '42' } });
      expect(bad.status).toBe(400);
      expect((bad.body as any).error.code).toBe('invalid_request');
      const anonymous = await readSse(`${stack.apiUrl}/admin/v1/events`, {});
      expect(anonymous.status).toBe(401);
    });
  });

  describe('projects and keys', () => {
    it('lists a project’s API keys without the keys themselves; revoked ones show revoked_at', async () => {
      const project = await stack.createProject();
      const second = await stack.api.post(`/admin/v1/projects/${project.id}/api-keys`, { ...admin(), body: { name: 'ci' } });
      expect((await stack.api.delete(`/admin/v1/api-keys/${second.body.id}`, admin())).status).toBe(204);
      const res = await stack.api.get(`/admin/v1/projects/${project.id}/api-keys`, admin());
      expect(res.status).toBe(200);
      expect(res.body.data).toHaveLength(2);
      for (const key of res.body.data) {
        expect(Object.keys(key).sort()).toEqual(['created_at', 'id', 'last_used_at', 'name', 'object', 'prefix', 'revoked_at']);
        expect(JSON.stringify(key)).not.toContain(project.key);
      }
      const revoked = res.body.data.find((k: any) => k.id === second.body.id);
      expect(revoked).toMatchObject({ object: 'api_key', name: 'ci', prefix: second.body.prefix, revoked_at: expect.stringMatching(ISO_TIME) });
      expect(res.body.data.find((k: any) => k.id !== second.body.id).revoked_at).toBeNull();
      expectError(await stack.api.get('/admin/v1/projects/prj_00000000000000000000000000/api-keys', admin()), 404, 'not_found');
    });
  });

  describe('webhook endpoints', () => {
    it('lists endpoints of every project without secrets, filters by project, and re-enables a disabled one', async () => {
      const a = await stack.createProject();
      const b = await stack.createProject();
      const epA = await stack.api.post('/v1/webhook-endpoints', { key: a.key, body: { url: 'https://example.org/a', event_types: ['job.failed'] } });
      const epB = await stack.api.post('/v1/webhook-endpoints', { key: b.key, body: { url: 'https://example.org/b' } });
      const all = await stack.api.get('/admin/v1/webhook-endpoints', admin());
      expect(all.status).toBe(200);
      const ids = all.body.data.map((e: any) => e.id);
      expect(ids).toEqual(expect.arrayContaining([epA.body.id, epB.body.id]));
      expect(JSON.stringify(all.body)).not.toContain('whsec_');
      const onlyA = await stack.api.get(`/admin/v1/webhook-endpoints?project_id=${a.id}`, admin());
      expect(onlyA.body.data).toEqual([
        {
          id: epA.body.id,
          object: 'webhook_endpoint',
          project_id: a.id,
          url: 'https://example.org/a',
          description: null,
          event_types: ['job.failed'],
          status: 'enabled',
          disabled_at: null,
          disabled_reason: null,
          failing_since: null,
          created_at: epA.body.created_at,
        },
      ]);
      await sql(`UPDATE webhook_endpoints SET disabled_at = now(), disabled_reason = 'gone (410)', failing_since = now() - interval '5 days' WHERE id = $1`, [epA.body.id]);
      const disabled = (await stack.api.get(`/admin/v1/webhook-endpoints?project_id=${a.id}`, admin())).body.data[0];
      expect(disabled).toMatchObject({ status: 'disabled', disabled_at: expect.stringMatching(ISO_TIME), disabled_reason: 'gone (410)', failing_since: expect.stringMatching(ISO_TIME) });
      const enabled = await stack.api.post(`/admin/v1/webhook-endpoints/${epA.body.id}/enable`, admin());
      expect(enabled.status).toBe(200);
      expect(enabled.body).toMatchObject({ id: epA.body.id, status: 'enabled', disabled_at: null, disabled_reason: null, failing_since: null });
      expectError(await stack.api.post('/admin/v1/webhook-endpoints/wep_00000000000000000000000000/enable', admin()), 404, 'not_found');
    });
  });

  describe('stats', () => {
    it('shows a gateway lane that the workers hold (a refused key) on its queue row', async () => {
      const redis = new Redis(String(stack.env['REDIS_URL']));
      try {
        const lanes = new GatewayLaneGovernor(redis, String(stack.env['QUEUE_PREFIX']), () => 600, { refusedOpenMs: 60_000 });
        await lanes.report('video_submit', 'refused');
        const stats = (await stack.api.get('/admin/v1/stats', admin())).body;
        expect(stats.queues.video).toMatchObject({ held_reason: 'refused', held_until: expect.stringMatching(ISO_TIME) });
        expect(stats.queues.image.held_reason).toBeNull();
        expect(stats.gateway_lanes.find((lane: any) => lane.lane === 'video_submit')).toMatchObject({ breaker: 'open', reason: 'refused' });
        await lanes.report('video_submit', 'ok');
        expect((await stack.api.get('/admin/v1/stats', admin())).body.queues.video.held_reason).toBeNull();
      } finally {
        redis.disconnect();
      }
    });

    it('answers counts, queue figures, windows, full series and webhook counts', async () => {
      const res = await stack.api.get('/admin/v1/stats', admin());
      expect(res.status).toBe(200);
      const stats = res.body;
      expect(stats).toMatchObject({
        object: 'stats',
        jobs_by_status: expect.any(Object),
        jobs_by_type: expect.any(Object),
        jobs_by_type_and_status: expect.any(Object),
        webhooks: { pending: expect.any(Number), failing: expect.any(Number), succeeded_24h: expect.any(Number), failed_24h: expect.any(Number) },
        generated_at: expect.stringMatching(ISO_TIME),
      });
      const [byStatus] = await sql<{ n: string }>(`SELECT count(*)::text AS n FROM jobs WHERE status = 'canceled'`);
      expect(stats.jobs_by_status.canceled).toBe(Number(byStatus?.n));
      const imageStatuses = stats.jobs_by_type_and_status['image.generate'];
      expect(Object.values(imageStatuses as Record<string, number>).reduce((s, n) => s + n, 0)).toBe(stats.jobs_by_type['image.generate']);
      expect(Object.keys(stats.queues).sort()).toEqual(['audio', 'embedding', 'image', 'mj', 'video']);
      // no worker runs in this file: queued image jobs wait with nobody taking them
      expect(stats.queues.image).toEqual({
        waiting: expect.any(Number),
        active: 0,
        delayed: expect.any(Number),
        failed: expect.any(Number),
        paused: false,
        rate_limited_ms: 0,
        last_active_at: null,
        idle_warning: true,
        held_reason: null,
        held_until: null,
      });
      expect(stats.gateway_lanes.map((lane: any) => lane.lane)).toEqual(['image', 'video_submit', 'video_poll', 'mj_submit', 'mj_poll', 'audio', 'embedding']);
      expect(stats.gateway_lanes[0]).toMatchObject({ breaker: 'closed', reason: null, max_per_minute: expect.any(Number) });
      expect(stats.queues.image.waiting).toBeGreaterThan(0);
      expect(stats.queues.audio).toMatchObject({ waiting: 0, idle_warning: false });
      for (const window of [stats.last_hour, stats.last_day]) {
        expect(window).toEqual({ finished: expect.any(Number), by_status: expect.any(Object), throughput_per_min: expect.any(Number), failure_rate: expect.any(Number) });
      }
      expect(stats.series.hour).toHaveLength(60);
      expect(stats.series.day).toHaveLength(96);
      const starts = stats.series.hour.map((b: any) => Date.parse(b.start));
      expect(starts.slice(1).map((s: number, i: number) => s - starts[i])).toEqual(Array(59).fill(60_000));
      expect(stats.series.day[1].start).toBe(new Date(Date.parse(stats.series.day[0].start) + 900_000).toISOString());
      expect(Date.parse(stats.series.hour[59].start)).toBeLessThanOrEqual(Date.now());
    });
  });

  describe('access', () => {
    const routes: Array<[string, string]> = [
      ['GET', '/admin/v1/jobs/count'],
      ['POST', '/admin/v1/jobs'],
      ['GET', '/admin/v1/jobs/job_00000000000000000000000000/attempts'],
      ['POST', '/admin/v1/jobs/bulk-cancel'],
      ['GET', '/admin/v1/bulk-actions/bulk_00000000000000000000000000'],
      ['GET', '/admin/v1/webhook-endpoints'],
      ['GET', '/admin/v1/webhook-deliveries'],
      ['POST', '/admin/v1/webhook-deliveries/whd_00000000000000000000000000/redeliver'],
      ['GET', '/admin/v1/projects/prj_00000000000000000000000000/api-keys'],
      ['GET', '/admin/v1/artifacts/art_00000000000000000000000000/content'],
    ];
    it.each(routes)('%s %s: 403 for a project key, 401 without one', async (method, url) => {
      const project = await stack.createProject();
      const body = method === 'POST' ? {} : undefined;
      expectError(await stack.api.request(method, url, { key: project.key, body }), 403, 'forbidden');
      expectError(await stack.api.request(method, url, { body }), 401, 'unauthorized');
    });
  });

  describe('the dashboard build at /admin', () => {
    const expectPageHeaders = (headers: Headers) => {
      const csp = headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("img-src 'self' blob: data:");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('googleapis');
      expect(headers.get('x-frame-options')).toBe('DENY');
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('referrer-policy')).toBe('same-origin');
    };

    it.each(['/admin', '/admin/', '/admin/jobs/job_00000000000000000000000000', '/admin/login?next=%2Fadmin%2Fqueues', '/admin/projects/x/keys'])(
      'GET %s answers index.html, never cached, with the security headers',
      async (url) => {
        const res = await stack.api.get(url);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(res.text).toBe(INDEX_HTML);
        expect(res.headers.get('cache-control')).toBe('no-cache');
        expectPageHeaders(res.headers);
      },
    );

    it('serves hashed assets with a long cache; a missing asset is 404, not the page', async () => {
      const res = await stack.api.get('/admin/assets/app-3f9a1c.js');
      expect(res.status).toBe(200);
      expect(res.text).toBe(APP_JS);
      expect(res.headers.get('content-type')).toMatch(/javascript/);
      expect(res.headers.get('cache-control')).toMatch(/max-age=31536000/);
      expect(res.headers.get('cache-control')).toMatch(/immutable/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const missing = await stack.api.get('/admin/assets/app-000000.js');
      expect(missing.status).toBe(404);
      expect(missing.text).not.toBe(INDEX_HTML);
    });

    it('leaves the API’s own paths to the API: an unknown /admin/v1 route is a JSON 404', async () => {
      expectError(await stack.api.get('/admin/v1/nothing-here', admin()), 404, 'not_found');
      expectError(await stack.api.get('/admin/session'), 401, 'unauthorized');
    });
  });

  describe('bull-board at /admin/queues', () => {
    it('sends a browser without a session to the sign-in page, and answers 401 to its API', async () => {
      const page = await fetch(`${stack.apiUrl}/admin/queues`, { redirect: 'manual' });
      expect(page.status).toBe(302);
      expect(page.headers.get('location')).toBe('/admin/login?next=%2Fadmin%2Fqueues');
      expectError(await stack.api.get('/admin/queues/api/queues'), 401, 'unauthorized');
    });

    it('shows the queues read-only to a session, with its own relaxed CSP', async () => {
      const session = await signIn();
      const page = await fetch(`${stack.apiUrl}/admin/queues`, { headers: { cookie: session.cookie }, redirect: 'manual' });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html).toContain('/admin/queues/');
      // its scripts come from /admin/queues/static (the page's <base>), behind the same session
      const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      const asset = await fetch(`${stack.apiUrl}/admin/queues/${script}`, { headers: { cookie: session.cookie } });
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
      expect((await fetch(`${stack.apiUrl}/admin/queues/${script}`)).status).toBe(401);
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain('https://fonts.googleapis.com');
      expect(page.headers.get('x-frame-options')).toBe('DENY');

      const api = await stack.api.get('/admin/queues/api/queues', { headers: { cookie: session.cookie } });
      expect(api.status).toBe(200);
      const names = api.body.queues.map((q: any) => q.name);
      expect(names).toEqual(expect.arrayContaining(['job-image', 'job-video', 'webhook-deliver']));
      expect(api.body.queues.every((q: any) => q.readOnlyMode === true)).toBe(true);

      // nothing changes a queue from here, with the key or with the session and its token
      expectError(await stack.api.request('PUT', '/admin/queues/api/queues/job-image/pause', { key: stack.adminKey }), 403, 'forbidden');
      const withToken = await stack.api.request('PUT', '/admin/queues/api/queues/job-image/pause', { headers: { cookie: session.cookie, 'x-csrf-token': session.csrf } });
      expectError(withToken, 403, 'forbidden');
      expect((await stack.api.get('/admin/v1/stats', admin())).body.queues.image.paused).toBe(false);
    });
  });

  describe('with a worker', () => {
    let project: Project;
    let receiver: http.Server;
    let receiverUrl: string;

    beforeAll(async () => {
      await stack.startWorker();
      project = await stack.createProject();
      receiver = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks, got it'));
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    }, 120_000);

    afterAll(async () => {
      await new Promise((resolve) => receiver?.close(resolve));
      await stack.stopWorker();
    });

    it('serves any project’s artifact bytes, whole and by Range', async () => {
      const job = await stack.runJob(project.key, image('a fox for the preview'));
      expect(job.status).toBe('succeeded');
      const artifact = job.artifacts[0];
      const whole = await fetch(`${stack.apiUrl}/admin/v1/artifacts/${artifact.id}/content`, { headers: { authorization: `Bearer ${stack.adminKey}` } });
      expect(whole.status).toBe(200);
      expect(whole.headers.get('content-type')).toBe(artifact.content_type);
      const bytes = Buffer.from(await whole.arrayBuffer());
      expect(bytes.length).toBe(artifact.bytes);
      const session = await signIn();
      const part = await fetch(`${stack.apiUrl}/admin/v1/artifacts/${artifact.id}/content`, { headers: { cookie: session.cookie, range: 'bytes=0-15' } });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 0-15/${artifact.bytes}`);
      expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(0, 16));
      const unsatisfiable = await fetch(`${stack.apiUrl}/admin/v1/artifacts/${artifact.id}/content`, { headers: { cookie: session.cookie, range: `bytes=${artifact.bytes + 10}-` } });
      expect(unsatisfiable.status).toBe(416);
    });

    it('lists deliveries of every project with filters and each attempt’s response body, and redelivers one', async () => {
      const endpoint = await stack.api.post('/v1/webhook-endpoints', { key: project.key, body: { url: receiverUrl, event_types: ['job.succeeded'] } });
      expect(endpoint.status).toBe(201);
      const job = await stack.runJob(project.key, image('a fox with a webhook'));
      const listUrl = `/admin/v1/webhook-deliveries?project_id=${project.id}&job_id=${job.id}&event_type=job.succeeded`;
      const delivered = await eventually(
        async () => (await stack.api.get(listUrl, admin())).body.data,
        (data: any[]) => data.length === 1 && data[0].status === 'succeeded',
        20_000,
        'the delivery succeeded',
      );
      expect(delivered[0]).toMatchObject({
        object: 'webhook_delivery',
        project_id: project.id,
        job_id: job.id,
        endpoint_id: endpoint.body.id,
        event_type: 'job.succeeded',
        created_at: expect.stringMatching(ISO_TIME),
        attempts: [{ status_code: 200, response_body: 'thanks, got it', error: null, at: expect.stringMatching(ISO_TIME), duration_ms: expect.any(Number) }],
      });
      expect((await stack.api.get(`/admin/v1/webhook-deliveries?project_id=${project.id}&event_type=job.failed`, admin())).body.data).toEqual([]);
      expect((await stack.api.get(`/admin/v1/webhook-deliveries?endpoint_id=${endpoint.body.id}&status=succeeded`, admin())).body.data.map((d: any) => d.id)).toEqual([
        delivered[0].id,
      ]);

      const session = await signIn();
      const again = await stack.api.post(`/admin/v1/webhook-deliveries/${delivered[0].id}/redeliver`, { headers: { cookie: session.cookie, 'x-csrf-token': session.csrf } });
      expect(again.status).toBe(202);
      expect(again.body).toMatchObject({ id: delivered[0].id, project_id: project.id, webhook_id: delivered[0].webhook_id });
      await eventually(
        async () => (await stack.api.get(listUrl, admin())).body.data[0],
        (d: any) => d.status === 'succeeded' && d.attempts.length === 2,
        20_000,
        'the redelivery succeeded',
      );
      expectError(await stack.api.post('/admin/v1/webhook-deliveries/whd_00000000000000000000000000/redeliver', admin()), 404, 'not_found');
    });

    it.each([
      ['status=lost', 'status'],
      ['event_type=job.lost', 'event_type'],
      ['cursor=not-a-cursor', 'cursor'],
      ['limit=0', 'limit'],
    ])('GET /admin/v1/webhook-deliveries?%s answers 400 naming %s', async (query, pathName) => {
      const res = await stack.api.get(`/admin/v1/webhook-deliveries?${query}`, admin());
      expect(expectError(res, 400, 'invalid_request').details.map((d) => d.path)).toContain(pathName);
    });
  });
});

describe('the dashboard without a build', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // started directly (not through useStack): this file's other stack owns the helpers' database
    stack = await TestStack.start({ withoutWorker: true, env: { DASHBOARD_DIR: mkdtempSync(path.join(tmpdir(), 'genqueue-no-dashboard-')) } });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('answers a 503 HTML page saying how to build it; the admin API still works', async () => {
    for (const url of ['/admin', '/admin/jobs']) {
      const res = await stack.api.get(url);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.text).toContain('npm run build:dashboard');
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    }
    expect((await stack.api.get('/admin/v1/projects', { key: stack.adminKey })).status).toBe(200);
  });
});
