import { Client } from 'pg';
import { encodeWav } from '@genqueue/simulator';
import type { Project } from '@genqueue/testing';
import { artifactBytes, counterDelta, crashWorker, jobEvents, pollUntil, routeCounter, sha256, submit, useStack, type StackFixture } from './helpers';
import { TERMINAL_EVENTS } from './tasks-helpers';

/**
 * Issue 10, item 3: a job whose gateway answer was received and stored finishes from it when its
 * final write fails or its worker dies after the store, without calling the gateway again.
 */

/** Test-only SQL: the first `refused` writes that make a running job of `type` succeed fail (a sequence counts them: it is not rolled back). */
function refuseFinalWritesSql(type: string, refused: number): string[] {
  const tag = type.replace(/\W/g, '_');
  return [
    `CREATE SEQUENCE test_refused_final_${tag}`,
    `CREATE FUNCTION test_refuse_final_${tag}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status = 'succeeded' AND OLD.status = 'running' AND NEW.type = '${type}' THEN
          IF nextval('test_refused_final_${tag}') <= ${refused} THEN
            RAISE EXCEPTION 'injected failure: final write refused';
          END IF;
        END IF;
        RETURN NEW;
      END $$`,
    `CREATE TRIGGER test_refuse_final_${tag} BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION test_refuse_final_${tag}()`,
  ];
}

const dropRefusalSql = (type: string): string[] => {
  const tag = type.replace(/\W/g, '_');
  return [`DROP TRIGGER test_refuse_final_${tag} ON jobs`, `DROP FUNCTION test_refuse_final_${tag}()`, `DROP SEQUENCE test_refused_final_${tag}`];
};

/** The success write of any job waits for an advisory lock the test holds: the worker can be killed in it. */
const HOLD_LOCK = 10_003;
const HOLD_FINAL_WRITES_SQL = [
  `CREATE FUNCTION test_hold_final() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.status = 'succeeded' AND OLD.status = 'running' THEN PERFORM pg_advisory_xact_lock(${HOLD_LOCK}); END IF;
      RETURN NEW;
    END $$`,
  `CREATE TRIGGER test_hold_final BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION test_hold_final()`,
];

describe('results received are results kept', () => {
  let fx: StackFixture;
  let sql: Client;
  let fileId: string;
  let sourceArtifactId: string;

  useStack((ready) => (fx = ready), { env: { WORKER_LOCK_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000' } });

  beforeAll(async () => {
    sql = new Client({ connectionString: fx.stack.databaseUrl });
    // the stack drops its database WITH (FORCE) when it stops: that ends this connection
    sql.on('error', () => undefined);
    await sql.connect();
    const form = new FormData();
    form.append('purpose', 'audio');
    const samples = new Int16Array(16_000 * 8).map((_, i) => (i % 100) * 20);
    form.append('file', new Blob([new Uint8Array(encodeWav(samples, 16_000))], { type: 'audio/wav' }), 'kept.wav');
    const uploaded = await fx.stack.api.post('/v1/files', { key: fx.project.key, rawBody: form });
    if (uploaded.status !== 201) throw new Error(`upload: ${uploaded.status} ${uploaded.text}`);
    fileId = uploaded.body.id;
    const source = await fx.stack.runJob(fx.project.key, { type: 'image.generate', input: { prompt: 'kept: an edit source' } });
    sourceArtifactId = source.artifacts[0].id;
  }, 120_000);

  afterAll(async () => {
    await sql?.end();
  });

  async function run(project: Project, route: string, body: any): Promise<{ job: any; calls: number }> {
    const before = await routeCounter(fx.stack, route);
    const job = await fx.stack.runJob(project.key, body);
    return { job, calls: counterDelta(before, await routeCounter(fx.stack, route)).received };
  }

  /** Every artifact the output names is the job's and its bytes are stored whole. */
  async function expectArtifactsKept(job: any, expected: number): Promise<void> {
    expect(job.artifacts).toHaveLength(expected);
    const named = JSON.stringify(job.output).match(/art_[0-9A-Za-z]+/g) ?? [];
    expect(new Set(named)).toEqual(new Set(job.artifacts.map((a: any) => a.id)));
    for (const artifact of job.artifacts) expect(sha256(await artifactBytes(fx.stack, fx.project.key, artifact.id))).toBe(artifact.sha256);
  }

  async function expectOneFinalEvent(jobId: string): Promise<void> {
    const events = await jobEvents(fx.stack, fx.project.key, jobId);
    expect(events.filter((e) => TERMINAL_EVENTS.includes(e.type)).map((e) => e.type)).toEqual(['job.succeeded']);
  }

  const FAMILIES: Array<{ name: string; route: string; body: () => any; artifacts: number; check?: (job: any) => void }> = [
    { name: 'image.generate (n=2)', route: 'images.generations', body: () => ({ type: 'image.generate', input: { prompt: 'kept: two boats', n: 2 } }), artifacts: 2 },
    {
      name: 'image.edit',
      route: 'images.edits',
      body: () => ({ type: 'image.edit', input: { prompt: 'kept: paint it blue', images: [{ artifact_id: sourceArtifactId }] } }),
      artifacts: 1,
    },
    { name: 'image.gemini', route: 'gemini.generate', body: () => ({ type: 'image.gemini', input: { prompt: 'kept: a banana' } }), artifacts: 1 },
    {
      name: 'media.chat (a data: image)',
      route: 'chat.completions',
      body: () => ({ type: 'media.chat', input: { model: 'gemini-2.5-flash-image', messages: [{ role: 'user', content: 'kept: draw a kite' }] } }),
      artifacts: 1,
      check: (job) => expect(job.output.text).toContain(job.output.media[0].artifact_id),
    },
    {
      name: 'media.chat (text)',
      route: 'chat.completions',
      body: () => ({ type: 'media.chat', input: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'kept: say hello' }] } }),
      artifacts: 0,
      check: (job) => expect(job.output.text).toContain('kept: say hello'),
    },
    { name: 'audio.speech', route: 'audio.speech', body: () => ({ type: 'audio.speech', input: { input: 'kept speech', voice: 'alloy', response_format: 'wav' } }), artifacts: 1 },
    {
      name: 'audio.transcribe (srt)',
      route: 'audio.transcriptions',
      body: () => ({ type: 'audio.transcribe', input: { audio: { file_id: fileId }, response_format: 'srt' } }),
      artifacts: 1,
      check: (job) => expect(job.output.text.length).toBeGreaterThan(0),
    },
    {
      name: 'audio.gemini_speech',
      route: 'gemini.generate',
      body: () => ({ type: 'audio.gemini_speech', input: { text: 'Say: kept', voice: 'Kore' } }),
      artifacts: 1,
    },
  ];

  it.each(FAMILIES)('$name: a refused final write finishes from the stored result, one gateway call', async ({ route, body, artifacts, check }) => {
    const type: string = body().type;
    for (const statement of refuseFinalWritesSql(type, 1)) await sql.query(statement);
    try {
      const { job, calls } = await run(fx.project, route, body());
      expect(job.status).toBe('succeeded');
      expect(calls).toBe(1);
      // the first run's success write was refused: the job finished on its second run
      expect(job.attempts).toBe(2);
      const refused = await sql.query(`SELECT last_value, is_called FROM test_refused_final_${type.replace(/\W/g, '_')}`);
      expect(refused.rows[0]).toMatchObject({ is_called: true });
      expect(Number(refused.rows[0].last_value)).toBe(2);
      await expectArtifactsKept(job, artifacts);
      check?.(job);
      await expectOneFinalEvent(job.id);
      const row = await sql.query('SELECT received_output FROM jobs WHERE id = $1', [job.id]);
      expect(row.rows[0].received_output).toBeNull();
    } finally {
      for (const statement of dropRefusalSql(type)) await sql.query(statement);
    }
  });

  it('embedding.batch: a refused final write after the finaliser removed the chunk files keeps the batch', async () => {
    for (const statement of refuseFinalWritesSql('embedding.batch', 1)) await sql.query(statement);
    try {
      const inputs = Array.from({ length: 30 }, (_, i) => `kept embedding ${i}`);
      const { job, calls } = await run(fx.project, 'embeddings', { type: 'embedding.batch', input: { inputs, dimensions: 4, chunk_size: 10 } });
      expect(job.status).toBe('succeeded');
      expect(calls).toBe(3);
      expect(job.output).toMatchObject({ count: 30, succeeded: 30, failed: 0 });
      const refused = await sql.query('SELECT last_value FROM test_refused_final_embedding_batch');
      expect(Number(refused.rows[0].last_value)).toBe(2);
      await expectArtifactsKept(job, 1);
      const lines = (await artifactBytes(fx.stack, fx.project.key, job.output.result.artifact_id)).toString('utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(30);
      await expectOneFinalEvent(job.id);
    } finally {
      for (const statement of dropRefusalSql('embedding.batch')) await sql.query(statement);
    }
  });

  it('the worker SIGKILLed in the final write: a new worker finishes every job from its stored result, one gateway call each', async () => {
    const holder = new Client({ connectionString: fx.stack.databaseUrl });
    holder.on('error', () => undefined);
    await holder.connect();
    let held = true;
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [HOLD_LOCK]);
      for (const statement of HOLD_FINAL_WRITES_SQL) await sql.query(statement);
      const bodies = [
        { route: 'images.generations', body: { type: 'image.generate', input: { prompt: 'killed: a fox' } } },
        { route: 'chat.completions', body: { type: 'media.chat', input: { model: 'gpt-4o-image', messages: [{ role: 'user', content: 'killed: a harbor' }] } } },
        { route: 'audio.speech', body: { type: 'audio.speech', input: { input: 'killed speech', voice: 'alloy', response_format: 'wav' } } },
      ];
      const before = await Promise.all(bodies.map((b) => routeCounter(fx.stack, b.route)));
      const ids: string[] = [];
      for (const b of bodies) ids.push((await submit(fx.stack, fx.project.key, b.body)).id);

      // every job received and stored its answer, and its success write waits on the lock
      await pollUntil(
        'every job to keep its result and wait in its final write',
        async () => {
          const kept = await sql.query('SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1) AND received_output IS NOT NULL', [ids]);
          const waiting = await sql.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
          );
          return kept.rows[0].n === ids.length && waiting.rows[0].n >= 1 ? true : undefined;
        },
        60_000,
      );
      await crashWorker(fx.stack);
      await holder.query('SELECT pg_advisory_unlock($1)', [HOLD_LOCK]);
      held = false;
      await sql.query('DROP TRIGGER test_hold_final ON jobs');
      await sql.query('DROP FUNCTION test_hold_final()');
      await fx.stack.startWorker();

      for (const [i, id] of ids.entries()) {
        const job = await fx.stack.waitFinal(fx.project.key, id);
        expect(job.status).toBe('succeeded');
        await expectArtifactsKept(job, 1);
        await expectOneFinalEvent(id);
        expect(counterDelta(before[i]!, await routeCounter(fx.stack, bodies[i]!.route)).received).toBe(1);
      }
    } finally {
      if (held) await holder.query('SELECT pg_advisory_unlock_all()');
      await holder.end();
      await sql.query('DROP TRIGGER IF EXISTS test_hold_final ON jobs');
      await sql.query('DROP FUNCTION IF EXISTS test_hold_final()');
      if (!fx.stack.worker) await fx.stack.startWorker();
    }
  }, 120_000);
});
