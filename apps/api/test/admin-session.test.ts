import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { TestStack } from '@genqueue/testing';
import { expectError, ISO_TIME, sql, useStack } from './helpers';

const SESSION_HOURS = 2;

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: any; text: string };

/**
 * A JSON request sent from a chosen loopback address (the whole 127/8 is loopback on Linux), so
 * the per-address sign-in limit of one test does not lock out the others.
 */
function requestFrom(localAddress: string, url: string, method: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      { method, localAddress, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Signing in, the session cookie, CSRF, and everything that ends a session (admin-api.md, Signing in). */
describe('admin session', () => {
  let stack: TestStack;
  useStack(
    (started) => {
      stack = started;
    },
    { withoutWorker: true, env: { ADMIN_SESSION_HOURS: String(SESSION_HOURS) } },
  );

  type Session = { cookie: string; csrf: string; setCookie: string; body: any };

  async function signIn(key = stack.adminKey): Promise<Session> {
    const res = await fetch(`${stack.apiUrl}/admin/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key }) });
    const body: any = await res.json();
    if (res.status !== 200) throw new Error(`sign in: ${res.status} ${JSON.stringify(body)}`);
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('gq_admin_session=')) ?? '';
    return { cookie: setCookie.split(';')[0] ?? '', csrf: body.csrf_token, setCookie, body };
  }

  const withCookie = (session: Pick<Session, 'cookie'>, extra: Record<string, string> = {}) => ({ headers: { cookie: session.cookie, ...extra } });
  const projectNames = async () => (await stack.api.get('/admin/v1/projects', { key: stack.adminKey })).body.data.map((p: any) => p.name);

  it('signs in with the admin key: the session, and a cookie that is HttpOnly, SameSite=Strict, Path=/admin and lives ADMIN_SESSION_HOURS', async () => {
    const session = await signIn();
    expect(session.body).toEqual({ object: 'admin_session', expires_at: expect.stringMatching(ISO_TIME), csrf_token: expect.any(String) });
    const expiresInMs = new Date(session.body.expires_at).getTime() - Date.now();
    expect(expiresInMs).toBeGreaterThan(SESSION_HOURS * 3_600_000 - 60_000);
    expect(expiresInMs).toBeLessThanOrEqual(SESSION_HOURS * 3_600_000);
    const flags = session.setCookie.split(';').map((part) => part.trim());
    expect(flags).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/admin', `Max-Age=${SESSION_HOURS * 3600}`]));
    expect(flags).not.toContain('Secure'); // PUBLIC_BASE_URL is http here
    // the key never travels back to the browser, neither in the cookie nor in the body
    expect(session.setCookie).not.toContain(stack.adminKey);
    expect(JSON.stringify(session.body)).not.toContain(stack.adminKey);
    // only the CSRF token's hash is stored
    const [row] = await sql<{ csrf_hash: string }>('SELECT csrf_hash FROM admin_sessions WHERE id = $1', [session.cookie.split('=')[1]!.split('.')[0]]);
    expect(row?.csrf_hash).toBe(createHash('sha256').update(session.csrf).digest('hex'));

    const current = await stack.api.get('/admin/session', withCookie(session));
    expect(current.status).toBe(200);
    expect(current.body).toEqual(session.body);
    expect((await stack.api.get('/admin/v1/projects', withCookie(session))).status).toBe(200);
  });

  it('answers 401 to GET /admin/session without a cookie, and to /admin/v1 with neither key nor cookie', async () => {
    expectError(await stack.api.get('/admin/session'), 401, 'unauthorized');
    expectError(await stack.api.get('/admin/v1/projects'), 401, 'unauthorized');
  });

  it('answers 400 to a sign-in without a key, and 401 to a project key, without opening a session', async () => {
    const [before] = await sql<{ n: string }>('SELECT count(*)::text AS n FROM admin_sessions');
    const bad = await requestFrom('127.0.0.5', `${stack.apiUrl}/admin/session`, 'POST', { secret: 'x' });
    expect(expectError(bad, 400, 'invalid_request').details.map((d) => d.path)).toEqual(expect.arrayContaining(['key']));
    const project = await stack.createProject();
    const projectKey = await requestFrom('127.0.0.5', `${stack.apiUrl}/admin/session`, 'POST', { key: project.key });
    expect(expectError(projectKey, 401, 'unauthorized').message).toBe('That admin key is not valid');
    const [after] = await sql<{ n: string }>('SELECT count(*)::text AS n FROM admin_sessions');
    expect(after?.n).toBe(before?.n);
  });

  it('answers 401 to wrong keys, then 429 with Retry-After after 5 from one address; other addresses still sign in', async () => {
    const url = `${stack.apiUrl}/admin/session`;
    for (let i = 0; i < 5; i += 1) {
      const wrong = await requestFrom('127.0.0.2', url, 'POST', { key: `gqa_${randomBytes(24).toString('base64url')}` });
      expect(expectError(wrong, 401, 'unauthorized').message).toBe('That admin key is not valid');
      expect(wrong.headers['set-cookie']).toBeUndefined();
    }
    // locked out, even with the right key
    const locked = await requestFrom('127.0.0.2', url, 'POST', { key: stack.adminKey });
    expectError(locked, 429, 'rate_limited');
    const retryAfter = Number(locked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(locked.headers['set-cookie']).toBeUndefined();
    // another address is not affected
    expect((await requestFrom('127.0.0.3', url, 'POST', { key: stack.adminKey })).status).toBe(200);
  });

  it('needs X-CSRF-Token on a POST made with the cookie (403 and nothing stored without or with a wrong one), not with the bearer key', async () => {
    const session = await signIn();
    const name = () => `csrf-${randomBytes(5).toString('hex')}`;
    const noToken = name();
    const wrongToken = name();
    expectError(await stack.api.post('/admin/v1/projects', { body: { name: noToken }, ...withCookie(session) }), 403, 'forbidden');
    expectError(await stack.api.post('/admin/v1/projects', { body: { name: wrongToken }, ...withCookie(session, { 'x-csrf-token': 'not-the-token' }) }), 403, 'forbidden');
    const names = await projectNames();
    expect(names).not.toContain(noToken);
    expect(names).not.toContain(wrongToken);

    const withToken = await stack.api.post('/admin/v1/projects', { body: { name: name() }, ...withCookie(session, { 'x-csrf-token': session.csrf }) });
    expect(withToken.status).toBe(201);
    const withBearer = await stack.api.post('/admin/v1/projects', { key: stack.adminKey, body: { name: name() } });
    expect(withBearer.status).toBe(201);
    // another session's token does not fit this one
    const other = await signIn();
    expect(other.csrf).not.toBe(session.csrf);
    expectError(await stack.api.post('/admin/v1/projects', { body: { name: name() }, ...withCookie(session, { 'x-csrf-token': other.csrf }) }), 403, 'forbidden');
  });

  it('signs out server side: 204, the cookie cleared, and the old cookie answers 401 afterwards', async () => {
    const session = await signIn();
    const out = await fetch(`${stack.apiUrl}/admin/session`, { method: 'DELETE', headers: { cookie: session.cookie } });
    expect(out.status).toBe(204);
    const cleared = out.headers.getSetCookie().find((c) => c.startsWith('gq_admin_session=')) ?? '';
    expect(cleared).toMatch(/^gq_admin_session=;/);
    expect(cleared).toMatch(/Path=\/admin/);
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);
    expectError(await stack.api.get('/admin/session', withCookie(session)), 401, 'unauthorized');
    expectError(await stack.api.get('/admin/v1/projects', withCookie(session)), 401, 'unauthorized');
  });

  it('ends the sessions of an admin key when the key is revoked', async () => {
    const key = `gqa_${randomBytes(24).toString('base64url')}`;
    const keyId = `key_${randomBytes(13).toString('hex').toUpperCase().slice(0, 26)}`;
    await sql(`INSERT INTO api_keys (id, kind, name, prefix, key_hash) VALUES ($1, 'admin', 'second admin', $2, $3)`, [
      keyId,
      key.slice(0, 12),
      createHash('sha256').update(key).digest('hex'),
    ]);
    const session = await signIn(key);
    expect((await stack.api.get('/admin/v1/projects', withCookie(session))).status).toBe(200);
    expect((await stack.api.delete(`/admin/v1/api-keys/${keyId}`, { key: stack.adminKey })).status).toBe(204);
    expectError(await stack.api.get('/admin/v1/projects', withCookie(session)), 401, 'unauthorized');
    expectError(await stack.api.get('/admin/session', withCookie(session)), 401, 'unauthorized');
    // sessions of the other admin key live on
    const mine = await signIn();
    expect((await stack.api.get('/admin/v1/projects', withCookie(mine))).status).toBe(200);
  });

  it('refuses a tampered cookie: another session id under the same signature, or a changed signature', async () => {
    const a = await signIn();
    const b = await signIn();
    const [, aValue] = a.cookie.split('=') as [string, string];
    const [, bValue] = b.cookie.split('=') as [string, string];
    const [aId, aSig] = aValue.split('.') as [string, string];
    const [bId] = bValue.split('.') as [string, string];
    const swapped = { cookie: `gq_admin_session=${bId}.${aSig}` };
    const flipped = { cookie: `gq_admin_session=${aId}.${aSig.slice(0, -1)}${aSig.endsWith('A') ? 'B' : 'A'}` };
    const bare = { cookie: `gq_admin_session=${aId}` };
    for (const forged of [swapped, flipped, bare]) {
      expectError(await stack.api.get('/admin/v1/projects', withCookie(forged)), 401, 'unauthorized');
      expectError(await stack.api.get('/admin/session', withCookie(forged)), 401, 'unauthorized');
    }
    expect((await stack.api.get('/admin/v1/projects', withCookie(a))).status).toBe(200);
  });

  it('refuses an expired session', async () => {
    const session = await signIn();
    const id = session.cookie.split('=')[1]!.split('.')[0];
    await sql(`UPDATE admin_sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [id]);
    expectError(await stack.api.get('/admin/v1/projects', withCookie(session)), 401, 'unauthorized');
    expectError(await stack.api.get('/admin/session', withCookie(session)), 401, 'unauthorized');
  });

  it('keeps the bearer rules on /admin/v1: a project key is 403, even alongside a valid session cookie', async () => {
    const session = await signIn();
    const project = await stack.createProject();
    expectError(await stack.api.get('/admin/v1/projects', { key: project.key, ...withCookie(session) }), 403, 'forbidden');
    expectError(await stack.api.get('/admin/v1/projects', { key: `gq_${randomBytes(24).toString('base64url')}` }), 401, 'unauthorized');
  });
});

describe('admin sign-in while Redis is unreachable', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // started directly (not through useStack): the other stack of this file owns the helpers' database.
    // Port 1 refuses connections at once: Redis is down for this API's whole life.
    stack = await TestStack.start({ withoutWorker: true, env: { REDIS_URL: 'redis://127.0.0.1:1' } });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('fails closed: 503 with Retry-After for any key (the wrong-key counter cannot be read); the bearer key still works', async () => {
    for (const key of [stack.adminKey, `gqa_${randomBytes(24).toString('base64url')}`]) {
      const res = await stack.api.post('/admin/session', { body: { key } });
      expectError(res, 503, 'unavailable');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    expect((await stack.api.get('/admin/v1/projects', { key: stack.adminKey })).status).toBe(200);
  });
});
