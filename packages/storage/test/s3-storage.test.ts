import { randomBytes } from 'node:crypto';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { presignGetUrl, S3Storage, storageFromSettings } from '../src';
import { S3RVER_CREDENTIALS, startS3rver, type TestS3Server } from './s3rver-server';
import { storageContract } from './storage-contract';

describe('S3Storage (against s3rver)', () => {
  let server: TestS3Server;
  let storage: S3Storage;
  /** the S3 operations the client sent, in order */
  const sent: string[] = [];

  beforeAll(async () => {
    server = await startS3rver();
    storage = new S3Storage({ bucket: server.bucket, region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
    storage.client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
  });
  afterAll(async () => {
    storage?.destroy();
    await server?.stop();
  });

  async function listKeys(): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await storage.client.send(new ListObjectsV2Command({ Bucket: server.bucket, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
    return keys;
  }

  storageContract(() => ({ storage, listKeys }), {
    afterLargePut: () => {
      // 20 MB in 5 MiB parts: one create, four or more parts, one complete; no single PUT
      expect(sent.filter((c) => c === 'CreateMultipartUploadCommand').length).toBeGreaterThanOrEqual(1);
      expect(sent.filter((c) => c === 'UploadPartCommand').length).toBeGreaterThanOrEqual(4);
      expect(sent).toContain('CompleteMultipartUploadCommand');
      sent.length = 0;
    },
    afterRefusedLargePut: () => {
      // parts went up before the limit was crossed; the upload was abandoned, never completed
      expect(sent).toContain('UploadPartCommand');
      expect(sent).toContain('AbortMultipartUploadCommand');
      expect(sent).not.toContain('CompleteMultipartUploadCommand');
      sent.length = 0;
    },
  });

  beforeEach(() => {
    sent.length = 0;
  });

  test('a presigned URL serves the object with the asked headers, ranges included', async () => {
    const key = `presign/${randomBytes(4).toString('hex')}/art_x.png`;
    const data = randomBytes(4_000);
    await storage.put(key, data);
    const url = await storage.presignedUrl(key, 3600, { contentType: 'image/png', disposition: 'inline; filename="art_x.png"' });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-disposition')).toBe('inline; filename="art_x.png"');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(data);
    const part = await fetch(url, { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(data.subarray(10, 20));
  });

  test('presigned URLs follow SigV4: the worked example of the S3 documentation', () => {
    // s3rver does not check SigV4 signatures, so the signing is held against AWS's published example
    // (sigv4-query-string-auth: examplebucket/test.txt, 2013-05-24, 86400 s)
    const url = presignGetUrl({
      bucket: 'examplebucket',
      key: 'test.txt',
      region: 'us-east-1',
      endpoint: 'https://s3.amazonaws.com',
      forcePathStyle: false,
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      expiresInSec: 86_400,
      now: new Date('2013-05-24T00:00:00Z'),
    });
    expect(url).toBe(
      'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
        '&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z' +
        '&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    );
  });

  test('storageFromSettings builds the configured driver', () => {
    const base = { STORAGE_DIR: '/tmp/x', S3_REGION: 'us-east-1', S3_FORCE_PATH_STYLE: true };
    expect(storageFromSettings({ ...base, STORAGE_DRIVER: 'local' }).constructor.name).toBe('LocalDirectoryStorage');
    const s3 = storageFromSettings({ ...base, STORAGE_DRIVER: 's3', S3_BUCKET: 'b', S3_ENDPOINT: server.endpoint, S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER' });
    expect(s3).toBeInstanceOf(S3Storage);
    (s3 as S3Storage).destroy();
    expect(() => storageFromSettings({ ...base, STORAGE_DRIVER: 's3' })).toThrow(/S3_BUCKET/);
  });
});
