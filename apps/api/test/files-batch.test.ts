import path from 'node:path';
import { renderSpeech } from '@genqueue/simulator';
import type { Project, TestStack } from '@genqueue/testing';
import { countFileRows, countJobRows, expectError, filesUnder, queuedJobIds, startStack, stopStack, uploadForm } from './helpers';

const AUDIO_LIMIT = Math.floor(0.01 * 1024 * 1024);
const BATCH_LIMIT = Math.floor(2 * 1024 * 1024);

/** Uploads for audio and batch purposes: sniffed types, limits, and JSONL batch files checked at submission. */
describe('audio and batch files', () => {
  let stack: TestStack;
  let project: Project;

  beforeAll(async () => {
    stack = await startStack({ withoutWorker: true, env: { UPLOAD_LIMIT_AUDIO_MB: '0.01', UPLOAD_LIMIT_BATCH_MB: '2' } });
  }, 120_000);

  beforeEach(async () => {
    project = await stack.createProject();
  });

  afterAll(async () => {
    await stopStack(stack);
  });

  const storedFiles = () => filesUnder(path.join(String(stack.env['STORAGE_DIR']), 'files', project.id));
  const upload = (parts: Parameters<typeof uploadForm>[0]) => stack.api.post('/v1/files', { key: project.key, rawBody: uploadForm(parts) });
  const uploadBatch = (text: string, name = 'batch.jsonl') => upload([['purpose', 'batch'], ['file', Buffer.from(text), name, 'application/jsonl']]);
  const submitBatch = (fileId: string) => stack.api.post('/v1/jobs', { key: project.key, body: { type: 'embedding.batch', input: { file_id: fileId, dimensions: 8 } } });

  const speech = (format: 'mp3' | 'opus' | 'flac' | 'aac' | 'wav') => renderSpeech({ model: 'tts-1', input: 'hi', voice: 'alloy', responseFormat: format }).bytes;
  const m4a = Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypM4A \0\0\0\0M4A mp42isom', 'latin1'), Buffer.alloc(200)]);

  it.each([
    ['wav', speech('wav'), 'audio/wav'],
    ['mp3', speech('mp3'), 'audio/mpeg'],
    ['ogg', speech('opus'), 'audio/ogg'],
    ['flac', speech('flac'), 'audio/flac'],
    ['aac', speech('aac'), 'audio/aac'],
    ['m4a', m4a, 'audio/mp4'],
  ])('sniffs %s audio from its bytes, whatever the client declared', async (ext, bytes, contentType) => {
    const res = await upload([['purpose', 'audio'], ['file', bytes, `clip.${ext}`, 'application/octet-stream']]);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ purpose: 'audio', content_type: contentType, bytes: bytes.length });
  });

  it('answers 413 for audio over its limit and keeps nothing', async () => {
    const big = Buffer.concat([speech('mp3'), Buffer.alloc(AUDIO_LIMIT)]);
    expectError(await upload([['purpose', 'audio'], ['file', big, 'long.mp3', 'audio/mpeg']]), 413, 'payload_too_large');
    expect(await countFileRows(project.id)).toBe(0);
    expect(storedFiles()).toEqual([]);
  });

  it('answers 413 for a batch file over its limit and keeps nothing', async () => {
    const line = `${JSON.stringify({ custom_id: 'x', input: 'y'.repeat(1000) })}\n`;
    const res = await uploadBatch(line.repeat(Math.ceil(BATCH_LIMIT / line.length) + 1));
    expectError(res, 413, 'payload_too_large');
    expect(await countFileRows(project.id)).toBe(0);
    expect(storedFiles()).toEqual([]);
  });

  it('records a JSONL upload as application/x-ndjson, also without a .jsonl name', async () => {
    const res = await uploadBatch('{"custom_id":"a","input":"b"}\n', 'inputs.txt');
    expect(res.status).toBe(201);
    expect(res.body.content_type).toBe('application/x-ndjson');
  });

  it('refuses a batch file with bad lines at submission, listing them by line number; nothing is stored', async () => {
    const lines = [
      '{"custom_id":"ok-1","input":"fine"}',
      '{"custom_id":"bad-json", "input": ',
      '{"custom_id":"ok-2","input":"fine"}',
      '{"input":"no id"}',
      '',
      '[1,2,3]',
      '{"custom_id":"empty","input":""}',
      '{"custom_id":"ok-3","input":"fine"}',
      '{"custom_id":"extra","input":"x","model":"y"}',
      `{"custom_id":"long","input":"${'z'.repeat(40_000)}"}`,
      '{"custom_id":"ok-4","input":"fine"}\r',
    ];
    const file = await uploadBatch(lines.join('\n'));
    expect(file.status).toBe(201);
    const res = await submitBatch(file.body.id);
    const error = expectError(res, 400, 'invalid_request');
    expect(error.details).toEqual([
      { path: 'input.file_id', message: 'line 2: not valid JSON' },
      { path: 'input.file_id', message: 'line 4: custom_id must be a non-empty string' },
      { path: 'input.file_id', message: 'line 6: must be a JSON object' },
      { path: 'input.file_id', message: 'line 7: input must be a non-empty string' },
      { path: 'input.file_id', message: 'line 9: unknown field model' },
      { path: 'input.file_id', message: 'line 10: input must be at most 8192 tokens (estimated as characters / 4)' },
    ]);
    expect(await countJobRows(project.id)).toBe(0);
    expect(await queuedJobIds(stack)).toEqual([]);
  });

  it('lists only the first 20 bad lines', async () => {
    const file = await uploadBatch(Array.from({ length: 100 }, (_, i) => (i % 2 ? `not json ${i}` : `{"custom_id":"${i}","input":"x"}`)).join('\n'));
    const error = expectError(await submitBatch(file.body.id), 400, 'invalid_request');
    expect(error.details).toHaveLength(20);
    expect(error.details[0]).toEqual({ path: 'input.file_id', message: 'line 2: not valid JSON' });
    expect(error.details[19]).toEqual({ path: 'input.file_id', message: 'line 40: not valid JSON' });
  });

  it('refuses a line longer than 1 MiB without buffering it', async () => {
    const file = await uploadBatch(`{"custom_id":"a","input":"${'q'.repeat(1024 * 1024 + 10)}"}\n{"custom_id":"b","input":"c"}\n`);
    expect(file.status).toBe(201);
    const error = expectError(await submitBatch(file.body.id), 400, 'invalid_request');
    expect(error.details).toEqual([{ path: 'input.file_id', message: 'line 1: longer than 1048576 bytes' }]);
  });

  it('refuses an empty batch, a file of another purpose, a deleted file and inputs with file_id together', async () => {
    const blank = await uploadBatch('\n\n');
    expect(expectError(await submitBatch(blank.body.id), 400, 'invalid_request').details).toEqual([
      { path: 'input.file_id', message: 'the file has no lines' },
    ]);
    const audio = await upload([['purpose', 'audio'], ['file', speech('wav'), 'a.wav', 'audio/wav']]);
    expect(expectError(await submitBatch(audio.body.id), 400, 'invalid_request').details[0]!.message).toMatch(/purpose audio, not batch/);
    const gone = await uploadBatch('{"custom_id":"a","input":"b"}\n');
    expect((await stack.api.delete(`/v1/files/${gone.body.id}`, { key: project.key })).status).toBe(200);
    expect(expectError(await submitBatch(gone.body.id), 400, 'invalid_request').details).toEqual([
      { path: 'input.file_id', message: `no file ${gone.body.id} in this project` },
    ]);
    const both = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'embedding.batch', input: { file_id: gone.body.id, inputs: ['a'] } } });
    expect(expectError(both, 400, 'invalid_request').details).toEqual([{ path: 'input.inputs', message: 'give either inputs or file_id (exactly one)' }]);
    expect(await countJobRows(project.id)).toBe(0);
  });

  it('accepts a valid batch file (blank lines and CRLF allowed)', async () => {
    const file = await uploadBatch('{"custom_id":"a","input":"one"}\r\n\r\n{"custom_id":"b","input":"two"}\r\n');
    const res = await submitBatch(file.body.id);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ type: 'embedding.batch', status: 'queued', input: { file_id: file.body.id, model: 'text-embedding-3-small', chunk_size: 100 } });
  });

  it('validates inline inputs: at most 10,000, none empty', async () => {
    const many = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'embedding.batch', input: { inputs: Array(10_001).fill('a') } } });
    expect(expectError(many, 400, 'invalid_request').details[0]!.path).toBe('input.inputs');
    const empty = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'embedding.batch', input: { inputs: ['a', ''] } } });
    expect(expectError(empty, 400, 'invalid_request').details).toEqual([{ path: 'input.inputs.1', message: 'must not be empty' }]);
  });
});
