import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';

// Outbound URLs chosen by clients (webhook URLs, media URLs) must not reach the inside of our
// network: loopback, private ranges, the cloud metadata service (169.254.169.254), and so on.
// The name is checked when the URL is accepted, and every resolved address again when a
// connection is opened, so DNS rebinding between check and use gets nowhere.

/** Why an address is not public; null from `classifyAddress` means public. */
export type AddressRange =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared'
  | 'unique-local'
  | 'multicast'
  | 'reserved'
  | 'invalid';

export type { LookupAddress };
/** Resolves a host name to every address (as `dns.lookup(host, { all: true })`); injectable for tests. */
export type HostLookup = (hostname: string) => Promise<LookupAddress[]>;

export type GuardOptions = {
  /** `ALLOW_PRIVATE_URLS`: when true, only the scheme and the host's presence are checked. */
  allowPrivate: boolean;
  /** Defaults to the system resolver. */
  lookup?: HostLookup;
  /** Told of every refusal at connect time, with the detail (`err.detail`) a log may keep. */
  onRefused?: (err: UnsafeUrlError) => void;
};

/** What a tenant is told when an address is refused: never what a name resolved to inside our network. */
export const NON_PUBLIC_ADDRESS_MESSAGE = 'refused: non-public address';

export class UnsafeUrlError extends Error {
  override readonly name = 'UnsafeUrlError';
  readonly code = 'ERR_UNSAFE_URL';
  constructor(
    /** shown to tenants (delivery attempts, job errors) */
    message: string,
    /** the refused address and its range, when an address was the reason */
    readonly address?: string,
    readonly range?: AddressRange,
    /** for logs only: the host, what it resolved to and the range */
    readonly detail: string = message,
  ) {
    super(message);
  }
}

/** The UnsafeUrlError in `err` or its causes (undici and our own wrappers keep it as a cause). */
export function findUnsafeUrlError(err: unknown): UnsafeUrlError | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth += 1) {
    if (e instanceof UnsafeUrlError) return e;
  }
  return undefined;
}

export const systemLookup: HostLookup = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

// ---------------------------------------------------------------------------------------------
// Address ranges

type V4Range = readonly [base: string, bits: number, range: AddressRange];

const V4_RANGES: readonly V4Range[] = [
  ['0.0.0.0', 8, 'unspecified'], // "this network"; 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared'], // carrier-grade NAT
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'], // includes the metadata service 169.254.169.254
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments
  ['192.0.2.0', 24, 'reserved'], // documentation (TEST-NET-1)
  ['192.88.99.0', 24, 'reserved'], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'], // benchmarking
  ['198.51.100.0', 24, 'reserved'], // documentation (TEST-NET-2)
  ['203.0.113.0', 24, 'reserved'], // documentation (TEST-NET-3)
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'], // includes the broadcast address 255.255.255.255
];

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

const V4_TABLE = V4_RANGES.map(([base, bits, range]) => {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { net: (v4ToInt(base) & mask) >>> 0, mask, range };
});

function classifyV4(value: number): AddressRange | null {
  for (const { net, mask, range } of V4_TABLE) {
    if (((value & mask) >>> 0) === net) return range;
  }
  return null;
}

/** The 128-bit value of an IPv6 address (zone id dropped, embedded dotted IPv4 tail allowed). */
function v6ToBigInt(ip: string): bigint {
  const address = ip.split('%')[0] ?? '';
  const [head = '', tail] = address.split('::');
  const groupsOf = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const v4 = v4ToInt(piece);
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const left = groupsOf(head);
  const right = tail === undefined ? [] : groupsOf(tail);
  const groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(group), 0n);
}

function v6Prefix(text: string, bits: number): { net: bigint; bits: bigint } {
  return { net: v6ToBigInt(text) >> BigInt(128 - bits), bits: BigInt(bits) };
}

const inV6 = (value: bigint, prefix: { net: bigint; bits: bigint }): boolean => value >> (128n - prefix.bits) === prefix.net;

const V6_ZERO_96 = v6Prefix('::', 96); // ::/96: unspecified, loopback, deprecated IPv4-compatible
const V6_MAPPED = v6Prefix('::ffff:0:0', 96); // IPv4-mapped
const V6_TRANSLATED = v6Prefix('::ffff:0:0:0', 96); // IPv4-translated (SIIT)
const V6_NAT64 = v6Prefix('64:ff9b::', 96); // well-known NAT64 prefix: reaches the embedded IPv4
const V6_6TO4 = v6Prefix('2002::', 16); // 6to4: embeds an IPv4 in bits 16..47

const V6_RANGES: readonly { prefix: { net: bigint; bits: bigint }; range: AddressRange }[] = [
  { prefix: v6Prefix('64:ff9b:1::', 48), range: 'reserved' }, // local-use NAT64
  { prefix: v6Prefix('100::', 64), range: 'reserved' }, // discard-only
  { prefix: v6Prefix('2001::', 32), range: 'reserved' }, // Teredo: tunnels to an address we cannot check
  { prefix: v6Prefix('2001:2::', 48), range: 'reserved' }, // benchmarking
  { prefix: v6Prefix('2001:10::', 28), range: 'reserved' }, // ORCHID (deprecated)
  { prefix: v6Prefix('2001:20::', 28), range: 'reserved' }, // ORCHIDv2
  { prefix: v6Prefix('2001:db8::', 32), range: 'reserved' }, // documentation
  { prefix: v6Prefix('3fff::', 20), range: 'reserved' }, // documentation (RFC 9637)
  { prefix: v6Prefix('5f00::', 16), range: 'reserved' }, // SRv6 SIDs
  { prefix: v6Prefix('fc00::', 7), range: 'unique-local' },
  { prefix: v6Prefix('fe80::', 10), range: 'link-local' },
  { prefix: v6Prefix('fec0::', 10), range: 'reserved' }, // deprecated site-local
  { prefix: v6Prefix('ff00::', 8), range: 'multicast' },
];

const low32 = (value: bigint): number => Number(value & 0xffffffffn);

function classifyV6(value: bigint): AddressRange | null {
  if (inV6(value, V6_ZERO_96)) {
    if (value === 0n) return 'unspecified';
    if (value === 1n) return 'loopback';
    return 'reserved';
  }
  if (inV6(value, V6_MAPPED) || inV6(value, V6_TRANSLATED) || inV6(value, V6_NAT64)) return classifyV4(low32(value));
  if (inV6(value, V6_6TO4)) return classifyV4(Number((value >> 80n) & 0xffffffffn));
  for (const { prefix, range } of V6_RANGES) {
    if (inV6(value, prefix)) return range;
  }
  return null;
}

/** The non-public range `ip` falls in, or null when it is a public address. */
export function classifyAddress(ip: string): AddressRange | null {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  switch (isIP(bare.split('%')[0] ?? '')) {
    case 4:
      return classifyV4(v4ToInt(bare));
    case 6:
      return classifyV6(v6ToBigInt(bare));
    default:
      return 'invalid';
  }
}

export function isPublicAddress(ip: string): boolean {
  return classifyAddress(ip) === null;
}

// ---------------------------------------------------------------------------------------------
// URL checks

/** The host of a URL as a resolver or `isIP` wants it: no IPv6 brackets, no trailing dot, lower case. */
function hostOf(url: URL): string {
  let host = url.hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

const isLocalhostName = (host: string): boolean => host === 'localhost' || host.endsWith('.localhost');

function refusedAddress(host: string, address: string, range: AddressRange): UnsafeUrlError {
  const what = host === address ? address : `${host} (resolves to ${address})`;
  return new UnsafeUrlError(NON_PUBLIC_ADDRESS_MESSAGE, address, range, `refused ${what}: ${range} addresses are not allowed`);
}

/**
 * Without DNS: why `url` can never be allowed, or null. Catches what a submission can be refused
 * for at once (400): not http(s), no host, and unless `allowPrivate`, `localhost` names and
 * literal non-public IPs. A null answer does not make the URL safe: `assertPublicUrl` and the
 * guarded dispatcher still check what the name resolves to.
 */
export function plainUrlProblem(url: string | URL, options: { allowPrivate?: boolean } = {}): string | null {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return 'not a valid URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `only http and https URLs are allowed, not ${parsed.protocol.replace(/:$/, '')}`;
  }
  const host = hostOf(parsed);
  if (host === '') return 'the URL has no host';
  if (options.allowPrivate) return null;
  if (isLocalhostName(host)) return `${host} is not allowed: it is the local host`;
  if (isIP(host)) {
    const range = classifyAddress(host);
    if (range) return `${host} is not allowed: ${range} addresses are refused`;
  }
  return null;
}

export function isPlainlyBadUrl(url: string | URL, options: { allowPrivate?: boolean } = {}): boolean {
  return plainUrlProblem(url, options) !== null;
}

/**
 * Refuses (UnsafeUrlError) a URL that is not http(s), or, unless `allowPrivate`, whose host is a
 * `localhost` name or resolves to ANY non-public address. Resolver failures (ENOTFOUND, …) are
 * rethrown as they are. This is a check at one moment: connect through `createGuardedDispatcher`
 * so the addresses actually used are checked too.
 */
export async function assertPublicUrl(url: URL, options: GuardOptions): Promise<void> {
  const problem = plainUrlProblem(url, { allowPrivate: true });
  if (problem) throw new UnsafeUrlError(`refused ${url.protocol}//${url.host}: ${problem}`);
  if (options.allowPrivate) return;
  const host = hostOf(url);
  if (isLocalhostName(host)) {
    throw new UnsafeUrlError(NON_PUBLIC_ADDRESS_MESSAGE, undefined, 'loopback', `refused ${host}: loopback addresses are not allowed`);
  }
  if (isIP(host)) {
    const range = classifyAddress(host);
    if (range) throw refusedAddress(host, host, range);
    return;
  }
  const addresses = await (options.lookup ?? systemLookup)(host);
  checkAddresses(host, addresses);
}

function checkAddresses(host: string, addresses: readonly LookupAddress[]): void {
  for (const { address } of addresses) {
    const range = classifyAddress(address);
    if (range) throw refusedAddress(host, address, range);
  }
}

// ---------------------------------------------------------------------------------------------
// Connect-time guard

/** A `net.connect` lookup that resolves with `resolve` and refuses the host if any address is not public. */
export function guardedNetLookup(options: GuardOptions): LookupFunction {
  const resolve = options.lookup ?? systemLookup;
  return (hostname, lookupOptions, callback) => {
    resolve(hostname).then(
      (all) => {
        const family = lookupOptions.family === 'IPv4' ? 4 : lookupOptions.family === 'IPv6' ? 6 : lookupOptions.family;
        const addresses = family === 4 || family === 6 ? all.filter((a) => a.family === family) : all;
        const first = addresses[0];
        if (!first) {
          const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          err.code = 'ENOTFOUND';
          return callback(err, '');
        }
        if (!options.allowPrivate) {
          try {
            checkAddresses(hostname, all);
          } catch (err) {
            options.onRefused?.(err as UnsafeUrlError);
            return callback(err as UnsafeUrlError, '');
          }
        }
        if (lookupOptions.all) return callback(null, addresses);
        return callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}

export type GuardedDispatcherOptions = GuardOptions & {
  /** TCP + TLS connect timeout; undici's default is 10 s. */
  connectTimeoutMs?: number;
};

/**
 * An undici Agent that checks every address at connect time: host names go through a lookup that
 * refuses non-public addresses, literal IPs are checked before connecting. Connections it opens
 * only ever reach addresses that passed, whatever DNS answered earlier. Errors are
 * UnsafeUrlError. Close it (`await agent.close()`) when the process stops.
 */
export function createGuardedDispatcher(options: GuardedDispatcherOptions): Agent {
  const base = buildConnector({
    lookup: guardedNetLookup(options),
    ...(options.connectTimeoutMs !== undefined ? { timeout: options.connectTimeoutMs } : {}),
  });
  const connect: buildConnector.connector = (connectOptions, callback) => {
    // net.connect skips the lookup for a literal IP, so literal IPs are checked here.
    const host = connectOptions.hostname;
    if (!options.allowPrivate && isIP(host)) {
      const range = classifyAddress(host);
      if (range) {
        const refused = refusedAddress(host, host, range);
        options.onRefused?.(refused);
        return callback(refused, null);
      }
    }
    return base(connectOptions, callback);
  };
  return new Agent({ connect });
}
