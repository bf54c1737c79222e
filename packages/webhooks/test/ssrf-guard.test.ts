import type { LookupAddress } from 'node:dns';
import {
  assertPublicUrl,
  classifyAddress,
  createGuardedDispatcher,
  guardedNetLookup,
  isPlainlyBadUrl,
  isPublicAddress,
  plainUrlProblem,
  sendWebhook,
  UnsafeUrlError,
  type HostLookup,
} from '../src';
import { startReceiver, type Receiver } from './helpers/receiver';

const resolvesTo =
  (...addresses: string[]): HostLookup =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['2002:c0a8:0101::1', 'private'],
    ['2002:7f00:0001::1', 'loopback'],
    ['::ffff:0:7f00:1', 'loopback'], // IPv4-translated
    ['::ffff:0:a00:1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'link-local'], // NAT64 to the metadata service
    ['64:ff9b:1::1', 'reserved'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'], // Teredo
    ['2001:db8::1', 'reserved'],
    ['3fff::1', 'reserved'],
    ['100::1', 'reserved'],
    ['2001:2::1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['198.19.255.1', 'reserved'],
    ['192.88.99.1', 'reserved'],
    ['fec0::1', 'reserved'],
    ['::127.0.0.1', 'reserved'],
    ['[::1]', 'loopback'],
    ['not-an-ip', 'invalid'],
  ])('%s is %s', (ip, range) => {
    expect(classifyAddress(ip)).toBe(range);
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each(['8.8.8.8', '93.184.216.34', '172.32.0.1', '172.15.255.255', '100.128.0.1', '169.253.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    '%s is public',
    (ip) => {
      expect(classifyAddress(ip)).toBeNull();
      expect(isPublicAddress(ip)).toBe(true);
    },
  );
});

describe('plainUrlProblem / isPlainlyBadUrl', () => {
  it.each([
    ['not a url', /not a valid URL/],
    ['ftp://example.com/x', /only http and https/],
    ['file:///etc/passwd', /only http and https/],
    ['javascript:alert(1)', /only http and https/],
    ['http://localhost:8080/hook', /localhost/],
    ['http://LOCALHOST./hook', /localhost/],
    ['http://api.localhost/hook', /api\.localhost/],
    ['http://127.0.0.1/hook', /loopback/],
    ['http://2130706433/hook', /127\.0\.0\.1.*loopback/],
    ['http://0x7f.1/hook', /loopback/],
    ['http://[::1]:80/hook', /loopback/],
    ['http://[::ffff:127.0.0.1]/hook', /loopback/],
    ['http://169.254.169.254/latest/meta-data', /link-local/],
    ['https://10.0.0.5/hook', /private/],
    ['http://0.0.0.0:8080/', /unspecified/],
  ])('%s is plainly bad', (url, message) => {
    expect(plainUrlProblem(url)).toMatch(message);
    expect(isPlainlyBadUrl(url)).toBe(true);
  });

  it.each(['https://example.org/hooks/genqueue', 'http://8.8.8.8/x', 'https://[2606:4700::1111]/x', new URL('https://hooks.example.com')])(
    '%s is not plainly bad (DNS decides later)',
    (url) => {
      expect(plainUrlProblem(url)).toBeNull();
      expect(isPlainlyBadUrl(url)).toBe(false);
    },
  );

  it('with allowPrivate only checks the scheme and the host', () => {
    expect(isPlainlyBadUrl('http://127.0.0.1:3000/hook', { allowPrivate: true })).toBe(false);
    expect(isPlainlyBadUrl('http://localhost:3000/hook', { allowPrivate: true })).toBe(false);
    expect(isPlainlyBadUrl('ftp://127.0.0.1/hook', { allowPrivate: true })).toBe(true);
  });
});

describe('assertPublicUrl', () => {
  const neverLookup: HostLookup = async (host) => {
    throw new Error(`lookup must not be called (${host})`);
  };

  it.each(['http://127.0.0.1/', 'http://[::1]/', 'http://169.254.169.254/latest/meta-data', 'http://192.168.0.10/', 'http://localhost/', 'http://x.localhost/'])(
    'refuses %s without DNS',
    async (url) => {
      await expect(assertPublicUrl(new URL(url), { allowPrivate: false, lookup: neverLookup })).rejects.toBeInstanceOf(UnsafeUrlError);
    },
  );

  it('refuses a host name that resolves to 127.0.0.1', async () => {
    const err = (await assertPublicUrl(new URL('https://hooks.example.test/x'), { allowPrivate: false, lookup: resolvesTo('127.0.0.1') }).catch(
      (e: unknown) => e,
    )) as UnsafeUrlError;
    expect(err).toBeInstanceOf(UnsafeUrlError);
    // tenants read the message; only the detail (for logs) says what the name resolved to
    expect(err.message).toBe('refused: non-public address');
    expect(err.detail).toBe('refused hooks.example.test (resolves to 127.0.0.1): loopback addresses are not allowed');
    expect(err).toMatchObject({ address: '127.0.0.1', range: 'loopback', code: 'ERR_UNSAFE_URL' });
  });

  it('refuses when ANY resolved address is not public', async () => {
    await expect(
      assertPublicUrl(new URL('https://hooks.example.test/'), { allowPrivate: false, lookup: resolvesTo('93.184.216.34', '10.0.0.7') }),
    ).rejects.toMatchObject({ address: '10.0.0.7', range: 'private' });
    await expect(
      assertPublicUrl(new URL('https://hooks.example.test/'), { allowPrivate: false, lookup: resolvesTo('2606:4700::1111', '::ffff:169.254.169.254') }),
    ).rejects.toMatchObject({ range: 'link-local' });
  });

  it('accepts a host whose addresses are all public', async () => {
    await expect(
      assertPublicUrl(new URL('https://hooks.example.test/'), { allowPrivate: false, lookup: resolvesTo('93.184.216.34', '2606:4700::1111') }),
    ).resolves.toBeUndefined();
    await expect(assertPublicUrl(new URL('https://8.8.8.8/'), { allowPrivate: false, lookup: neverLookup })).resolves.toBeUndefined();
  });

  it('refuses other schemes even when private addresses are allowed, and does no DNS then', async () => {
    await expect(assertPublicUrl(new URL('ftp://example.org/'), { allowPrivate: true })).rejects.toThrow(/only http and https/);
    await expect(assertPublicUrl(new URL('http://127.0.0.1/'), { allowPrivate: true, lookup: neverLookup })).resolves.toBeUndefined();
  });

  it('passes resolver failures through', async () => {
    const failing: HostLookup = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' });
    };
    await expect(assertPublicUrl(new URL('https://nowhere.test/'), { allowPrivate: false, lookup: failing })).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
  });
});

describe('guardedNetLookup', () => {
  const call = (lookup: ReturnType<typeof guardedNetLookup>, all: boolean) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }>((resolve) =>
      lookup('hooks.example.test', { all, family: 0 }, (err, address, family) => resolve({ err, address, family })),
    );

  it('answers in both shapes net.connect asks for', async () => {
    const lookup = guardedNetLookup({ allowPrivate: false, lookup: resolvesTo('93.184.216.34', '2606:4700::1111') });
    expect(await call(lookup, false)).toEqual({ err: null, address: '93.184.216.34', family: 4 });
    expect((await call(lookup, true)).address).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:4700::1111', family: 6 },
    ]);
  });

  it('answers an UnsafeUrlError for a private address', async () => {
    const lookup = guardedNetLookup({ allowPrivate: false, lookup: resolvesTo('127.0.0.1') });
    expect((await call(lookup, true)).err).toBeInstanceOf(UnsafeUrlError);
  });
});

describe('createGuardedDispatcher (checks at connect time)', () => {
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver((_req, res) => res.writeHead(200).end('ok'));
  });
  afterAll(async () => {
    await receiver.close();
  });

  const post = (url: string, dispatcher: ReturnType<typeof createGuardedDispatcher>) =>
    sendWebhook({ url, headers: { 'content-type': 'application/json' }, body: '{}', dispatcher, timeoutMs: 5000 });

  it('refuses literal loopback, metadata and IPv6 loopback addresses before connecting', async () => {
    const dispatcher = createGuardedDispatcher({ allowPrivate: false });
    try {
      const before = receiver.requests.length;
      for (const url of [`http://127.0.0.1:${receiver.port}/`, 'http://169.254.169.254/latest/meta-data', `http://[::1]:${receiver.port}/`]) {
        const result = await post(url, dispatcher);
        expect(result).toMatchObject({ statusCode: null, responseBody: null });
        expect(result.error).toBe('refused: non-public address');
      }
      expect(receiver.requests.length).toBe(before);
    } finally {
      await dispatcher.close();
    }
  });

  it('refuses localhost as the system resolver answers it when connecting', async () => {
    const dispatcher = createGuardedDispatcher({ allowPrivate: false });
    try {
      const before = receiver.requests.length;
      const result = await post(`http://localhost:${receiver.port}/`, dispatcher);
      expect(result.statusCode).toBeNull();
      expect(result.error).toBe('refused: non-public address');
      expect(receiver.requests.length).toBe(before);
    } finally {
      await dispatcher.close();
    }
  });

  it('refuses a host name resolving to 127.0.0.1 when connecting', async () => {
    const dispatcher = createGuardedDispatcher({ allowPrivate: false, lookup: resolvesTo('127.0.0.1') });
    try {
      const before = receiver.requests.length;
      const result = await post(`http://receiver.example.test:${receiver.port}/hook`, dispatcher);
      expect(result.statusCode).toBeNull();
      // what the name resolved to stays out of the recorded attempt (the tenant reads it)
      expect(result.error).toBe('refused: non-public address');
      expect(receiver.requests.length).toBe(before);
    } finally {
      await dispatcher.close();
    }
  });

  it('refuses the address DNS gives at connect time even if an earlier check saw a public one (rebinding)', async () => {
    let calls = 0;
    const refused: string[] = [];
    const rebinding: HostLookup = async () => {
      calls += 1;
      return [{ address: calls === 1 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
    };
    const url = `http://rebind.example.test:${receiver.port}/hook`;
    await expect(assertPublicUrl(new URL(url), { allowPrivate: false, lookup: rebinding })).resolves.toBeUndefined();

    const dispatcher = createGuardedDispatcher({ allowPrivate: false, lookup: rebinding, onRefused: (err) => refused.push(err.detail) });
    try {
      const before = receiver.requests.length;
      const result = await post(url, dispatcher);
      expect(result.error).toBe('refused: non-public address');
      expect(refused).toEqual(['refused rebind.example.test (resolves to 127.0.0.1): loopback addresses are not allowed']);
      expect(calls).toBe(2);
      expect(receiver.requests.length).toBe(before);
    } finally {
      await dispatcher.close();
    }
  });

  it('connects to private addresses when they are allowed', async () => {
    const dispatcher = createGuardedDispatcher({ allowPrivate: true, lookup: resolvesTo('127.0.0.1') });
    try {
      const viaName = await post(`http://receiver.example.test:${receiver.port}/named`, dispatcher);
      expect(viaName).toMatchObject({ statusCode: 200, error: null, responseBody: 'ok' });
      const viaIp = await post(`${receiver.origin}/literal`, dispatcher);
      expect(viaIp).toMatchObject({ statusCode: 200, error: null });
      expect(receiver.requests.map((r) => r.path)).toEqual(expect.arrayContaining(['/named', '/literal']));
      expect(receiver.requests.find((r) => r.path === '/named')?.headers['host']).toBe(`receiver.example.test:${receiver.port}`);
    } finally {
      await dispatcher.close();
    }
  });
});
