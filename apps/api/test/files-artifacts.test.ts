import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import type { Project, TestStack } from '@genqueue/testing';
import { countFileRows, eventually, expectError, filesUnder, ISO_TIME, makePng, signArtifact, sql, uploadForm, startStack, stopStack } from './helpers';

const IMAGE_LIMIT_BYTES = Math.floor(0.05 * 1024 * 1024);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** POST/GET/DELETE /v1/files and GET /v1/artifacts/{id}/content (key, signed links, ranges). */
describe('files and artifacts', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack({ env: { UPLOAD_LIMIT_IMAGE_MB: '0.05' } });
  }, 120_000);

  afterAll(async () => {
    await stopStack(stack);
  });

  const storedFilesOf = (projectId: string) => filesUnder(path.join(String(stack.env['STORAGE_DIR']), 'files', projectId));

  async function upload(key: string, parts: Parameters<typeof uploadForm>[0]) {
    return stack.api.post('/v1/files', { key, rawBody: uploadForm(parts) });
  }

  describe('POST /v1/files', () => {
    it('stores an image upload and answers 201 with its metadata', async () => {
      const project = await stack.createProject();
      const png = makePng(32);
      const res = await upload(project.key, [['purpose', 'image'], ['file', png, 'cat.png', 'image/png']]);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^file_[0-9A-Z]{26}$/),
        object: 'file',
        purpose: 'image',
        filename: 'cat.png',
        bytes: png.length,
        content_type: 'image/png',
        sha256: sha256(png),
        created_at: expect.stringMatching(ISO_TIME),
      });
      const stored = storedFilesOf(project.id);
      expect(stored).toHaveLength(1);
      expect(sha256(readFileSync(stored[0]!))).toBe(sha256(png));

      const read = await stack.api.get(`/v1/files/${res.body.id}`, { key: project.key });
      expect(read.status).toBe(200);
      expect(read.body).toEqual(res.body);
    });

    it('accepts the purpose after the file part, and a JSONL batch file', async () => {
      const project = await stack.createProject();
      const png = makePng(16, { seed: 3 });
      const image = await upload(project.key, [['file', png, 'late.png', 'image/png'], ['purpose', 'image']]);
      expect(image.status).toBe(201);
      expect(image.body).toMatchObject({ purpose: 'image', bytes: png.length });
      const jsonl = Buffer.from('{"custom_id":"a","input":"hello"}\n{"custom_id":"b","input":"world"}\n');
      const batch = await upload(project.key, [['purpose', 'batch'], ['file', jsonl, 'inputs.jsonl', 'application/jsonl']]);
      expect(batch.status).toBe(201);
      expect(batch.body).toMatchObject({ purpose: 'batch', content_type: 'application/x-ndjson', bytes: jsonl.length, sha256: sha256(jsonl) });
    });

    it('accepts an audio upload and records its sniffed type', async () => {
      const project = await stack.createProject();
      const samples = Buffer.alloc(8000, 0x80);
      const header = Buffer.alloc(44);
      header.write('RIFF', 0, 'latin1');
      header.writeUInt32LE(36 + samples.length, 4);
      header.write('WAVEfmt ', 8, 'latin1');
      header.writeUInt32LE(16, 16);
      header.writeUInt16LE(1, 20); // PCM
      header.writeUInt16LE(1, 22); // mono
      header.writeUInt32LE(8000, 24);
      header.writeUInt32LE(8000, 28);
      header.writeUInt16LE(1, 32);
      header.writeUInt16LE(8, 34);
      header.write('data', 36, 'latin1');
      header.writeUInt32LE(samples.length, 40);
      const wav = Buffer.concat([header, samples]);
      const res = await upload(project.key, [['purpose', 'audio'], ['file', wav, 'tone.wav', 'application/octet-stream']]);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ purpose: 'audio', content_type: 'audio/wav', bytes: wav.length, filename: 'tone.wav' });
    });

    it.each([
      ['the purpose comes first', true, 160],
      ['the purpose comes last', false, 160],
      ['the file is megabytes over', true, 1200],
      ['the file is megabytes over and the purpose comes last', false, 1200],
    ])('answers 413 for an image over its purpose limit when %s, and keeps nothing', async (_name, purposeFirst, edge) => {
      const project = await stack.createProject();
      const big = makePng(edge, { noise: true });
      expect(big.length).toBeGreaterThan(IMAGE_LIMIT_BYTES);
      const file: ['file', Buffer, string, string] = ['file', big, 'big.png', 'image/png'];
      const res = await upload(project.key, purposeFirst ? [['purpose', 'image'], file] : [file, ['purpose', 'image']]);
      expectError(res, 413, 'payload_too_large');
      expect(await countFileRows(project.id)).toBe(0);
      expect(storedFilesOf(project.id)).toEqual([]);
    });

    it('accepts an image exactly at the limit', async () => {
      const project = await stack.createProject();
      const png = makePng(16);
      const padded = Buffer.concat([png, Buffer.alloc(IMAGE_LIMIT_BYTES - png.length)]);
      const res = await upload(project.key, [['purpose', 'image'], ['file', padded, 'edge.png', 'image/png']]);
      expect(res.status).toBe(201);
      expect(res.body.bytes).toBe(IMAGE_LIMIT_BYTES);
    });

    const png = makePng(8);
    it.each<[string, Parameters<typeof uploadForm>[0], string]>([
      ['no purpose', [['file', png, 'a.png', 'image/png']], 'purpose'],
      ['an unknown purpose', [['purpose', 'video'], ['file', png, 'a.png', 'image/png']], 'purpose'],
      ['no file', [['purpose', 'image']], 'file'],
      ['an empty file', [['purpose', 'image'], ['file', Buffer.alloc(0), 'a.png', 'image/png']], 'file'],
      ['text sent as an image', [['purpose', 'image'], ['file', Buffer.from('not an image at all'), 'a.png', 'image/png']], 'file'],
      ['an image sent as audio', [['purpose', 'audio'], ['file', png, 'a.mp3', 'audio/mpeg']], 'file'],
      ['a PNG sent as a batch', [['purpose', 'batch'], ['file', png, 'a.png', 'image/png']], 'file'],
    ])('answers 400 for %s and keeps nothing', async (_name, parts, detailPath) => {
      const project = await stack.createProject();
      const res = await upload(project.key, parts);
      expect(expectError(res, 400, 'invalid_request').details.map((d) => d.path)).toContain(detailPath);
      expect(await countFileRows(project.id)).toBe(0);
      expect(storedFilesOf(project.id)).toEqual([]);
    });

    it('answers 400 for a body that is not multipart', async () => {
      const project = await stack.createProject();
      const res = await stack.api.post('/v1/files', { key: project.key, body: { purpose: 'image', file: 'aGVsbG8=' } });
      expectError(res, 400, 'invalid_request');
      expect(await countFileRows(project.id)).toBe(0);
    });

    it('answers 400 for a multipart body without a boundary or cut short', async () => {
      const project = await stack.createProject();
      const noBoundary = await stack.api.post('/v1/files', { key: project.key, rawBody: 'x', headers: { 'content-type': 'multipart/form-data' } });
      expectError(noBoundary, 400, 'invalid_request');
      const truncated = [
        '--XyZ',
        'Content-Disposition: form-data; name="purpose"',
        '',
        'image',
        '--XyZ',
        'Content-Disposition: form-data; name="file"; filename="a.png"',
        'Content-Type: image/png',
        '',
        makePng(8).toString('latin1'),
      ].join('\r\n');
      const cut = await stack.api.post('/v1/files', {
        key: project.key,
        rawBody: Buffer.from(truncated, 'latin1'),
        headers: { 'content-type': 'multipart/form-data; boundary=XyZ' },
      });
      expectError(cut, 400, 'invalid_request');
      expect(await countFileRows(project.id)).toBe(0);
      expect(storedFilesOf(project.id)).toEqual([]);
    });

    it('keeps nothing of an upload the client abandons halfway', async () => {
      const project = await stack.createProject();
      const boundary = 'AbandonedUpload';
      const head = Buffer.from(
        [`--${boundary}`, 'Content-Disposition: form-data; name="purpose"', '', 'batch', `--${boundary}`,
          'Content-Disposition: form-data; name="file"; filename="big.jsonl"', 'Content-Type: application/jsonl', '', ''].join('\r\n'),
      );
      const url = new URL(`${stack.apiUrl}/v1/files`);
      const req = request({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { authorization: `Bearer ${project.key}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + 10_000_000) },
      });
      req.on('error', () => undefined);
      req.write(head);
      req.write(Buffer.alloc(1_000_000, '{"custom_id":"a","input":"x"}\n'));
      // Some bytes reached storage (a temp file), then the client goes away.
      await eventually(async () => storedFilesOf(project.id).length, (n) => n > 0, 10_000, 'a temp file');
      req.destroy();
      await eventually(async () => storedFilesOf(project.id), (files) => files.length === 0, 10_000, 'no stored file');
      expect(await countFileRows(project.id)).toBe(0);
    });

    it('answers 401 without a key and keeps nothing', async () => {
      const before = filesUnder(path.join(String(stack.env['STORAGE_DIR']), 'files')).length;
      const res = await stack.api.post('/v1/files', { rawBody: uploadForm([['purpose', 'image'], ['file', makePng(8), 'a.png', 'image/png']]) });
      expectError(res, 401, 'unauthorized');
      expect(filesUnder(path.join(String(stack.env['STORAGE_DIR']), 'files')).length).toBe(before);
    });
  });

  describe('GET and DELETE /v1/files/{id}', () => {
    it('deletes a file: 200, then 404 for GET and DELETE, and the bytes are gone', async () => {
      const project = await stack.createProject();
      const created = await upload(project.key, [['purpose', 'image'], ['file', makePng(8), 'a.png', 'image/png']]);
      expect(storedFilesOf(project.id)).toHaveLength(1);
      const res = await stack.api.delete(`/v1/files/${created.body.id}`, { key: project.key });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: created.body.id, object: 'file', deleted: true });
      expect(storedFilesOf(project.id)).toEqual([]);
      expectError(await stack.api.get(`/v1/files/${created.body.id}`, { key: project.key }), 404, 'not_found');
      expectError(await stack.api.delete(`/v1/files/${created.body.id}`, { key: project.key }), 404, 'not_found');
      const job = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'image.edit', input: { prompt: 'x', images: [{ file_id: created.body.id }] } } });
      expect(expectError(job, 400, 'invalid_request').details.map((d) => d.path)).toEqual(['input.images.0.file_id']);
    });

    it('answers 404 to another project, which cannot delete it either', async () => {
      const owner = await stack.createProject();
      const other = await stack.createProject();
      const created = await upload(owner.key, [['purpose', 'image'], ['file', makePng(8), 'a.png', 'image/png']]);
      expectError(await stack.api.get(`/v1/files/${created.body.id}`, { key: other.key }), 404, 'not_found');
      expectError(await stack.api.delete(`/v1/files/${created.body.id}`, { key: other.key }), 404, 'not_found');
      expect((await stack.api.get(`/v1/files/${created.body.id}`, { key: owner.key })).status).toBe(200);
      expect(storedFilesOf(owner.id)).toHaveLength(1);
      const asAdmin = await stack.api.get(`/v1/files/${created.body.id}`, { key: stack.adminKey });
      expect(asAdmin.status).toBe(200);
    });

    it.each(['file_00000000000000000000000000', 'nope'])('answers 404 for %s', async (id) => {
      const project = await stack.createProject();
      expectError(await stack.api.get(`/v1/files/${id}`, { key: project.key }), 404, 'not_found');
      expectError(await stack.api.delete(`/v1/files/${id}`, { key: project.key }), 404, 'not_found');
    });

    it('feeds an uploaded image to an image.edit job', async () => {
      const project = await stack.createProject();
      const png = makePng(24, { seed: 9 });
      const created = await upload(project.key, [['purpose', 'image'], ['file', png, 'in.png', 'image/png']]);
      const job = await stack.runJob(project.key, { type: 'image.edit', input: { prompt: 'make it blue', images: [{ file_id: created.body.id }] } });
      expect(job.status).toBe('succeeded');
      expect(job.artifacts).toHaveLength(1);
      const uploads = await stack.sim.get('/_sim/uploads');
      const shas = uploads.body.uploads.flatMap((u: any) => u.files.map((f: any) => f.sha256));
      expect(shas).toContain(sha256(png));
    });
  });

  describe('GET /v1/artifacts/{id}/content', () => {
    let project: Project;
    let artifact: { id: string; url: string; bytes: number; sha256: string; content_type: string };
    let bytes: Buffer;

    beforeAll(async () => {
      project = await stack.createProject();
      const job = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'an artifact to fetch' } });
      expect(job.status).toBe('succeeded');
      artifact = job.artifacts[0];
      const [row] = await sql<{ storage_key: string }>('SELECT storage_key FROM artifacts WHERE id = $1', [artifact.id]);
      bytes = readFileSync(path.join(String(stack.env['STORAGE_DIR']), row!.storage_key));
    }, 60_000);

    const contentPath = () => `/v1/artifacts/${artifact.id}/content`;
    const fetchBytes = async (url: string, headers: Record<string, string> = {}) => {
      const res = await fetch(url.startsWith('http') ? url : `${stack.apiUrl}${url}`, { headers });
      return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
    };

    it('serves the bytes to the owning project’s key', async () => {
      const res = await fetchBytes(contentPath(), { authorization: `Bearer ${project.key}` });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.headers.get('accept-ranges')).toBe('bytes');
      expect(Number(res.headers.get('content-length'))).toBe(artifact.bytes);
      expect(sha256(res.body)).toBe(artifact.sha256);
      expect(res.body.equals(bytes)).toBe(true);
    });

    it('marks every answer inert: nosniff, a sandboxing CSP, an inline disposition for an allowed type', async () => {
      const res = await fetchBytes(artifact.url);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toMatch(/^sandbox/);
      expect(res.headers.get('content-disposition')).toBe(`inline; filename="${artifact.id}.png"`);
    });

    it('serves a script-capable type (SVG, HTML) as an octet-stream attachment, whatever it was stored as', async () => {
      for (const [storedAs, id] of [
        ['image/svg+xml', `art_01SVG${artifact.id.slice(9)}`],
        ['text/html; charset=utf-8', `art_01HTM${artifact.id.slice(9)}`],
      ] as const) {
        // a row as a careless writer would have stored it, over the same bytes
        await sql(
          `INSERT INTO artifacts (id, project_id, job_id, kind, content_type, bytes, sha256, storage_key)
           SELECT $1, project_id, job_id, 'image', $2, bytes, sha256, storage_key FROM artifacts WHERE id = $3`,
          [id, storedAs, artifact.id],
        );
        const res = await fetchBytes(`/v1/artifacts/${id}/content`, { authorization: `Bearer ${project.key}` });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('application/octet-stream');
        expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${id}.bin"`);
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('content-security-policy')).toMatch(/^sandbox/);
        await sql('DELETE FROM artifacts WHERE id = $1', [id]);
      }
    });

    it('answers 304 to If-None-Match with the ETag (the sha256), and the bytes otherwise', async () => {
      const first = await fetchBytes(artifact.url);
      const etag = first.headers.get('etag');
      expect(etag).toBe(`"${artifact.sha256}"`);
      const again = await fetchBytes(artifact.url, { 'if-none-match': etag! });
      expect(again.status).toBe(304);
      expect(again.body.length).toBe(0);
      const stale = await fetchBytes(artifact.url, { 'if-none-match': '"something-else"' });
      expect(stale.status).toBe(200);
      expect(sha256(stale.body)).toBe(artifact.sha256);
    });

    it('serves the bytes through the signed link without a key', async () => {
      const res = await fetchBytes(artifact.url);
      expect(res.status).toBe(200);
      expect(sha256(res.body)).toBe(artifact.sha256);
    });

    it('answers 403 to a changed or expired link', async () => {
      const url = new URL(artifact.url);
      const sig = url.searchParams.get('sig')!;
      const expires = Number(url.searchParams.get('expires'));
      const variants: Record<string, string> = {
        'tampered sig': `${contentPath()}?expires=${expires}&sig=${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`,
        'later expiry': `${contentPath()}?expires=${expires + 3600}&sig=${sig}`,
        'sig without expires': `${contentPath()}?sig=${sig}`,
        'expires without sig': `${contentPath()}?expires=${expires}`,
        'empty sig': `${contentPath()}?expires=${expires}&sig=`,
        expired: `${contentPath()}?expires=${Math.floor(Date.now() / 1000) - 60}&sig=${await signArtifact(artifact.id, Math.floor(Date.now() / 1000) - 60)}`,
      };
      for (const [name, link] of Object.entries(variants)) {
        const res = await stack.api.get(link);
        if (res.status !== 403) throw new Error(`${name}: ${res.status} ${res.text}`);
        expectError(res, 403, 'forbidden');
      }
      // The same computation with a future expiry is accepted: the expired case failed for its time alone.
      const future = Math.floor(Date.now() / 1000) + 600;
      const fresh = await fetchBytes(`${contentPath()}?expires=${future}&sig=${await signArtifact(artifact.id, future)}`);
      expect(fresh.status).toBe(200);
    });

    it('does not accept one artifact’s signature for another', async () => {
      const other = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'a second artifact' } });
      const theirs = new URL(other.artifacts[0].url);
      const res = await stack.api.get(`${contentPath()}${theirs.search}`);
      expectError(res, 403, 'forbidden');
    });

    it('serves byte ranges with 206, through the key and the signed link', async () => {
      const withKey = { authorization: `Bearer ${project.key}` };
      const first = await fetchBytes(contentPath(), { ...withKey, range: 'bytes=0-9' });
      expect(first.status).toBe(206);
      expect(first.headers.get('content-range')).toBe(`bytes 0-9/${artifact.bytes}`);
      expect(first.body.equals(bytes.subarray(0, 10))).toBe(true);

      const tail = await fetchBytes(artifact.url, { range: 'bytes=-16' });
      expect(tail.status).toBe(206);
      expect(tail.headers.get('content-range')).toBe(`bytes ${artifact.bytes - 16}-${artifact.bytes - 1}/${artifact.bytes}`);
      expect(tail.body.equals(bytes.subarray(bytes.length - 16))).toBe(true);

      const open = await fetchBytes(contentPath(), { ...withKey, range: 'bytes=100-' });
      expect(open.status).toBe(206);
      expect(open.body.equals(bytes.subarray(100))).toBe(true);

      const beyond = await fetchBytes(contentPath(), { ...withKey, range: `bytes=${artifact.bytes}-` });
      expect(beyond.status).toBe(416);
      expect(beyond.headers.get('content-range')).toBe(`bytes */${artifact.bytes}`);
    });

    it('answers 404 to another project’s key and 401 without any key', async () => {
      const other = await stack.createProject();
      expectError(await stack.api.get(contentPath(), { key: other.key }), 404, 'not_found');
      expectError(await stack.api.get(contentPath()), 401, 'unauthorized');
      expectError(await stack.api.get('/v1/artifacts/art_00000000000000000000000000/content', { key: project.key }), 404, 'not_found');
      expectError(await stack.api.get('/v1/artifacts/nope/content', { key: project.key }), 404, 'not_found');
      expect((await fetchBytes(contentPath(), { authorization: `Bearer ${stack.adminKey}` })).status).toBe(200);
    });

    it('lets a later job of the project use the artifact as input, and no other project', async () => {
      const other = await stack.createProject();
      const input = { prompt: 'edit the artifact', images: [{ artifact_id: artifact.id }] };
      const foreign = await stack.api.post('/v1/jobs', { key: other.key, body: { type: 'image.edit', input } });
      expect(expectError(foreign, 400, 'invalid_request').details.map((d) => d.path)).toEqual(['input.images.0.artifact_id']);
      const job = await stack.runJob(project.key, { type: 'image.edit', input });
      expect(job.status).toBe('succeeded');
    });
  });
});
