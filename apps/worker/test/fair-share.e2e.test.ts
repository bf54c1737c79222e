import pg from 'pg';
import { TestStack, type Project } from '@genqueue/testing';
import { armFault, pollUntil, simulatedMs } from './helpers';

type Row = { id: string; project_id: string; created_at: Date; started_at: Date | null; status: string };

/**
 * Fair sharing of a lane with the real stack: two jobs at a time on the image lane, every gateway
 * call ~60 ms. FAIR_SHARING comes from the environment so the same test shows FIFO failing it.
 */
describe('fair sharing of a lane end to end', () => {
  let stack: TestStack;
  let db: pg.Client;

  beforeAll(async () => {
    stack = await TestStack.start({ env: { LANE_IMAGE_CONCURRENCY: '2', LANE_IMAGE_RPM: '100000', FAIR_SHARING: process.env['FAIR_SHARING'] ?? 'true' } });
    db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();
    await armFault(stack, { route: 'images.generations', kind: 'slow', times: -1, delay_ms: await simulatedMs(stack, 60) });
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  const busyProject = (limits: Record<string, number> = {}) => stack.createProject({ requests_per_minute: 100_000, jobs_per_minute: 1_000_000, ...limits });

  async function bulk(project: Project, count: number, name: string): Promise<string[]> {
    const jobs = Array.from({ length: count }, (_, i) => ({ type: 'image.generate', input: { prompt: `${name} ${i}` } }));
    const res = await stack.api.post('/v1/jobs/bulk', { key: project.key, body: { jobs } });
    if (res.status !== 202) throw new Error(`bulk: ${res.status} ${res.text}`);
    return (res.body.data as Array<{ id: string }>).map((job) => job.id);
  }

  async function rowsOf(...projects: Project[]): Promise<Row[]> {
    const { rows } = await db.query<Row>(
      'SELECT id, project_id, created_at, started_at, status FROM jobs WHERE project_id = ANY($1::text[]) ORDER BY started_at NULLS LAST, id',
      [projects.map((p) => p.id)],
    );
    return rows;
  }

  /** Cancels what is still queued and waits for the running ones: the next test starts on an idle lane. */
  async function drain(...projects: Project[]): Promise<void> {
    const queued = (await rowsOf(...projects)).filter((r) => r.status === 'queued').map((r) => r.id);
    for (let i = 0; i < queued.length; i += 1000) {
      const res = await stack.api.post('/admin/v1/jobs/bulk-cancel', { key: stack.adminKey, body: { ids: queued.slice(i, i + 1000) } });
      expect(res.status).toBe(202);
    }
    await pollUntil('the lane idle', async () => ((await rowsOf(...projects)).every((r) => !['queued', 'running'].includes(r.status)) ? true : undefined), 60_000, 200);
  }

  it('starts a trickling project’s jobs within a bounded wait while another project floods the lane', async () => {
    const flooder = await busyProject();
    const trickler = await busyProject();
    await bulk(flooder, 400, 'flood');
    await pollUntil('the flood running', async () => ((await rowsOf(flooder)).some((r) => r.started_at) ? true : undefined));
    const trickle: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const res = await stack.api.post('/v1/jobs', { key: trickler.key, body: { type: 'image.generate', input: { prompt: `trickle ${i}` } } });
      expect(res.status).toBe(202);
      trickle.push(res.body.id as string);
    }
    const trickledAt = Math.max(...(await rowsOf(trickler)).map((r) => r.created_at.getTime()));
    // 1:1 sharing: the k-th trickle job waits behind about k flood jobs, plus the running ones
    // (FIFO: behind every flood job still queued, ~390)
    const bound = 2 * trickle.length + 6;
    // until every trickle job started, or more flood jobs than the bound started after the last one was queued
    await pollUntil(
      'the trickle started or the flood past the bound',
      async () => {
        const rows = await rowsOf(flooder, trickler);
        const trickleStarted = rows.filter((r) => r.project_id === trickler.id && r.started_at).length;
        const floodSince = rows.filter((r) => r.project_id === flooder.id && r.started_at && r.started_at.getTime() > trickledAt).length;
        return trickleStarted === trickle.length || floodSince > bound + 4 ? true : undefined;
      },
      120_000,
      100,
    );

    const rows = await rowsOf(flooder, trickler);
    const floodStarts = rows.filter((r) => r.project_id === flooder.id && r.started_at).map((r) => r.started_at!.getTime());
    const trickleRows = trickle.map((id) => rows.find((r) => r.id === id)!);
    expect(trickleRows.filter((r) => !r.started_at).map((r) => r.id)).toEqual([]);
    // flood jobs that started while each trickle job waited (all of the flood was queued before it)
    const passedBy = trickleRows.map((job) => floodStarts.filter((t) => t > job.created_at.getTime() && t < job.started_at!.getTime()).length);
    expect(passedBy.filter((n) => n > bound)).toEqual([]);
    await drain(flooder, trickler);
  }, 180_000);

  it('shares the lane 3:1 between a project of weight 3 and one of weight 1 while both have work', async () => {
    const light = await busyProject();
    const heavy = await busyProject({ weight: 3 });
    // the light project's flood comes first: FIFO would run all of it before any heavy job
    await bulk(light, 60, 'light');
    const heavyIds = await bulk(heavy, 60, 'heavy');
    const heavyQueuedAt = Math.max(...(await rowsOf(heavy)).filter((r) => heavyIds.includes(r.id)).map((r) => r.created_at.getTime()));
    await pollUntil(
      '40 jobs started after both floods were queued',
      async () => ((await rowsOf(light, heavy)).filter((r) => r.started_at && r.started_at.getTime() > heavyQueuedAt).length >= 40 ? true : undefined),
      120_000,
      200,
    );
    const contended = (await rowsOf(light, heavy)).filter((r) => r.started_at && r.started_at.getTime() > heavyQueuedAt).slice(0, 40);
    const heavyStarts = contended.filter((r) => r.project_id === heavy.id).length;
    // 3:1 is 30 of 40 (FIFO: 0, the light flood was first)
    expect(heavyStarts).toBeGreaterThanOrEqual(26);
    expect(heavyStarts).toBeLessThanOrEqual(34);
    await drain(light, heavy);
  }, 180_000);
});
