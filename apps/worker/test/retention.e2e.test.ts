import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { TestStack, type Project } from '@genqueue/testing';
import { pollUntil } from './helpers';
import { Receiver } from './webhooks-helpers';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Retention end to end: real jobs (events, artifacts with their files, webhook deliveries and their
 * attempts) plus attempt-log rows, chunk files and detached artifacts are aged by moving their
 * timestamps back; the worker's own retention timer then prunes what is past each project's
 * retention, in batches, while new jobs keep running through the same stack.
 */
describe('retention', () => {
  let stack: TestStack;
  let sql: Client;
  let receiver: Receiver;
  let storageDir: string;

  beforeAll(async () => {
    receiver = await Receiver.start();
    stack = await TestStack.start({
      // small batches and a pause, so the prune takes several batches beside the new jobs
      env: { RETENTION_INTERVAL_MS: '1000', RETENTION_BATCH_SIZE: '3', RETENTION_BATCH_PAUSE_MS: '100' },
    });
    storageDir = String(stack.env['STORAGE_DIR']);
    sql = new Client({ connectionString: stack.databaseUrl });
    await sql.connect();
  }, 120_000);

  afterAll(async () => {
    await sql?.end();
    await stack?.stop();
    await receiver?.close();
  });

  const count = async (query: string, params: unknown[]): Promise<number> => Number((await sql.query(query, params)).rows[0].n);
  const fileOf = (key: string) => path.join(storageDir, key);

  /** A stored file and its artifact row with no job (what a retry lets go of), created `daysAgo`. */
  async function detachedArtifact(project: Project, daysAgo: number): Promise<{ id: string; key: string }> {
    const id = `art_test${randomBytes(8).toString('hex')}`;
    const key = `artifacts/${project.id}/${id}.png`;
    mkdirSync(path.dirname(fileOf(key)), { recursive: true });
    writeFileSync(fileOf(key), randomBytes(100));
    await sql.query(
      `INSERT INTO artifacts (id, project_id, job_id, kind, content_type, bytes, sha256, storage_key, created_at)
       VALUES ($1, $2, NULL, 'image', 'image/png', 100, $3, $4, now() - make_interval(days => $5))`,
      [id, project.id, 'x'.repeat(64), key, daysAgo],
    );
    return { id, key };
  }

  /** An embedding-chunk row with a result file, as a canceled or failed batch leaves them. */
  async function chunkFile(jobId: string): Promise<string> {
    const key = `chunks/${jobId}/0.jsonl`;
    mkdirSync(path.dirname(fileOf(key)), { recursive: true });
    writeFileSync(fileOf(key), '{"index":0,"embedding":[0.1]}\n');
    await sql.query(
      `INSERT INTO embedding_chunks (id, job_id, index, first_input, input_count, status, result_key) VALUES ($1, $2, 0, 0, 1, 'canceled', $3)`,
      [`${jobId}:0`, jobId, key],
    );
    return key;
  }

  async function detailsOf(jobIds: string[]) {
    return {
      events: await count('SELECT count(*) AS n FROM job_events WHERE job_id = ANY($1)', [jobIds]),
      attempts: await count('SELECT count(*) AS n FROM job_attempts WHERE job_id = ANY($1)', [jobIds]),
      deliveries: await count('SELECT count(*) AS n FROM webhook_deliveries WHERE job_id = ANY($1)', [jobIds]),
      deliveryAttempts: await count(
        'SELECT count(*) AS n FROM webhook_attempts wa JOIN webhook_deliveries d ON d.id = wa.delivery_id WHERE d.job_id = ANY($1)',
        [jobIds],
      ),
      artifacts: await count('SELECT count(*) AS n FROM artifacts WHERE job_id = ANY($1)', [jobIds]),
      chunks: await count('SELECT count(*) AS n FROM embedding_chunks WHERE job_id = ANY($1)', [jobIds]),
    };
  }

  it('removes details and files past each project retention in batches while new jobs run; old jobs stay as summaries', async () => {
    const plain = await stack.createProject(); // the default: 30 days
    const keepsLong = await stack.createProject({ retention_days: 60 });
    const keepsShort = await stack.createProject({ retention_days: 7 });
    const hook = receiver.target('/hook');
    const image = (project: Project, label: string, webhookUrl?: string) =>
      stack.runJob(project.key, {
        type: 'image.generate',
        input: { prompt: `retention ${label}`, model: 'gpt-image-1' },
        ...(webhookUrl ? { webhook_url: webhookUrl } : {}),
      });

    // the history, made by real runs: events, artifacts and files, webhook deliveries with attempts
    const old = await Promise.all(range(9).map((i) => image(plain, `old ${i}`, i < 3 ? hook : undefined)));
    const recentPlain = await Promise.all(range(2).map((i) => image(plain, `recent ${i}`, i === 0 ? hook : undefined)));
    const oldKept = await Promise.all(range(2).map((i) => image(keepsLong, `kept ${i}`)));
    const shortAged = await Promise.all(range(3).map((i) => image(keepsShort, `short ${i}`)));
    for (const job of [...old, ...recentPlain, ...oldKept, ...shortAged]) expect(job.status).toBe('succeeded');
    const hooked = [...old.slice(0, 3), recentPlain[0]].map((j) => j.id);
    await pollUntil('the webhook deliveries of the history', async () =>
      // job.started and job.succeeded for each
      (await count(`SELECT count(*) AS n FROM webhook_deliveries WHERE job_id = ANY($1) AND status = 'succeeded'`, [hooked])) >= 2 * hooked.length ? true : undefined,
    );

    const prunedIds = [...old, ...shortAged].map((j) => j.id);
    const keptIds = [...recentPlain, ...oldKept].map((j) => j.id);
    // what the image runs do not write: attempt-log rows, chunk files of an unfinished batch
    for (const id of [...prunedIds, ...keptIds]) {
      await sql.query(
        `INSERT INTO job_attempts (id, job_id, attempt, outcome, error) VALUES ($1, $2, 1, 'retried', '{"code":"upstream_error","message":"x","retryable":true}')`,
        [`jat_test${randomBytes(8).toString('hex')}`, id],
      );
    }
    const prunedChunkKey = await chunkFile(old[0].id);
    const keptChunkKey = await chunkFile(recentPlain[0].id);
    const oldDetached = await detachedArtifact(plain, 40);
    const recentDetached = await detachedArtifact(plain, 3);
    const filesOf = async (ids: string[]) => (await sql.query('SELECT storage_key FROM artifacts WHERE job_id = ANY($1)', [ids])).rows.map((r) => String(r.storage_key));
    const prunedFiles = [...(await filesOf(prunedIds)), prunedChunkKey, oldDetached.key];
    const keptFiles = [...(await filesOf(keptIds)), keptChunkKey, recentDetached.key];
    for (const key of [...prunedFiles, ...keptFiles]) expect(existsSync(fileOf(key))).toBe(true);
    const keptBefore = await detailsOf(keptIds);
    const prunedBefore = await detailsOf(prunedIds);
    expect(prunedBefore).toMatchObject({ deliveries: 6, artifacts: prunedIds.length, chunks: 1, attempts: prunedIds.length });
    expect(prunedBefore.events).toBeGreaterThan(prunedIds.length);
    expect(prunedBefore.deliveryAttempts).toBeGreaterThanOrEqual(6);
    const outputsBefore = new Map((await sql.query('SELECT id, output FROM jobs WHERE id = ANY($1)', [prunedIds])).rows.map((r) => [r.id, r.output]));

    // new jobs keep flowing (two clients, one job after another) until the prune is over; then the
    // history ages at once (one transaction): 40 and 10 days
    let pruneOver = false;
    const traffic = range(2).map(async (client) => {
      const done: any[] = [];
      for (let i = 0; !pruneOver || done.length < 2; i += 1) done.push(await image(plain, `new ${client}.${i}`));
      return done;
    });
    await sql.query('BEGIN');
    const age = (ids: string[], days: number) =>
      sql.query(
        `UPDATE jobs SET created_at = created_at - make_interval(days => $2), started_at = started_at - make_interval(days => $2),
                         finished_at = finished_at - make_interval(days => $2)
          WHERE id = ANY($1)`,
        [ids, days],
      );
    await age([...old, ...oldKept].map((j) => j.id), 40);
    await age([...recentPlain, ...shortAged].map((j) => j.id), 10);
    // one of the old ones failed (a retry of it must be refused once pruned)
    await sql.query(`UPDATE jobs SET status = 'failed', error = '{"code":"upstream_error","message":"x","retryable":true}' WHERE id = $1`, [old[8].id]);
    await sql.query('COMMIT');

    await stack.worker!.waitForLine('retention.pruned', 30_000);
    await pollUntil(
      'the aged history pruned',
      async () => ((await count('SELECT count(*) AS n FROM jobs WHERE id = ANY($1) AND pruned_at IS NULL', [prunedIds])) === 0 ? true : undefined),
      60_000,
    );
    await pollUntil('the detached artifact removed', async () => ((await count('SELECT count(*) AS n FROM artifacts WHERE id = $1', [oldDetached.id])) === 0 ? true : undefined));
    // the job rows are marked first, their bytes go right after within the same run
    await pollUntil('the pruned jobs’ artifacts removed', async () => {
      const left = await detailsOf(prunedIds);
      return left.artifacts + left.chunks === 0 ? left : undefined;
    });

    // new jobs ran while the prune did, untouched by it
    pruneOver = true;
    const fresh = (await Promise.all(traffic)).flat();
    for (const job of fresh) {
      expect(job.status).toBe('succeeded');
      expect(job.artifacts).toHaveLength(1);
      const bytes = await fetch(job.artifacts[0].url);
      expect(bytes.status).toBe(200);
    }
    const freshIds = fresh.map((j) => j.id);
    expect(await count('SELECT count(*) AS n FROM jobs WHERE id = ANY($1) AND pruned_at IS NOT NULL', [freshIds])).toBe(0);
    // and some of them were in flight while the batches ran (submitted before the last, finished after the first)
    const overlapping = await count(
      `SELECT count(*) AS n FROM jobs j, (SELECT min(pruned_at) AS first, max(pruned_at) AS last FROM jobs WHERE id = ANY($2)) p
        WHERE j.id = ANY($1) AND j.created_at <= p.last AND j.finished_at >= p.first`,
      [freshIds, prunedIds],
    );
    expect(overlapping).toBeGreaterThan(0);

    // pruned: no details, no files; several batches (each batch stamps its own time)
    expect(await detailsOf(prunedIds)).toEqual({ events: 0, attempts: 0, deliveries: 0, deliveryAttempts: 0, artifacts: 0, chunks: 0 });
    for (const key of prunedFiles) expect(existsSync(fileOf(key))).toBe(false);
    const batches = await count('SELECT count(DISTINCT pruned_at) AS n FROM jobs WHERE id = ANY($1)', [prunedIds]);
    expect(batches).toBeGreaterThanOrEqual(Math.ceil(prunedIds.length / 3));
    // the rows stay as summaries: status, times and the (small) output as they were
    const rows = (await sql.query('SELECT id, status, output, finished_at FROM jobs WHERE id = ANY($1)', [prunedIds])).rows;
    expect(rows).toHaveLength(prunedIds.length);
    for (const row of rows) {
      expect(row.status).toBe(row.id === old[8].id ? 'failed' : 'succeeded');
      expect(row.output).toEqual(outputsBefore.get(row.id));
      expect(row.finished_at).not.toBeNull();
    }

    // kept: recent for their project (10 days of 30) or a project keeping 60 days; files and rows as they were
    expect(await detailsOf(keptIds)).toEqual(keptBefore);
    for (const key of keptFiles) expect(existsSync(fileOf(key))).toBe(true);
    expect(await count('SELECT count(*) AS n FROM jobs WHERE id = ANY($1) AND pruned_at IS NOT NULL', [keptIds])).toBe(0);
    expect(await count('SELECT count(*) AS n FROM artifacts WHERE id = $1', [recentDetached.id])).toBe(1);

    // a pruned job still reads: marked pruned, no artifacts, an empty event log; its old link is gone
    const pruned = await stack.api.get(`/v1/jobs/${old[0].id}`, { key: plain.key });
    expect(pruned.status).toBe(200);
    expect(pruned.body).toMatchObject({ id: old[0].id, status: 'succeeded', artifacts: [], pruned_at: expect.any(String) });
    expect(pruned.body.output).toEqual(old[0].output);
    const events = await stack.api.get(`/v1/jobs/${old[0].id}/events`, { key: plain.key, headers: { accept: 'application/json' } });
    expect(events.status).toBe(200);
    expect(events.body.data).toEqual([]);
    expect((await fetch(old[0].artifacts[0].url)).status).toBe(404);
    const retried = await stack.api.post(`/v1/jobs/${old[8].id}/retry`, { key: plain.key });
    expect(retried.status).toBe(409);
    expect(retried.body.error.message).toMatch(/pruned/);
    const kept = await stack.api.get(`/v1/jobs/${oldKept[0].id}`, { key: keepsLong.key });
    expect(kept.body).toMatchObject({ pruned_at: null, artifacts: [expect.objectContaining({ id: oldKept[0].artifacts[0].id })] });
  }, 180_000);
});
