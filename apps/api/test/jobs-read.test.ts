import type { Project, TestStack } from '@genqueue/testing';
import { expectError, FINAL_STATUSES, ISO_TIME, JOB_ID, nonSnakeKeys, readSse, sseEvents, unsigned, useStack } from './helpers';

/** GET /v1/jobs/{id} (with ?wait), GET /v1/jobs (filters, cursor pagination), GET /v1/jobs/{id}/events. */
describe('reading jobs', () => {
  let stack: TestStack;
  useStack((started) => {
    stack = started;
  });

  /** The next image generation answers after about `seconds` real seconds (simulated time runs 60× faster). */
  async function slowNextImage(seconds: number): Promise<void> {
    const res = await stack.sim.post('/_sim/faults', { body: { route: 'images.generations', kind: 'slow', times: 1, delay_ms: seconds * 60_000 } });
    expect(res.status).toBeLessThan(300);
  }

  async function submit(key: string, body: unknown): Promise<any> {
    const res = await stack.api.post('/v1/jobs', { key, body });
    if (res.status !== 202) throw new Error(`submit: ${res.status} ${res.text}`);
    return res.body;
  }

  describe('GET /v1/jobs/{id}', () => {
    it('shows a succeeded job with its output and signed artifact links', async () => {
      const project = await stack.createProject();
      const job = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'a blue whale' }, metadata: { order: 'X-1' } });
      expect(job).toMatchObject({ object: 'job', status: 'succeeded', progress: 100, attempts: 1, error: null, metadata: { order: 'X-1' } });
      expect(job.id).toMatch(JOB_ID);
      for (const field of ['created_at', 'started_at', 'finished_at']) expect(job[field]).toMatch(ISO_TIME);
      expect(Date.parse(job.created_at)).toBeLessThanOrEqual(Date.parse(job.started_at));
      expect(Date.parse(job.started_at)).toBeLessThanOrEqual(Date.parse(job.finished_at));
      expect(job.artifacts).toEqual([
        {
          id: expect.stringMatching(/^art_[0-9A-Z]{26}$/),
          object: 'artifact',
          kind: 'image',
          content_type: 'image/png',
          bytes: expect.any(Number),
          sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
          url: expect.stringMatching(/\/v1\/artifacts\/art_[0-9A-Z]{26}\/content\?expires=\d+&sig=[\w-]+$/),
        },
      ]);
      expect(job.artifacts[0].url).toContain(`/v1/artifacts/${job.artifacts[0].id}/content`);
      const expires = Number(new URL(job.artifacts[0].url).searchParams.get('expires'));
      expect(expires * 1000 - Date.now()).toBeGreaterThan(23 * 3600_000);
      expect(expires * 1000 - Date.now()).toBeLessThanOrEqual(24 * 3600_000 + 5_000);
      expect(job.output.images[0].artifact_id).toBe(job.artifacts[0].id);
      expect(nonSnakeKeys({ ...job, input: {}, metadata: {} })).toEqual([]);
    });

    it('shows a job the upstream refused as failed with a non-retryable error', async () => {
      const project = await stack.createProject();
      const job = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'something forbidden' } });
      expect(job).toMatchObject({ status: 'failed', output: null, artifacts: [] });
      expect(job.error).toEqual({ code: 'upstream_rejected', message: expect.any(String), retryable: false });
      expect(job.finished_at).toMatch(ISO_TIME);
    });

    it('holds ?wait=N until the job is final, or answers the job as it is after N seconds', async () => {
      const project = await stack.createProject();
      await slowNextImage(4);
      const job = await submit(project.key, { type: 'image.generate', input: { prompt: 'a slow sunrise' } });

      let started = Date.now();
      const early = await stack.api.get(`/v1/jobs/${job.id}?wait=1`, { key: project.key });
      const earlyMs = Date.now() - started;
      expect(early.status).toBe(200);
      expect(FINAL_STATUSES).not.toContain(early.body.status);
      expect(earlyMs).toBeGreaterThanOrEqual(950);
      expect(earlyMs).toBeLessThan(5_000);

      started = Date.now();
      const final = await stack.api.get(`/v1/jobs/${job.id}?wait=30`, { key: project.key });
      expect(final.body.status).toBe('succeeded');
      expect(Date.now() - started).toBeLessThan(15_000);

      // A final job is answered at once.
      started = Date.now();
      const again = await stack.api.get(`/v1/jobs/${job.id}?wait=30`, { key: project.key });
      expect(again.body.status).toBe('succeeded');
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it.each(['61', '-1', 'abc', '1.5'])('rejects ?wait=%s with 400', async (wait) => {
      const project = await stack.createProject();
      const job = await submit(project.key, { type: 'image.generate', input: { prompt: 'x' } });
      const res = await stack.api.get(`/v1/jobs/${job.id}?wait=${wait}`, { key: project.key });
      expect(expectError(res, 400, 'invalid_request').details.map((d) => d.path)).toEqual(['wait']);
    });

    it.each([
      ['an unknown id', 'job_00000000000000000000000000'],
      ['a malformed id', 'not-a-job'],
      ['an id of another kind', 'file_00000000000000000000000000'],
    ])('answers 404 for %s', async (_name, id) => {
      const project = await stack.createProject();
      expectError(await stack.api.get(`/v1/jobs/${id}`, { key: project.key }), 404, 'not_found');
      expectError(await stack.api.get(`/v1/jobs/${id}?wait=5`, { key: project.key }), 404, 'not_found');
    });

    it('shows any project’s job to the admin key, and none to another project', async () => {
      const owner = await stack.createProject();
      const other = await stack.createProject();
      const job = await submit(owner.key, { type: 'image.generate', input: { prompt: 'x' } });
      const asAdmin = await stack.api.get(`/v1/jobs/${job.id}`, { key: stack.adminKey });
      expect(asAdmin.status).toBe(200);
      expect(asAdmin.body.id).toBe(job.id);
      expectError(await stack.api.get(`/v1/jobs/${job.id}`, { key: other.key }), 404, 'not_found');
      expectError(await stack.api.get(`/v1/jobs/${job.id}?project_id=${other.id}`, { key: stack.adminKey }), 404, 'not_found');
      const listed = await stack.api.get(`/v1/jobs?project_id=${owner.id}`, { key: stack.adminKey });
      expect(listed.body.data.map((j: any) => j.id)).toEqual([job.id]);
      const everywhere = await stack.api.get('/v1/jobs?limit=100', { key: stack.adminKey });
      expect(everywhere.status).toBe(200);
      expect(everywhere.body.data.length).toBeGreaterThan(0);
    });
  });

  describe('GET /v1/jobs', () => {
    let project: Project;
    /** oldest first, as submitted */
    let jobs: any[];

    beforeAll(async () => {
      project = await stack.createProject();
      const bodies = [
        { type: 'image.generate', input: { prompt: 'list one' }, metadata: { order: 'A-1', batch: 'x' } },
        { type: 'image.generate', input: { prompt: 'list two is forbidden' }, metadata: { order: 'A-2', batch: 'x' } },
        { type: 'image.gemini', input: { prompt: 'list three' }, metadata: { order: 'A-3' } },
        { type: 'image.generate', input: { prompt: 'list four' }, metadata: { order: 'A-4', batch: 'y' } },
        { type: 'image.generate', input: { prompt: 'list five' } },
      ];
      const submitted = [];
      for (const body of bodies) submitted.push(await submit(project.key, body));
      jobs = await Promise.all(submitted.map((job) => stack.waitFinal(project.key, job.id)));
    }, 120_000);

    const ids = (list: any[]) => list.map((j) => j.id);
    const newestFirst = (list: any[]) => ids([...list].reverse());
    const list = async (query: string, key = project.key) => {
      const res = await stack.api.get(`/v1/jobs${query}`, { key });
      if (res.status !== 200) throw new Error(`list ${query}: ${res.status} ${res.text}`);
      return res.body;
    };

    it('lists the project’s jobs newest first', async () => {
      expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'failed', 'succeeded', 'succeeded', 'succeeded']);
      const page = await list('');
      expect(ids(page.data)).toEqual(newestFirst(jobs));
      expect(page.next_cursor).toBeNull();
      expect(unsigned(page.data[0])).toEqual(unsigned(jobs[4]));
    });

    it('pages with limit and cursor without gaps or repeats', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      const sizes: number[] = [];
      do {
        const page: any = await list(`?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        sizes.push(page.data.length);
        seen.push(...ids(page.data));
        cursor = page.next_cursor;
      } while (cursor);
      expect(sizes).toEqual([2, 2, 1]);
      expect(seen).toEqual(newestFirst(jobs));
      const exact = await list('?limit=5');
      expect(exact.data).toHaveLength(5);
      expect(exact.next_cursor).toBeNull();
    });

    it('filters by type and status', async () => {
      expect(ids((await list('?type=image.gemini')).data)).toEqual([jobs[2].id]);
      expect(ids((await list('?status=failed')).data)).toEqual([jobs[1].id]);
      expect(ids((await list('?status=succeeded&type=image.generate')).data)).toEqual(newestFirst([jobs[0], jobs[3], jobs[4]]));
      expect((await list('?status=queued')).data).toEqual([]);
      expect((await list('?type=video.generate')).data).toEqual([]);
    });

    it('filters by metadata[KEY]=VALUE, all of them at once', async () => {
      expect(ids((await list('?metadata[batch]=x')).data)).toEqual(newestFirst([jobs[0], jobs[1]]));
      expect(ids((await list(`?${encodeURIComponent('metadata[batch]')}=x&${encodeURIComponent('metadata[order]')}=A-1`)).data)).toEqual([jobs[0].id]);
      expect((await list('?metadata[order]=nope')).data).toEqual([]);
      expect((await list('?metadata[batch]=x&status=succeeded')).data.map((j: any) => j.id)).toEqual([jobs[0].id]);
    });

    it('filters by creation time', async () => {
      const pivot = jobs[2].created_at as string;
      const after = jobs.filter((j) => Date.parse(j.created_at) > Date.parse(pivot));
      const before = jobs.filter((j) => Date.parse(j.created_at) < Date.parse(pivot));
      expect(after.length + before.length).toBeGreaterThanOrEqual(3);
      expect(ids((await list(`?created_after=${encodeURIComponent(pivot)}`)).data)).toEqual(newestFirst(after));
      expect(ids((await list(`?created_before=${encodeURIComponent(pivot)}`)).data)).toEqual(newestFirst(before));
      const window = `?created_after=${encodeURIComponent(jobs[0].created_at)}&created_before=${encodeURIComponent(jobs[4].created_at)}&limit=1`;
      const inside = jobs.filter((j) => Date.parse(j.created_at) > Date.parse(jobs[0].created_at) && Date.parse(j.created_at) < Date.parse(jobs[4].created_at));
      const seen: string[] = [];
      let query = window;
      for (;;) {
        const page = await list(query);
        seen.push(...ids(page.data));
        if (!page.next_cursor) break;
        query = `${window}&cursor=${encodeURIComponent(page.next_cursor)}`;
      }
      expect(seen).toEqual(newestFirst(inside));
    });

    it('never lists another project’s jobs', async () => {
      const other = await stack.createProject();
      expect((await list('', other.key)).data).toEqual([]);
      expect((await list(`?project_id=${project.id}`, other.key)).data).toEqual([]);
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=ten', 'limit'],
      ['status=done', 'status'],
      ['created_after=yesterday', 'created_after'],
      ['created_before=2026-13-01', 'created_before'],
      ['cursor=garbage', 'cursor'],
      [`cursor=${Buffer.from('2026-01-01T00:00:00.000Z|x').toString('base64url')}`, 'cursor'],
      ['metadata[a]=1&metadata[a]=2', 'metadata[a]'],
    ])('rejects ?%s with 400 naming %s', async (query, path) => {
      const res = await stack.api.get(`/v1/jobs?${query}`, { key: project.key });
      expect(expectError(res, 400, 'invalid_request').details.map((d) => d.path)).toContain(path);
    });

    it('accepts limit=100', async () => {
      expect((await list('?limit=100')).data).toHaveLength(5);
    });
  });

  describe('GET /v1/jobs/{id}/events', () => {
    it('answers the whole log as JSON with Accept: application/json', async () => {
      const project = await stack.createProject();
      const job = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'events as json' } });
      const res = await stack.api.get(`/v1/jobs/${job.id}/events`, { key: project.key, headers: { accept: 'application/json' } });
      expect(res.status).toBe(200);
      const events = res.body.data as any[];
      expect(events.map((e) => [e.seq, e.type, e.data.status])).toEqual([
        [1, 'job.created', 'queued'],
        [2, 'job.started', 'running'],
        [3, 'job.succeeded', 'succeeded'],
      ]);
      for (const event of events) {
        expect(event).toEqual({
          id: expect.stringMatching(/^evt_[0-9A-Z]{26}$/),
          object: 'event',
          type: expect.any(String),
          job_id: job.id,
          seq: expect.any(Number),
          created_at: expect.stringMatching(ISO_TIME),
          data: expect.objectContaining({ id: job.id, object: 'job' }),
        });
      }
      const last = events[2].data;
      expect(last.output).toEqual(job.output);
      expect(last.artifacts.map((a: any) => a.id)).toEqual(job.artifacts.map((a: any) => a.id));
      expect(last.artifacts[0].url).toContain('sig=');
    });

    it('streams the log as text/event-stream and closes after the final event', async () => {
      const project = await stack.createProject();
      const job = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'events as sse' } });
      const stream = await readSse(`${stack.apiUrl}/v1/jobs/${job.id}/events`, { key: project.key, timeoutMs: 10_000 });
      expect(stream.status).toBe(200);
      expect(stream.contentType).toMatch(/^text\/event-stream/);
      expect(stream.closedByServer).toBe(true);
      const events = sseEvents(stream);
      expect(events.map((e) => [e.id, e.event])).toEqual([
        ['1', 'job.created'],
        ['2', 'job.started'],
        ['3', 'job.succeeded'],
      ]);
      const json = await stack.api.get(`/v1/jobs/${job.id}/events`, { key: project.key, headers: { accept: 'application/json' } });
      expect(events.map((e) => e.data.id)).toEqual(json.body.data.map((e: any) => e.id));
      expect(events[2]?.data).toMatchObject({ object: 'event', type: 'job.succeeded', job_id: job.id, seq: 3, data: { status: 'succeeded' } });
    });

    it('resumes after Last-Event-ID', async () => {
      const project = await stack.createProject();
      const job = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'resume' } });
      const url = `${stack.apiUrl}/v1/jobs/${job.id}/events`;
      const rest = await readSse(url, { key: project.key, headers: { 'last-event-id': '1' }, timeoutMs: 10_000 });
      expect(sseEvents(rest).map((e) => e.id)).toEqual(['2', '3']);
      expect(rest.closedByServer).toBe(true);
      const none = await readSse(url, { key: project.key, headers: { 'last-event-id': '3' }, timeoutMs: 10_000 });
      expect(none.status).toBe(200);
      expect(sseEvents(none)).toEqual([]);
      expect(none.closedByServer).toBe(true);
      const bad = await stack.api.get(`/v1/jobs/${job.id}/events`, { key: project.key, headers: { 'last-event-id': 'abc', accept: 'text/event-stream' } });
      expect(expectError(bad, 400, 'invalid_request').details.map((d) => d.path)).toEqual(['Last-Event-ID']);
    });

    it('delivers live events of a running job and closes once it is final', async () => {
      const project = await stack.createProject();
      await slowNextImage(2);
      const job = await submit(project.key, { type: 'image.generate', input: { prompt: 'live events' } });
      const stream = await readSse(`${stack.apiUrl}/v1/jobs/${job.id}/events`, { key: project.key, timeoutMs: 20_000 });
      expect(stream.closedByServer).toBe(true);
      const events = sseEvents(stream);
      expect(events.map((e) => e.event)).toEqual(['job.created', 'job.started', 'job.succeeded']);
      expect(events.map((e) => Number(e.id))).toEqual([1, 2, 3]);
    });

    it('answers 404 as JSON for a job the key cannot see', async () => {
      const project = await stack.createProject();
      const other = await stack.createProject();
      const job = await submit(project.key, { type: 'image.generate', input: { prompt: 'x' } });
      const res = await stack.api.get(`/v1/jobs/${job.id}/events`, { key: other.key, headers: { accept: 'text/event-stream' } });
      expectError(res, 404, 'not_found');
      expectError(await stack.api.get('/v1/jobs/job_00000000000000000000000000/events', { key: project.key }), 404, 'not_found');
    });
  });
});
