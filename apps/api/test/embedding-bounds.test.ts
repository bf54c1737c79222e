import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Project, TestStack } from '@genqueue/testing';
import { countJobRows, eventually, expectError, queuedJobIds, uploadForm, useStack } from './helpers';

/** embedding.batch: chunk_size bounds, and a batch file validated once however many jobs name it. */
describe('embedding.batch bounds', () => {
  let stack: TestStack;
  let project: Project;
  // no worker: accepted jobs stay queued, so the queue holds exactly what was accepted
  useStack(
    (ready) => {
      stack = ready;
    },
    { withoutWorker: true },
  );

  beforeEach(async () => {
    project = await stack.createProject();
  });

  const submit = (input: Record<string, unknown>) => stack.api.post('/v1/jobs', { key: project.key, body: { type: 'embedding.batch', input } });

  /** How often the API process read and checked the batch file `fileId` (its `batch_file.validated` log lines). */
  const validationLines = (fileId: string): number =>
    readFileSync(path.join(stack.logDir, 'api.log'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('"batch_file.validated"') && line.includes(`"fileId":"${fileId}"`)).length;
  /** The count once the first line has reached the log file (the process writes it before answering). */
  const validations = async (fileId: string): Promise<number> =>
    eventually(async () => validationLines(fileId), (n) => n >= 1, 5_000, `a batch_file.validated line for ${fileId}`);

  it.each([0, 1, 9, 2049, 100_000, 10.5, '100'])('refuses chunk_size %p with a 400 naming it, storing and queueing nothing', async (chunkSize) => {
    const res = await submit({ inputs: ['a', 'b'], chunk_size: chunkSize });
    const error = expectError(res, 400, 'invalid_request');
    expect(error.details.map((d) => d.path)).toContain('input.chunk_size');
    expect(await countJobRows(project.id)).toBe(0);
    expect(await queuedJobIds(stack)).toEqual([]);
  });

  it('accepts chunk_size at both ends (10 and 2,048)', async () => {
    for (const chunkSize of [10, 2048]) {
      const res = await submit({ inputs: ['a', 'b'], chunk_size: chunkSize });
      expect(res.status).toBe(202);
      expect(res.body.input.chunk_size).toBe(chunkSize);
    }
  });

  it('refuses a bad chunk_size in a bulk request in its place, and stores the good jobs only', async () => {
    const res = await stack.api.post('/v1/jobs/bulk', {
      key: project.key,
      body: { jobs: [{ type: 'embedding.batch', input: { inputs: ['a'], chunk_size: 5 } }, { type: 'embedding.batch', input: { inputs: ['a'], chunk_size: 50 } }] },
    });
    expect(res.status).toBe(202);
    expect(res.body.data[0].error.code).toBe('invalid_request');
    expect(res.body.data[1].status).toBe('queued');
    expect(await countJobRows(project.id)).toBe(1);
  });

  it('reads a batch file named by 200 jobs of one bulk request once, and not again for a later submission', async () => {
    const lines = Array.from({ length: 2_000 }, (_, i) => JSON.stringify({ custom_id: `c${i}`, input: `text number ${i}` })).join('\n');
    const uploaded = await stack.api.post('/v1/files', {
      key: project.key,
      rawBody: uploadForm([['purpose', 'batch'], ['file', Buffer.from(lines), 'batch.jsonl', 'application/jsonl']]),
    });
    expect(uploaded.status).toBe(201);
    const fileId: string = uploaded.body.id;

    const body = { type: 'embedding.batch', input: { file_id: fileId, dimensions: 8 } };
    const res = await stack.api.post('/v1/jobs/bulk', { key: project.key, body: { jobs: Array.from({ length: 200 }, () => body) } });
    expect(res.status).toBe(202);
    expect(res.body.data.filter((job: any) => job.status === 'queued')).toHaveLength(200);
    expect(await validations(fileId)).toBe(1);

    expect((await submit({ file_id: fileId, dimensions: 8 })).status).toBe(202);
    expect(await validations(fileId)).toBe(1);
    expect(await countJobRows(project.id)).toBe(201);
  }, 60_000);

  it('still refuses a remembered file once it is deleted, and remembers a bad file’s verdict too', async () => {
    const bad = await stack.api.post('/v1/files', {
      key: project.key,
      rawBody: uploadForm([['purpose', 'batch'], ['file', Buffer.from('{"custom_id": "a", "input": "x"}\nnot json\n'), 'bad.jsonl', 'application/jsonl']]),
    });
    expect(bad.status).toBe(201);
    for (let i = 0; i < 3; i += 1) {
      const error = expectError(await submit({ file_id: bad.body.id }), 400, 'invalid_request');
      expect(error.details).toEqual([{ path: 'input.file_id', message: 'line 2: not valid JSON' }]);
    }
    expect(await validations(bad.body.id)).toBe(1);

    const good = await stack.api.post('/v1/files', {
      key: project.key,
      rawBody: uploadForm([['purpose', 'batch'], ['file', Buffer.from('{"custom_id": "a", "input": "x"}\n'), 'good.jsonl', 'application/jsonl']]),
    });
    expect((await submit({ file_id: good.body.id })).status).toBe(202);
    expect((await stack.api.delete(`/v1/files/${good.body.id}`, { key: project.key })).status).toBeLessThan(300);
    expectError(await submit({ file_id: good.body.id }), 400, 'invalid_request');
    expect(await countJobRows(project.id)).toBe(1);
  });
});
