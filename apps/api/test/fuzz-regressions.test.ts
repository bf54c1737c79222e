import { Agent, fetch as undiciFetch } from 'undici';
import type { TestStack } from '@genqueue/testing';
import { expectError, useStack } from './helpers';

/** Holes the fuzz suite found, each pinned by a focused test. */
describe('fuzz findings', () => {
  let stack: TestStack;
  useStack(
    (ready) => {
      stack = ready;
    },
    { withoutWorker: true },
  );

  it('refuses a NUL (%00) in a path id with 400, not a 500 from Postgres', async () => {
    // an admin route that looks the id up as it is (was: Postgres 22021 "invalid byte sequence", 500)
    const error = expectError(await stack.api.delete('/admin/v1/api-keys/key_%00x', { key: stack.adminKey }), 400, 'invalid_request');
    expect(error.details).toEqual([{ path: '(path)', message: expect.stringContaining('NUL') }]);
    const project = await stack.createProject();
    expectError(await stack.api.get('/v1/webhook-deliveries/whd_%00', { key: project.key }), 400, 'invalid_request');
  });

  it('answers a request line over Node’s header limit with the contract’s error shape (431), not an empty body', async () => {
    const res = await stack.api.get(`/v1/jobs/${'x'.repeat(20_000)}`);
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual({ error: { code: 'invalid_request', message: expect.any(String), details: [] } });
  });

  it('keeps a keep-alive connection usable after an upload refused before its body was read', async () => {
    // one connection, so the second request must ride the first one's socket
    const agent = new Agent({ connections: 1 });
    try {
      const project = await stack.createProject();
      const body = Buffer.concat([
        Buffer.from('--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--b\r\nnot a part header\r\n\r\n'),
        Buffer.alloc(2 * 1024 * 1024, 0x61),
        Buffer.from('\r\n--b--\r\n'),
      ]);
      const refused = await undiciFetch(`${stack.apiUrl}/v1/files`, {
        method: 'POST',
        headers: { authorization: `Bearer ${project.key}`, 'content-type': 'multipart/form-data; boundary=b' },
        body,
        dispatcher: agent,
      });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as any).error.code).toBe('invalid_request');
      // Before: the unread rest of the upload sat on the socket and this request hung until the
      // server's keep-alive timeout reset the connection (about 6 s). The bound only catches a hang.
      const next = await undiciFetch(`${stack.apiUrl}/healthz`, { dispatcher: agent, signal: AbortSignal.timeout(3_000) });
      expect(next.status).toBe(200);
    } finally {
      await agent.close();
    }
  });
});
