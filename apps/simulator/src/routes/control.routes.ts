import { Router, type Response } from 'express';
import { asArray, asObject, jsonBody, type JsonObject } from '../body';
import { FaultInputError, type Fault, type FaultKind } from '../faults';
import { sha256Hex } from '../hash';
import { renderPng } from '../media/png';
import { mediaSeed } from '../media/seeds';
import { ROUTE_KEYS, type RouteKey } from '../route-keys';
import type { SimulatorState } from '../state';

/**
 * `/_sim/*`: the control surface tests use from another process. No auth, not counted.
 * Wire format is snake_case like the rest of genqueue.
 */
export function controlRoutes(state: SimulatorState): Router {
  const router = Router();
  router.use('/_sim', jsonBody);

  router.post('/_sim/faults', (req, res) => {
    const body = asObject(req.body);
    try {
      const fault = state.faults.add({
        route: String(body['route'] ?? ''),
        kind: body['kind'] as FaultKind,
        times: optionalNumber(body['times']),
        delayMs: optionalNumber(body['delay_ms']),
        variant: body['variant'] === 'panic' ? 'panic' : 'upstream',
        status: optionalNumber(body['status']),
      });
      res.status(201).json(presentFault(fault));
    } catch (err) {
      if (err instanceof FaultInputError) return badRequest(res, err.message);
      throw err;
    }
  });
  router.get('/_sim/faults', (_req, res) => {
    res.json({ faults: state.faults.list().map(presentFault) });
  });
  router.delete('/_sim/faults', (req, res) => {
    const route = typeof req.query['route'] === 'string' ? req.query['route'] : undefined;
    res.json({ cleared: state.faults.clear(route) });
  });

  router.get('/_sim/counters', (_req, res) => {
    res.json(state.counters.snapshot());
  });
  router.get('/_sim/uploads', (_req, res) => {
    res.json({
      uploads: state.uploads.map((u) => ({
        route: u.routeKey,
        request_id: u.requestId,
        at_ms: u.atMs,
        fields: u.fields,
        files: u.files.map((f) => ({ field: f.field, filename: f.filename, content_type: f.contentType, bytes: f.bytes, sha256: f.sha256 })),
      })),
    });
  });
  router.get('/_sim/state', (_req, res) => {
    res.json(presentState(state));
  });
  router.post('/_sim/reset', (_req, res) => {
    state.reset();
    res.json(presentState(state));
  });

  router.get('/_sim/clock', (_req, res) => {
    res.json(presentClock(state));
  });
  router.post('/_sim/clock', (req, res) => {
    const advanceMs = optionalNumber(asObject(req.body)['advance_ms']);
    if (advanceMs === undefined || advanceMs < 0) return badRequest(res, 'advance_ms must be a number >= 0');
    state.clock.advance(advanceMs);
    res.json(presentClock(state));
  });

  router.get('/_sim/config', (_req, res) => {
    res.json(presentConfig(state));
  });
  router.post('/_sim/config', (req, res) => {
    const problem = patchConfig(state, asObject(req.body));
    if (problem) return badRequest(res, problem);
    res.json(presentConfig(state));
  });

  /** The image a seed renders to, so other processes can compute expected hashes. */
  router.get('/_sim/media/expected', (req, res) => {
    const q = (name: string): string => (typeof req.query[name] === 'string' ? (req.query[name] as string) : '');
    const inputs = q('inputs') === '' ? [] : q('inputs').split(',');
    const seed = mediaSeed(q('model'), q('prompt'), Number(q('index') || 0), inputs);
    const png = renderPng(seed, state.options.imagePx);
    res.json({ seed, sha256: sha256Hex(png), bytes: png.length });
  });

  return router;
}

const optionalNumber = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

const badRequest = (res: Response, message: string): void => {
  res.status(400).json({ error: { message, type: 'invalid_request_error' } });
};

const presentFault = (f: Fault) => ({
  id: f.id,
  route: f.route,
  kind: f.kind,
  remaining: f.remaining,
  delay_ms: f.delayMs,
  variant: f.variant,
  status: f.status,
});

const presentClock = (state: SimulatorState) => ({
  now_ms: state.clock.now(),
  fast_time: state.clock.isFastTime,
  time_factor: state.clock.timeFactor,
});

const presentState = (state: SimulatorState) => ({
  ...presentClock(state),
  balance: { granted: state.balance.granted, used: state.balance.used, available: state.balance.available },
  blobs: state.blobs.size,
  uploads: state.uploads.length,
  faults: state.faults.list().map(presentFault),
});

const presentConfig = (state: SimulatorState) => {
  const o = state.options;
  return {
    route_keys: ROUTE_KEYS,
    requests_per_minute: o.requestsPerMinute,
    banned_words: o.bannedWords,
    usage_token_limit: o.usageTokenLimit && { max: o.usageTokenLimit.max, window_sec: o.usageTokenLimit.windowSec },
    global_api_limit: o.globalApiLimit && { max: o.globalApiLimit.max, window_sec: o.globalApiLimit.windowSec },
    image_cost_quota: o.imageCostQuota,
    audio_cost_quota: o.audioCostQuota,
    quota_granted: o.quotaGranted,
    blob_url_ttl_sec: o.blobUrlTtlSec,
    stream_step_ms: o.streamStepMs,
    sse_ping: o.ssePing,
  };
};

const isRouteKey = (value: string): value is RouteKey => ROUTE_KEYS.some((k) => k === value);

/** Applies the runtime-adjustable settings; returns a problem text or null. */
function patchConfig(state: SimulatorState, body: JsonObject): string | null {
  const o = state.options;
  if ('requests_per_minute' in body) {
    for (const [key, value] of Object.entries(asObject(body['requests_per_minute']))) {
      if (!isRouteKey(key)) return `unknown route key: ${key}`;
      if (value === null) delete o.requestsPerMinute[key];
      else if (typeof value === 'number' && value >= 0) o.requestsPerMinute[key] = value;
      else return `requests_per_minute.${key} must be a number >= 0 or null`;
    }
  }
  if ('banned_words' in body) o.bannedWords = asArray(body['banned_words']).filter((w): w is string => typeof w === 'string');
  for (const [field, target] of [['usage_token_limit', 'usageTokenLimit'], ['global_api_limit', 'globalApiLimit']] as const) {
    if (!(field in body)) continue;
    const value = body[field];
    if (value === null) o[target] = null;
    else {
      const limit = asObject(value);
      const max = optionalNumber(limit['max']);
      const windowSec = optionalNumber(limit['window_sec']);
      if (max === undefined || windowSec === undefined) return `${field} needs max and window_sec`;
      o[target] = { max, windowSec };
    }
  }
  const numbers = [
    ['image_cost_quota', 'imageCostQuota'],
    ['audio_cost_quota', 'audioCostQuota'],
    ['blob_url_ttl_sec', 'blobUrlTtlSec'],
    ['stream_step_ms', 'streamStepMs'],
  ] as const;
  for (const [field, target] of numbers) {
    if (!(field in body)) continue;
    const value = optionalNumber(body[field]);
    if (value === undefined || value < 0) return `${field} must be a number >= 0`;
    o[target] = value;
  }
  if ('quota_granted' in body) {
    const value = optionalNumber(body['quota_granted']);
    if (value === undefined || value < 0) return 'quota_granted must be a number >= 0';
    o.quotaGranted = value;
    state.balance.reset(value);
  }
  if ('sse_ping' in body) o.ssePing = body['sse_ping'] === true;
  return null;
}
