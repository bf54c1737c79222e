import type { Request, RequestHandler } from 'express';
import { gatewayAbort, invalidTokenMessage } from '../errors';
import type { ResolvedOptions } from '../options';
import type { SimulatorState } from '../state';
import { isChinese, requestIdOf } from './locals';

/** How the gateway sees a key. Only `valid` passes relay auth; read-only routes also accept expired and exhausted. */
export type KeyStatus = 'valid' | 'expired' | 'exhausted' | 'unknown';

/** `sk-expired` and `sk-exhausted` exist so tests can see how each route treats such tokens. */
const SPECIAL_KEYS: Record<string, KeyStatus> = { expired: 'expired', exhausted: 'exhausted' };

const stripBearer = (value: string): string => (/^bearer /i.test(value) ? value.slice(7).trim() : value.trim());

/**
 * The key a relay request carries, after the gateway's rewrites: `x-api-key` on `/v1/models`,
 * `?key=` then `x-goog-api-key` on the Gemini-friendly paths (NA `middleware/auth.go`).
 */
export function readRelayKey(req: Request): string {
  let authorization = req.get('authorization') ?? '';
  const path = req.path;
  if (path.includes('/v1/messages') || path.includes('/v1/models')) {
    const anthropicKey = req.get('x-api-key');
    if (anthropicKey) authorization = `Bearer ${anthropicKey}`;
  }
  if (path === '/v1/models' || path.startsWith('/v1beta/models') || path.startsWith('/v1beta/openai/models') || path.startsWith('/v1/models/')) {
    const queryKey = req.query['key'];
    if (typeof queryKey === 'string' && queryKey !== '') authorization = `Bearer ${queryKey}`;
    const googKey = req.get('x-goog-api-key');
    if (googKey) authorization = `Bearer ${googKey}`;
  }
  return stripBearer(authorization);
}

/** `sk-KEY-12` pins channel 12; the token itself is `KEY`. */
const tokenPart = (key: string): string => (key.startsWith('sk-') ? key.slice(3) : key).split('-')[0] ?? '';

export function classifyKey(rawKey: string, options: Pick<ResolvedOptions, 'apiKey'>): KeyStatus {
  if (!rawKey.startsWith('sk-') && options.apiKey === null) return 'unknown';
  const token = tokenPart(rawKey);
  if (token === '') return 'unknown';
  if (options.apiKey !== null) return token === tokenPart(options.apiKey) ? 'valid' : 'unknown';
  return SPECIAL_KEYS[token] ?? 'valid';
}

/** Relay auth: every failure is the same 401 E1, as the gateway cannot tell them apart. */
export function relayAuth(state: SimulatorState): RequestHandler {
  return (req, res, next) => {
    if (classifyKey(readRelayKey(req), state.options) === 'valid') return next();
    res.status(401).json(gatewayAbort(invalidTokenMessage(isChinese(req)), requestIdOf(res)));
  };
}
