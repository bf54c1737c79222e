import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { S3Storage } from '@genqueue/storage';
import { TestStack, type Project } from '@genqueue/testing';
// the S3-compatible test server is a dev dependency of @genqueue/storage, started from its test helper
import { makePng, uploadForm } from './helpers';
import { keysUnder as keysIn, S3RVER_CREDENTIALS, startS3rver, type TestS3Server } from '../../../packages/storage/test/s3rver-server';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** API and worker on STORAGE_DRIVER=s3 against s3rver: artifacts are stored in the bucket and served by both kinds of link. */
describe('S3 storage end to end', () => {
  let server: TestS3Server;
  let stack: TestStack;
  let bucket: S3Storage;
  let sql: Client;
  let project: Project;

  beforeAll(async () => {
    server = await startS3rver();
    stack = await TestStack.start({
      env: {
        STORAGE_DRIVER: 's3',
        S3_BUCKET: server.bucket,
        S3_REGION: 'us-east-1',
        S3_ENDPOINT: server.endpoint,
        S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        S3_FORCE_PATH_STYLE: 'true',
        // over one 5 MiB part, so a refused upload has sent parts before the limit is crossed
        UPLOAD_LIMIT_IMAGE_MB: '6',
      },
    });
    bucket = new S3Storage({ bucket: server.bucket, region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
    sql = new Client({ connectionString: stack.databaseUrl });
    await sql.connect();
    project = await stack.createProject();
  }, 120_000);

  afterAll(async () => {
    await sql?.end();
    bucket?.destroy();
    await stack?.stop();
    await server?.stop();
  });

  async function storageKeyOf(artifactId: string): Promise<string> {
    const { rows } = await sql.query('SELECT storage_key FROM artifacts WHERE id = $1', [artifactId]);
    return String(rows[0].storage_key);
  }

  it('stores an image job’s artifact in the bucket and serves it through the API’s signed link, ranges included', async () => {
    const job = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'a heron in the reeds', model: 'gpt-image-1' } });
    expect(job.status).toBe('succeeded');
    const [artifact] = job.artifacts;
    expect(artifact.url.startsWith(`${stack.apiUrl}/v1/artifacts/${artifact.id}/content?`)).toBe(true);
    // in the bucket, not on the local disk
    expect(await bucket.size(await storageKeyOf(artifact.id))).toBe(artifact.bytes);

    const res = await fetch(artifact.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(sha256(bytes)).toBe(artifact.sha256);
    const part = await fetch(artifact.url, { headers: { range: 'bytes=8-23' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(8, 24));
  });

  /** A webhook receiver on 127.0.0.1 that hands over the first `job.succeeded` body. */
  async function succeededHook(): Promise<{ url: string; body: Promise<any>; close(): void }> {
    let deliver: (body: any) => void = () => undefined;
    const body = new Promise<any>((resolve) => (deliver = resolve));
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.end('ok');
        const json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (json.type === 'job.succeeded') deliver(json);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, body, close: () => server.close() };
  }

  const keysUnder = (prefix: string) => keysIn(bucket.client, server.bucket, prefix);

  it('streams uploads into the bucket; one over its limit is refused (413) and leaves no object', async () => {
    const other = await stack.createProject();
    const upload = (file: Buffer) =>
      fetch(`${stack.apiUrl}/v1/files`, {
        method: 'POST',
        headers: { authorization: `Bearer ${other.key}` },
        body: uploadForm([['purpose', 'image'], ['file', file, 'picture.png', 'image/png']]),
      });
    const big = makePng(1500, { noise: true });
    expect(big.length).toBeGreaterThan(6 * 1024 * 1024);
    const refused = await upload(big);
    expect(refused.status).toBe(413);
    expect(await keysUnder(`files/${other.id}/`)).toEqual([]);

    const small = makePng(64, { noise: true });
    const accepted = await upload(small);
    expect(accepted.status).toBe(201);
    const file = (await accepted.json()) as { id: string; bytes: number; sha256: string };
    expect(file).toMatchObject({ bytes: small.length, sha256: sha256(small) });
    expect(await keysUnder(`files/${other.id}/`)).toEqual([`files/${other.id}/${file.id}`]);
  });

  it('with STORAGE_PUBLIC_LINKS=presigned, job reads and webhook payloads link straight to the bucket', async () => {
    stack.env['STORAGE_PUBLIC_LINKS'] = 'presigned';
    await stack.restartApi('SIGTERM');
    await stack.stopWorker();
    await stack.startWorker();
    const hook = await succeededHook();
    try {
      const job = await stack.runJob(project.key, {
        type: 'image.generate',
        input: { prompt: 'a kingfisher on a branch', model: 'gpt-image-1' },
        webhook_url: hook.url,
      });
      expect(job.status).toBe('succeeded');
      const [artifact] = job.artifacts;
      const url = new URL(artifact.url);
      expect(url.origin).toBe(server.endpoint);
      expect(url.pathname).toBe(`/${server.bucket}/${await storageKeyOf(artifact.id)}`);
      expect(url.searchParams.get('X-Amz-Expires')).toBe(String(24 * 3600));
      expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);

      const res = await fetch(artifact.url);
      expect(res.status).toBe(200);
      // the same inert answer headers as the API's own route
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.headers.get('content-disposition')).toBe(`inline; filename="${artifact.id}.png"`);
      expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(artifact.sha256);

      // lists carry the same kind of link; the API's signed route still serves the bytes too
      const list = await stack.api.get('/v1/jobs?limit=5', { key: project.key });
      const listed = list.body.data.find((j: any) => j.id === job.id);
      expect(new URL(listed.artifacts[0].url).origin).toBe(server.endpoint);
      const direct = await fetch(`${stack.apiUrl}/v1/artifacts/${artifact.id}/content`, { headers: { authorization: `Bearer ${project.key}` } });
      expect(direct.status).toBe(200);

      // the webhook payload's link is presigned by the worker the same way
      const payload = await hook.body;
      const hooked = payload.data.artifacts[0];
      expect(hooked.id).toBe(artifact.id);
      expect(new URL(hooked.url).pathname).toBe(url.pathname);
      const viaHook = await fetch(hooked.url);
      expect(viaHook.status).toBe(200);
      expect(viaHook.headers.get('content-disposition')).toBe(`inline; filename="${artifact.id}.png"`);
      expect(sha256(Buffer.from(await viaHook.arrayBuffer()))).toBe(artifact.sha256);
    } finally {
      hook.close();
      stack.env['STORAGE_PUBLIC_LINKS'] = 'api';
    }
  });
});
