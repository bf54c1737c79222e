import { randomBytes } from 'node:crypto';
import { EVENT_INPUT_MAX_BYTES } from '@genqueue/core';
import type { Project, TestStack } from '@genqueue/testing';
import { expectError, sql, unsigned, useStack } from './helpers';

/** Events without their signed artifact links (re-signed, with a new expiry, on every read). */
const comparable = (events: any[]): any[] => events.map((e) => ({ ...e, data: unsigned(e.data) }));

/** Event rows and webhook payloads carry a size-capped input; the events route pages. */
describe('event snapshots and the paged event log', () => {
  let stack: TestStack;
  let project: Project;
  useStack(async (ready) => {
    stack = ready;
    project = await ready.createProject();
  });

  /** 400 incompressible inputs of 500 characters: about 200 KB of input JSON. */
  const bigInputs = (): string[] => Array.from({ length: 400 }, () => randomBytes(375).toString('base64'));

  const eventLog = async (jobId: string, query = ''): Promise<any> => {
    const res = await stack.api.get(`/v1/jobs/${jobId}/events${query}`, { key: project.key, headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    return res.body;
  };

  it('stores events and webhook payloads of a job with a large input small, while GET /v1/jobs/{id} answers the whole input', async () => {
    const inputs = bigInputs();
    // the webhook goes nowhere (a closed port): the delivery rows are what is measured
    const job = await stack.runJob(project.key, {
      type: 'embedding.batch',
      input: { inputs, chunk_size: 100 },
      webhook_url: 'http://127.0.0.1:9/hook',
    });
    expect(job.status).toBe('succeeded');

    const full = await stack.api.get(`/v1/jobs/${job.id}`, { key: project.key });
    expect(full.body.input.inputs).toEqual(inputs);
    const inputBytes = Buffer.byteLength(JSON.stringify(full.body.input));
    expect(inputBytes).toBeGreaterThan(200_000);

    const rows = await sql<{ seq: number; size: number }>('SELECT seq, pg_column_size(data) AS size FROM job_events WHERE job_id = $1 ORDER BY seq', [job.id]);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const row of rows) expect(row.size).toBeLessThan(EVENT_INPUT_MAX_BYTES);

    const deliveries = await sql<{ size: number }>('SELECT pg_column_size(payload) AS size FROM webhook_deliveries WHERE job_id = $1', [job.id]);
    expect(deliveries.length).toBeGreaterThanOrEqual(1);
    for (const row of deliveries) expect(row.size).toBeLessThan(EVENT_INPUT_MAX_BYTES);

    const { data } = await eventLog(job.id, '?limit=1000');
    expect(data.map((e: any) => e.type)).toContain('job.succeeded');
    for (const event of data) expect(event.data.input).toEqual({ truncated: true, bytes: inputBytes });
    // the rest of the snapshot is the job as it was
    expect(data[data.length - 1].data).toMatchObject({ id: job.id, status: 'succeeded', output: full.body.output });
  }, 120_000);

  it('keeps a small input in its events as it is', async () => {
    const input = { prompt: 'a small fox', n: 1 };
    const job = await stack.runJob(project.key, { type: 'image.generate', input });
    const { data } = await eventLog(job.id);
    expect(data.length).toBeGreaterThanOrEqual(3);
    for (const event of data) expect(event.data.input).toEqual(job.input);
    expect(job.input).toMatchObject(input);
  }, 60_000);

  it('pages the JSON event log with limit and next_cursor (after_seq names the same place)', async () => {
    const job = await stack.runJob(project.key, { type: 'embedding.batch', input: { inputs: ['a', 'b', 'c', 'd', 'e'], chunk_size: 10 } });
    const all = (await eventLog(job.id)).data;
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(all.map((e: any) => e.seq)).toEqual(all.map((_: unknown, i: number) => i + 1));

    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: any = await eventLog(job.id, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data);
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor && pages < 50);
    expect(comparable(seen)).toEqual(comparable(all));

    const rest = await eventLog(job.id, '?after_seq=2');
    expect(comparable(rest.data)).toEqual(comparable(all.slice(2)));
    expect(rest.next_cursor).toBeNull();

    for (const bad of ['?limit=0', '?limit=1001', '?after_seq=-1', '?cursor=abc', '?limit=x']) {
      const res = await stack.api.get(`/v1/jobs/${job.id}/events${bad}`, { key: project.key, headers: { accept: 'application/json' } });
      expectError(res, 400, 'invalid_request');
    }
  }, 60_000);
});
