import { Client } from 'pg';
import { expectedEmbedding } from '@genqueue/simulator';
import type { Project, TestStack } from '@genqueue/testing';
import { armFault, artifactBytes, clearFaults, counterDelta, getJob, pollUntil, routeCounter, submit, useStack } from './helpers';

const MODEL = 'text-embedding-3-small';
const DIMS = 8;

/** embedding.batch end to end: chunk jobs under the lane limits, partial failure, cancel, the assembled JSONL. */
describe('embedding.batch end to end', () => {
  let stack: TestStack;
  let project: Project;
  // FAIL_CHUNK chunks fail every time while the others succeed: a poison input, not an outage, so
  // the lane must not take their run of 500s for one
  useStack((started) => ({ stack, project } = started), { env: { GATEWAY_OUTAGE_THRESHOLD: '1000' } });

  async function sql<T>(text: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: stack.databaseUrl });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async function jsonl(artifactId: string): Promise<any[]> {
    const text = (await artifactBytes(stack, project.key, artifactId)).toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    return text.trimEnd().split('\n').map((line) => JSON.parse(line));
  }

  async function uploadBatch(lines: string[]): Promise<{ status: number; body: any }> {
    const form = new FormData();
    form.append('purpose', 'batch');
    form.append('file', new Blob([lines.join('\n') + '\n'], { type: 'application/jsonl' }), 'batch.jsonl');
    return stack.api.post('/v1/files', { key: project.key, rawBody: form });
  }

  const texts = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} input number ${i} ${'x'.repeat(i % 7)}`);

  it('inline inputs: every result line in input order with the simulator vector of its own text', async () => {
    const inputs = texts(230, 'inline');
    const before = await routeCounter(stack, 'embeddings');
    const job = await stack.runJob(project.key, { type: 'embedding.batch', input: { model: MODEL, inputs, dimensions: DIMS, chunk_size: 25 } });
    expect(job.status).toBe('succeeded');
    expect(job.progress).toBe(100);
    const tokens = inputs.reduce((sum, t) => sum + Math.ceil(t.length / 4), 0);
    expect(job.output).toEqual({
      count: 230,
      succeeded: 230,
      failed: 0,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
      result: { artifact_id: expect.stringMatching(/^art_/) },
    });
    // ten chunks (25 + … + 5), one request each
    expect(counterDelta(before, await routeCounter(stack, 'embeddings'))).toEqual({ received: 10, statuses: { '200': 10 } });
    const artifact = job.artifacts.find((a: any) => a.id === job.output.result.artifact_id);
    expect(artifact).toMatchObject({ kind: 'result', content_type: 'application/x-ndjson' });
    const lines = await jsonl(artifact.id);
    expect(lines).toHaveLength(230);
    lines.forEach((line, i) => expect(line).toEqual({ index: i, embedding: expectedEmbedding(MODEL, inputs[i]!, DIMS) }));
    const chunks = await sql<{ status: string; n: string }>('SELECT status, count(*)::text AS n FROM embedding_chunks WHERE job_id = $1 GROUP BY status', [job.id]);
    expect(chunks).toEqual([{ status: 'succeeded', n: '10' }]);
  });

  it('a JSONL file: custom_ids in file order, a 429 on the way only slows the lane', async () => {
    const inputs = texts(150, 'file');
    const upload = await uploadBatch(inputs.map((input, i) => JSON.stringify({ custom_id: `req-${i}`, input })));
    expect(upload.status).toBe(201);
    await armFault(stack, { route: 'embeddings', kind: 'rate_limit_empty', times: 2 });
    const before = await routeCounter(stack, 'embeddings');
    const job = await stack.runJob(project.key, { type: 'embedding.batch', input: { file_id: upload.body.id, dimensions: DIMS, chunk_size: 40 } });
    expect(job.status).toBe('succeeded');
    expect(job.output).toMatchObject({ count: 150, succeeded: 150, failed: 0 });
    expect(job.output).not.toHaveProperty('errors');
    expect(counterDelta(before, await routeCounter(stack, 'embeddings'))).toEqual({ received: 6, statuses: { '200': 4, '429': 2 } });
    const lines = await jsonl(job.output.result.artifact_id);
    expect(lines).toHaveLength(150);
    lines.forEach((line, i) => expect(line).toEqual({ custom_id: `req-${i}`, embedding: expectedEmbedding(MODEL, inputs[i]!, DIMS) }));
  });

  it('chunks that keep failing fail their own inputs only, listed in the errors artifact', async () => {
    const inputs = texts(60, 'partial');
    inputs[13] = 'this one says FAIL_CHUNK';
    inputs[47] = 'and FAIL_CHUNK again';
    const job = await stack.runJob(project.key, { type: 'embedding.batch', input: { inputs, dimensions: DIMS, chunk_size: 10 } });
    expect(job.status).toBe('succeeded');
    expect(job.output).toMatchObject({ count: 60, succeeded: 40, failed: 20, errors: { artifact_id: expect.stringMatching(/^art_/) } });
    const failedIndexes = [...Array(10).keys()].flatMap((i) => [10 + i, 40 + i]).sort((a, b) => a - b);
    const errors = await jsonl(job.output.errors.artifact_id);
    expect(errors.map((e) => e.index)).toEqual(failedIndexes);
    for (const e of errors) expect(e.error).toEqual({ code: 'upstream_error', message: expect.any(String) });
    const lines = await jsonl(job.output.result.artifact_id);
    expect(lines).toHaveLength(60);
    lines.forEach((line, i) => {
      if (failedIndexes.includes(i)) expect(line).toEqual({ index: i, embedding: null, error: errors.find((e) => e.index === i).error });
      else expect(line).toEqual({ index: i, embedding: expectedEmbedding(MODEL, inputs[i]!, DIMS) });
    });
    // each failing chunk was tried JOB_MAX_ATTEMPTS (5) times, on its own
    const rows = await sql<{ index: number; status: string; attempts: number }>(
      'SELECT index, status, attempts FROM embedding_chunks WHERE job_id = $1 AND status <> $2 ORDER BY index',
      [job.id, 'succeeded'],
    );
    expect(rows).toEqual([
      { index: 1, status: 'failed', attempts: 5 },
      { index: 4, status: 'failed', attempts: 5 },
    ]);
  });

  it('gemini models go through batchEmbedContents, at most 100 inputs a request', async () => {
    const inputs = texts(120, 'gemini');
    const before = await routeCounter(stack, 'gemini.embed');
    const job = await stack.runJob(project.key, { type: 'embedding.batch', input: { model: 'gemini-embedding-001', inputs, dimensions: DIMS, chunk_size: 500 } });
    expect(job.status).toBe('succeeded');
    expect(counterDelta(before, await routeCounter(stack, 'gemini.embed')).received).toBe(2);
    const lines = await jsonl(job.output.result.artifact_id);
    lines.forEach((line, i) => expect(line).toEqual({ index: i, embedding: expectedEmbedding('gemini-embedding-001', inputs[i]!, DIMS) }));
  });

  it('cancel mid-batch: the remaining chunks stop without calling the gateway', async () => {
    // every request takes ~0.5 s real (fast time divides the delay by 60)
    await armFault(stack, { route: 'embeddings', kind: 'slow', delay_ms: 30_000, times: -1 });
    const before = await routeCounter(stack, 'embeddings');
    const job = await submit(stack, project.key, { type: 'embedding.batch', input: { inputs: texts(400, 'cancel'), dimensions: DIMS, chunk_size: 10 } });
    await pollUntil('a first finished chunk', async () => {
      const [row] = await sql<{ n: string }>("SELECT count(*)::text AS n FROM embedding_chunks WHERE job_id = $1 AND status = 'succeeded'", [job.id]);
      return Number(row?.n) > 0 ? true : undefined;
    });
    const canceled = await stack.api.post(`/v1/jobs/${job.id}/cancel`, { key: project.key });
    expect(canceled.status).toBe(200);
    // every chunk ends: the in-flight ones finish, the others are canceled
    const rows = await pollUntil('every chunk final', async () => {
      const r = await sql<{ status: string; n: string }>('SELECT status, count(*)::text AS n FROM embedding_chunks WHERE job_id = $1 GROUP BY status', [job.id]);
      return r.some((g) => g.status === 'pending' || g.status === 'running') ? undefined : r;
    });
    const byStatus = Object.fromEntries(rows.map((g) => [g.status, Number(g.n)]));
    expect(byStatus['canceled']).toBeGreaterThan(20);
    expect((byStatus['succeeded'] ?? 0) + byStatus['canceled']!).toBe(40);
    await clearFaults(stack);
    const received = counterDelta(before, await routeCounter(stack, 'embeddings')).received;
    expect(received).toBeLessThan(20);
    const final = await getJob(stack, project.key, job.id);
    expect(final.status).toBe('canceled');
    expect(final.output).toBeNull();
    expect(final.artifacts).toEqual([]);
  });

  it('progress reaches the job while the chunks run', async () => {
    await armFault(stack, { route: 'embeddings', kind: 'slow', delay_ms: 12_000, times: -1 });
    const job = await submit(stack, project.key, { type: 'embedding.batch', input: { inputs: texts(300, 'progress'), dimensions: DIMS, chunk_size: 10 } });
    const seen = await pollUntil('progress between 1 and 99', async () => {
      const current = await getJob(stack, project.key, job.id);
      return current.progress > 0 && current.progress < 100 ? current.progress : undefined;
    });
    expect(seen).toBeGreaterThan(0);
    await clearFaults(stack);
    const final = await stack.waitFinal(project.key, job.id);
    expect(final.status).toBe('succeeded');
    expect(final.progress).toBe(100);
  });
});
