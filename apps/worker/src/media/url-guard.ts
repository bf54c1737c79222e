import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * SSRF guard for media the worker fetches (inputs given as URLs, links a model printed): unless
 * private URLs are allowed, only public addresses may be fetched. The gateway's own origin is
 * always allowed: result links may live there, and it may well sit on a private network.
 * Limitation: the name is resolved here and again by the HTTP client, so a rebinding DNS server
 * can still slip through; closing that needs the check inside the client's connect step.
 */
const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv6');
}

export class UrlNotAllowedError extends Error {
  override readonly name = 'UrlNotAllowedError';
}

export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return PRIVATE.check(mapped, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export type UrlGuard = (url: URL) => Promise<void>;

export function publicUrlGuard(gatewayOrigin: string, resolve: (host: string) => Promise<string[]> = resolveAll): UrlGuard {
  return async (url) => {
    if (url.origin === gatewayOrigin) return;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const addresses = isIP(host) ? [host] : await resolve(host);
    if (addresses.length === 0) throw new UrlNotAllowedError(`${host} does not resolve`);
    const blocked = addresses.find(isPrivateAddress);
    if (blocked) throw new UrlNotAllowedError(`${host} is a private address (${blocked}); set ALLOW_PRIVATE_URLS=true to allow it`);
  };
}

async function resolveAll(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
}
