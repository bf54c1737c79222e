import { randomBytes } from 'node:crypto';
import type { TestStack } from '@genqueue/testing';
import { eventually, expectError, ISO_TIME, nonSnakeKeys, unsigned, useStack } from './helpers';

/** /admin/v1/*: projects, API keys, the cross-project job search, stats and the upstream's account. */
describe('administration', () => {
  let stack: TestStack;
  useStack((started) => {
    stack = started;
  });

  const uniqueName = (prefix = 'adm') => `${prefix}-${randomBytes(5).toString('hex')}`;
  const admin = () => ({ key: stack.adminKey });

  async function allProjectNames(): Promise<string[]> {
    const res = await stack.api.get('/admin/v1/projects', admin());
    expect(res.status).toBe(200);
    return res.body.data.map((p: any) => p.name);
  }

  describe('projects', () => {
    it('creates a project: 201 with its id, name, limits and creation time', async () => {
      const name = uniqueName();
      const res = await stack.api.post('/admin/v1/projects', { ...admin(), body: { name, limits: { requests_per_minute: 120, max_running_jobs: 4 } } });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^prj_[0-9A-Z]{26}$/),
        object: 'project',
        name,
        limits: { requests_per_minute: 120, max_running_jobs: 4 },
        created_at: expect.stringMatching(ISO_TIME),
      });
      const bare = await stack.api.post('/admin/v1/projects', { ...admin(), body: { name: uniqueName() } });
      expect(bare.status).toBe(201);
      expect(bare.body.limits).toEqual({});
      const listed = await stack.api.get('/admin/v1/projects', admin());
      // the list adds each project's job counts by status (admin-api.md)
      const counts = { queued: 0, running: 0, succeeded: 0, failed: 0, canceled: 0, expired: 0 };
      expect(listed.body.data).toContainEqual({ ...res.body, counts });
      expect(listed.body.data).toContainEqual({ ...bare.body, counts });
    });

    it('answers 409 for a name already taken', async () => {
      const name = uniqueName();
      expect((await stack.api.post('/admin/v1/projects', { ...admin(), body: { name } })).status).toBe(201);
      expectError(await stack.api.post('/admin/v1/projects', { ...admin(), body: { name } }), 409, 'conflict');
      expect((await allProjectNames()).filter((n) => n === name)).toHaveLength(1);
    });

    it.each<[string, unknown, string]>([
      ['no name', {}, 'name'],
      ['a blank name', { name: '   ' }, 'name'],
      ['a name with spaces', { name: 'my project' }, 'name'],
      ['a numeric name', { name: 42 }, 'name'],
      ['a zero rate limit', { name: 'zero-rate', limits: { requests_per_minute: 0 } }, 'limits.requests_per_minute'],
      ['a fractional running limit', { name: 'frac', limits: { max_running_jobs: 1.5 } }, 'limits.max_running_jobs'],
      ['an unknown limit', { name: 'unknown-limit', limits: { gpus: 3 } }, 'limits.gpus'],
      ['an unknown field', { name: 'extra-field', owner: 'me' }, 'owner'],
    ])('answers 400 for %s and creates nothing', async (_name, body, path) => {
      const res = await stack.api.post('/admin/v1/projects', { ...admin(), body });
      expect(expectError(res, 400, 'invalid_request').details.map((d) => d.path)).toContain(path);
      const name = (body as { name?: unknown }).name;
      if (typeof name === 'string') expect(await allProjectNames()).not.toContain(name.trim());
    });

    it('answers 400 for a body that is not JSON', async () => {
      const res = await stack.api.post('/admin/v1/projects', { ...admin(), rawBody: '{"name":', headers: { 'content-type': 'application/json' } });
      expectError(res, 400, 'invalid_request');
    });
  });

  describe('changing a project', () => {
    const patch = (id: string, body: unknown, key = stack.adminKey) => stack.api.request('PATCH', `/admin/v1/projects/${id}`, { key, body });

    it('sets and removes limits one by one, keeps the others, and renames', async () => {
      const created = await stack.api.post('/admin/v1/projects', { ...admin(), body: { name: uniqueName(), limits: { requests_per_minute: 120, max_running_jobs: 4 } } });
      const id = created.body.id as string;
      const changed = await patch(id, { limits: { max_running_jobs: null, requests_per_minute: 60 } });
      expect(changed.status).toBe(200);
      expect(changed.body).toEqual({ ...created.body, limits: { requests_per_minute: 60 } });
      const renamed = uniqueName();
      expect((await patch(id, { name: renamed })).body).toEqual({ ...created.body, name: renamed, limits: { requests_per_minute: 60 } });
      expect((await patch(id, { limits: { max_running_jobs: 2 } })).body.limits).toEqual({ requests_per_minute: 60, max_running_jobs: 2 });
      expect(await allProjectNames()).toContain(renamed);
    });

    it('applies a new request limit to the project key at once', async () => {
      const project = await stack.createProject();
      expect((await stack.api.get('/v1/jobs', { key: project.key })).status).toBe(200);
      expect((await patch(project.id, { limits: { requests_per_minute: 1 } })).status).toBe(200);
      const answers = [(await stack.api.get('/v1/jobs', { key: project.key })).status, (await stack.api.get('/v1/jobs', { key: project.key })).status];
      expect(answers).toContain(429);
    });

    it('answers 404 for an unknown project, 409 for a name taken, 400 for a bad change, changing nothing', async () => {
      const created = await stack.api.post('/admin/v1/projects', { ...admin(), body: { name: uniqueName(), limits: { max_running_jobs: 3 } } });
      const id = created.body.id as string;
      expectError(await patch('prj_01ARZ3NDEKTSV4RRFFQ69G5FAV', { name: uniqueName() }), 404, 'not_found');
      const taken = uniqueName();
      expect((await stack.api.post('/admin/v1/projects', { ...admin(), body: { name: taken } })).status).toBe(201);
      expectError(await patch(id, { name: taken }), 409, 'conflict');
      for (const [body, path] of [
        [{}, '(body)'],
        [{ limits: { max_running_jobs: 0 } }, 'limits.max_running_jobs'],
        [{ limits: { gpus: 1 } }, 'limits.gpus'],
        [{ name: 'has spaces' }, 'name'],
        [{ owner: 'me' }, 'owner'],
      ] as const) {
        expect(expectError(await patch(id, body), 400, 'invalid_request').details.map((d) => d.path)).toContain(path);
      }
      const project = await stack.createProject();
      expect((await patch(id, { name: uniqueName() }, project.key)).status).toBe(403);
      expect((await stack.api.get('/admin/v1/projects', admin())).body.data.find((p: any) => p.id === id)).toEqual({ ...created.body, counts: expect.any(Object) });
    });
  });

  describe('API keys', () => {
    it('creates a key shown once, usable at once', async () => {
      const project = await stack.createProject();
      const res = await stack.api.post(`/admin/v1/projects/${project.id}/api-keys`, { ...admin(), body: { name: 'ci' } });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        id: expect.stringMatching(/^key_[0-9A-Z]{26}$/),
        object: 'api_key',
        name: 'ci',
        key: expect.stringMatching(/^gq_[\w-]{20,}$/),
        prefix: expect.any(String),
        created_at: expect.stringMatching(ISO_TIME),
      });
      expect(res.body.key.startsWith(res.body.prefix)).toBe(true);
      expect(res.body.prefix.length).toBeLessThan(res.body.key.length);
      const use = await stack.api.post('/v1/jobs', { key: res.body.key, body: { type: 'image.generate', input: { prompt: 'with the new key' } } });
      expect(use.status).toBe(202);
      const seen = await stack.api.get(`/v1/jobs/${use.body.id}`, { key: project.key });
      expect(seen.status).toBe(200);
      const unnamed = await stack.api.post(`/admin/v1/projects/${project.id}/api-keys`, admin());
      expect(unnamed.status).toBe(201);
      expect(unnamed.body.name).toBeNull();
    });

    it('answers 404 for an unknown project and 400 for a bad name', async () => {
      expectError(await stack.api.post('/admin/v1/projects/prj_00000000000000000000000000/api-keys', { ...admin(), body: {} }), 404, 'not_found');
      const project = await stack.createProject();
      const res = await stack.api.post(`/admin/v1/projects/${project.id}/api-keys`, { ...admin(), body: { name: 'x'.repeat(101) } });
      expect(expectError(res, 400, 'invalid_request').details.map((d) => d.path)).toEqual(['name']);
    });

    it('revokes a key at once: 204, then 401 for it while other keys keep working', async () => {
      const project = await stack.createProject();
      const created = await stack.api.post(`/admin/v1/projects/${project.id}/api-keys`, { ...admin(), body: { name: 'doomed' } });
      const doomed = created.body.key as string;
      expect((await stack.api.get('/v1/jobs', { key: doomed })).status).toBe(200);
      const revoke = await stack.api.delete(`/admin/v1/api-keys/${created.body.id}`, admin());
      expect(revoke.status).toBe(204);
      expect(revoke.text).toBe('');
      expectError(await stack.api.get('/v1/jobs', { key: doomed }), 401, 'unauthorized');
      expectError(await stack.api.post('/v1/jobs', { key: doomed, body: { type: 'image.generate', input: { prompt: 'x' } } }), 401, 'unauthorized');
      expect((await stack.api.get('/v1/jobs', { key: project.key })).status).toBe(200);
      expect((await stack.api.get('/v1/jobs', { key: doomed })).status).toBe(401);
    });

    it('records when a key was last used', async () => {
      const project = await stack.createProject();
      const listed = async () => (await stack.api.get(`/admin/v1/projects/${project.id}/api-keys`, admin())).body.data[0];
      const before = await listed();
      expect(before.last_used_at).toBeNull();
      expect((await stack.api.get('/v1/jobs', { key: project.key })).status).toBe(200);
      const used = await eventually(listed, (key) => key.last_used_at !== null, 10_000, 'last_used_at');
      expect(used.last_used_at).toMatch(ISO_TIME);
    });

    it('lists, creates and revokes admin keys by route, and never revokes the last one', async () => {
      const created = await stack.api.post('/admin/v1/admin-keys', { ...admin(), body: { name: 'ops-2' } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ object: 'api_key', name: 'ops-2', key: expect.stringMatching(/^gqa_/), prefix: created.body.key.slice(0, 12) });
      const listed = await stack.api.get('/admin/v1/admin-keys', admin());
      expect(listed.body.data.map((k: any) => k.id)).toContain(created.body.id);
      expect(listed.text).not.toContain(created.body.key);
      expect((await stack.api.get('/admin/v1/projects', { key: created.body.key })).status).toBe(200);
      expect((await stack.api.delete(`/admin/v1/api-keys/${created.body.id}`, admin())).status).toBe(204);
      expectError(await stack.api.get('/admin/v1/projects', { key: created.body.key }), 401, 'unauthorized');
      // the stack's own admin key is now the only active one: revoking it is refused
      const active = (await stack.api.get('/admin/v1/admin-keys', admin())).body.data.filter((k: any) => k.revoked_at === null);
      expect(active).toHaveLength(1);
      expectError(await stack.api.delete(`/admin/v1/api-keys/${active[0].id}`, admin()), 409, 'conflict');
      expect((await stack.api.get('/admin/v1/projects', admin())).status).toBe(200);
      const project = await stack.createProject();
      expectError(await stack.api.get('/admin/v1/admin-keys', { key: project.key }), 403, 'forbidden');
    });

    it('answers 404 when revoking an unknown key', async () => {
      expectError(await stack.api.delete('/admin/v1/api-keys/key_00000000000000000000000000', admin()), 404, 'not_found');
    });
  });

  describe('access', () => {
    const routes: Array<[string, string]> = [
      ['GET', '/admin/v1/projects'],
      ['POST', '/admin/v1/projects'],
      ['POST', '/admin/v1/projects/prj_00000000000000000000000000/api-keys'],
      ['DELETE', '/admin/v1/api-keys/key_00000000000000000000000000'],
      ['GET', '/admin/v1/jobs'],
      ['GET', '/admin/v1/stats'],
      ['GET', '/admin/v1/upstream'],
    ];

    it.each(routes)('%s %s: 403 for a project key, 401 without or with an unknown key', async (method, path) => {
      const project = await stack.createProject();
      const name = uniqueName('denied');
      const body = method === 'POST' ? { name } : undefined;
      expectError(await stack.api.request(method, path, { key: project.key, body }), 403, 'forbidden');
      expectError(await stack.api.request(method, path, { body }), 401, 'unauthorized');
      expectError(await stack.api.request(method, path, { key: `gq_${randomBytes(24).toString('base64url')}`, body }), 401, 'unauthorized');
      expect(await allProjectNames()).not.toContain(name);
    });
  });

  describe('GET /admin/v1/jobs', () => {
    it('searches every project, by project_id, by q (id, prompt words) and by the usual filters', async () => {
      const a = await stack.createProject();
      const b = await stack.createProject();
      const word = `zebra${randomBytes(4).toString('hex')}`;
      const a1 = await stack.runJob(a.key, { type: 'image.generate', input: { prompt: `a ${word} crossing` }, metadata: { team: 'red' } });
      const a2 = await stack.runJob(a.key, { type: 'image.generate', input: { prompt: 'a forbidden sign' } });
      const b1 = await stack.runJob(b.key, { type: 'image.generate', input: { prompt: `two ${word}s` } });

      const byProject = await stack.api.get(`/admin/v1/jobs?project_id=${a.id}`, admin());
      expect(byProject.status).toBe(200);
      expect(byProject.body.data.map((j: any) => j.id)).toEqual([a2.id, a1.id]);
      expect(byProject.body.data.every((j: any) => j.project_id === a.id)).toBe(true);
      expect(byProject.body.next_cursor).toBeNull();
      expect(unsigned({ ...byProject.body.data[1], project_id: undefined })).toEqual(unsigned({ ...a1, project_id: undefined }));

      const byWord = await stack.api.get(`/admin/v1/jobs?q=${word}`, admin());
      expect(byWord.body.data.map((j: any) => [j.id, j.project_id])).toEqual([
        [b1.id, b.id],
        [a1.id, a.id],
      ]);
      const byId = await stack.api.get(`/admin/v1/jobs?q=${a2.id}`, admin());
      expect(byId.body.data.map((j: any) => j.id)).toEqual([a2.id]);
      const combined = await stack.api.get(`/admin/v1/jobs?q=${word}&project_id=${b.id}`, admin());
      expect(combined.body.data.map((j: any) => j.id)).toEqual([b1.id]);
      const failed = await stack.api.get(`/admin/v1/jobs?project_id=${a.id}&status=failed`, admin());
      expect(failed.body.data.map((j: any) => j.id)).toEqual([a2.id]);
      const meta = await stack.api.get(`/admin/v1/jobs?metadata[team]=red&project_id=${a.id}`, admin());
      expect(meta.body.data.map((j: any) => j.id)).toEqual([a1.id]);

      const first = await stack.api.get(`/admin/v1/jobs?project_id=${a.id}&limit=1`, admin());
      expect(first.body.data.map((j: any) => j.id)).toEqual([a2.id]);
      const second = await stack.api.get(`/admin/v1/jobs?project_id=${a.id}&limit=1&cursor=${first.body.next_cursor}`, admin());
      expect(second.body.data.map((j: any) => j.id)).toEqual([a1.id]);

      const everything = await stack.api.get('/admin/v1/jobs?limit=100', admin());
      expect(everything.body.data.length).toBeGreaterThanOrEqual(3);
    });

    it.each([
      ['limit=500', 'limit'],
      ['status=nope', 'status'],
      ['q=', 'q'],
      ['cursor=zzz', 'cursor'],
    ])('answers 400 for ?%s', async (query, path) => {
      const res = await stack.api.get(`/admin/v1/jobs?${query}`, admin());
      expect(expectError(res, 400, 'invalid_request').details.map((d) => d.path)).toContain(path);
    });
  });

  describe('GET /admin/v1/stats', () => {
    it('counts jobs by status and type, queue depths and the last hour', async () => {
      const project = await stack.createProject();
      const before = (await stack.api.get('/admin/v1/stats', admin())).body;
      await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'counted' } });
      await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'counted and forbidden' } });
      const res = await stack.api.get('/admin/v1/stats', admin());
      expect(res.status).toBe(200);
      const stats = res.body;
      expect(nonSnakeKeys({ ...stats, jobs_by_type: {}, jobs_by_type_and_status: {} })).toEqual([]);
      expect(stats.jobs_by_status.succeeded).toBeGreaterThanOrEqual((before.jobs_by_status.succeeded ?? 0) + 1);
      expect(stats.jobs_by_status.failed).toBeGreaterThanOrEqual((before.jobs_by_status.failed ?? 0) + 1);
      expect(stats.jobs_by_type['image.generate']).toBeGreaterThanOrEqual((before.jobs_by_type['image.generate'] ?? 0) + 2);
      expect(Object.keys(stats.queues).sort()).toEqual(['audio', 'embedding', 'image', 'mj', 'video']);
      expect(stats.queues.image).toEqual(expect.objectContaining({ waiting: expect.any(Number), active: expect.any(Number), delayed: expect.any(Number) }));
      expect(stats.last_hour.finished).toBeGreaterThanOrEqual(2);
      expect(stats.last_hour.throughput_per_min).toBeGreaterThan(0);
      expect(stats.last_hour.failure_rate).toBeGreaterThan(0);
      expect(stats.last_hour.failure_rate).toBeLessThanOrEqual(1);
    });
  });

  describe('GET /admin/v1/upstream', () => {
    it('shows the gateway’s balance and models in snake_case, then from its cache', async () => {
      const res = await stack.api.get('/admin/v1/upstream', admin());
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ object: 'upstream', base_url: stack.simulatorUrl, balance_error: null, models_error: null, cached: false });
      expect(res.body.fetched_at).toMatch(ISO_TIME);
      expect(res.body.balance).toEqual(expect.objectContaining({ source: expect.any(String) }));
      expect(typeof res.body.balance.total_available === 'number' || typeof res.body.balance.usd?.remaining === 'number').toBe(true);
      expect(res.body.models.length).toBeGreaterThan(0);
      expect(res.body.models.map((m: any) => m.id)).toContain('gpt-image-1');
      expect(nonSnakeKeys(res.body)).toEqual([]);
      const again = await stack.api.get('/admin/v1/upstream', admin());
      expect(again.body).toMatchObject({ cached: true, fetched_at: res.body.fetched_at });
    });
  });
});
