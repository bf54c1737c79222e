import { UpstreamError } from './errors';
import type { CallOptions, HttpResponse, UpstreamHttp } from './http';
import { asArray, asBoolean, asNumber, asRecord, asText } from './lenient';
import { parseJsonResponse } from './response';

/** Models and token balance (§2). */

/** new-api `QuotaPerUnit`: quota units per US$1. */
export const QUOTA_UNITS_PER_USD = 500_000;
/** What `/v1/dashboard/billing/subscription` shows for an unlimited token. */
const UNLIMITED_HARD_LIMIT = 100_000_000;

export interface GatewayModel {
  id: string;
  ownedBy?: string;
  /** `supported_endpoint_types`: `openai`, `image-generation`, `openai-video`, `gemini`, … */
  endpointTypes?: string[];
}

export interface Balance {
  /** Which route answered: `/api/usage/token/` or the OpenAI-legacy billing pair. */
  source: 'token_usage' | 'billing';
  /** Quota units (500 000 per US$1); token_usage only. */
  totalGranted?: number;
  totalUsed?: number;
  totalAvailable?: number;
  unlimited?: boolean;
  /** Token expiry; null when it never expires. */
  expiresAt?: Date | null;
  /**
   * Amounts in the gateway's display unit (US$ by default; CNY or tokens if the admin chose so).
   * token_usage: quota ÷ 500 000. billing: `hard_limit_usd` and `total_usage` ÷ 100 (cents).
   */
  usd?: { hardLimit: number; used: number; remaining: number };
}

export interface AccountApi {
  listModels(options?: CallOptions): Promise<GatewayModel[]>;
  /**
   * `GET /api/usage/token/` (20 requests / 20 min per IP: call it rarely), falling back to the
   * billing routes when it answers 404, 429, an E7 `{success:false}` error, or a page that is not its JSON.
   */
  getBalance(options?: CallOptions): Promise<Balance>;
}

export function createAccountApi(http: UpstreamHttp): AccountApi {
  return {
    async listModels(options = {}) {
      const res = await http.request({ ...options, method: 'GET', path: '/v1/models', profile: 'small' });
      return parseModelList(parseJsonResponse(res, 'models.list'));
    },

    async getBalance(options = {}) {
      // Slash form: Gin answers the bare path with a 301 to this one.
      const res = await http.request({ ...options, method: 'GET', path: '/api/usage/token/', profile: 'small' });
      const usage = readTokenUsage(res);
      if (usage.kind === 'ok') return usage.balance;
      if (usage.kind === 'error') throw usage.error;
      return getBillingBalance(http, options);
    },
  };
}

export function parseModelList(json: unknown): GatewayModel[] {
  const body = asRecord(json);
  const items = Array.isArray(json) ? json : asArray(body?.['data'] ?? body?.['models']);
  const models: GatewayModel[] = [];
  for (const item of items) {
    const entry = asRecord(item);
    const id = asText(entry?.['id']) ?? asText(entry?.['name']);
    if (!entry || id === undefined) continue;
    const model: GatewayModel = { id };
    const ownedBy = asText(entry['owned_by']);
    if (ownedBy !== undefined) model.ownedBy = ownedBy;
    const types = asArray(entry['supported_endpoint_types']).filter((t): t is string => typeof t === 'string');
    if (types.length > 0) model.endpointTypes = types;
    models.push(model);
  }
  return models;
}

type TokenUsageOutcome = { kind: 'ok'; balance: Balance } | { kind: 'fallback' } | { kind: 'error'; error: UpstreamError };

function readTokenUsage(res: HttpResponse): TokenUsageOutcome {
  const text = res.bodyText();
  let json: unknown;
  try {
    json = text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    json = undefined;
  }
  const body = asRecord(json);
  // E7 `{success:false}` (200 or 401), `code:false`, 404, 429, or an HTML page (an old build's web UI).
  const isE7 = body !== undefined && (body['success'] === false || body['code'] === false);
  if (res.status === 404 || res.status === 405 || res.status === 429 || isE7) return { kind: 'fallback' };
  if (res.status >= 200 && res.status < 300) {
    const data = asRecord(body?.['data']);
    if (body?.['code'] !== true || !data) return { kind: 'fallback' };
    return { kind: 'ok', balance: tokenUsageBalance(data) };
  }
  try {
    parseJsonResponse(res, 'balance.token_usage');
  } catch (err) {
    if (err instanceof UpstreamError) return { kind: 'error', error: err };
    throw err;
  }
  return { kind: 'fallback' };
}

function tokenUsageBalance(data: Record<string, unknown>): Balance {
  const totalGranted = asNumber(data['total_granted']);
  const totalUsed = asNumber(data['total_used']);
  const totalAvailable = asNumber(data['total_available']);
  const balance: Balance = { source: 'token_usage', expiresAt: secondsToDate(asNumber(data['expires_at'])) };
  if (totalGranted !== undefined) balance.totalGranted = totalGranted;
  if (totalUsed !== undefined) balance.totalUsed = totalUsed;
  if (totalAvailable !== undefined) balance.totalAvailable = totalAvailable;
  const unlimited = asBoolean(data['unlimited_quota']);
  if (unlimited !== undefined) balance.unlimited = unlimited;
  if (totalGranted !== undefined || totalUsed !== undefined || totalAvailable !== undefined) {
    const used = totalUsed ?? 0;
    const available = totalAvailable ?? Math.max(0, (totalGranted ?? 0) - used);
    balance.usd = {
      hardLimit: round6((totalGranted ?? used + available) / QUOTA_UNITS_PER_USD),
      used: round6(used / QUOTA_UNITS_PER_USD),
      remaining: round6(available / QUOTA_UNITS_PER_USD),
    };
  }
  return balance;
}

async function getBillingBalance(http: UpstreamHttp, options: CallOptions): Promise<Balance> {
  const [subscriptionRes, usageRes] = await Promise.all([
    http.request({ ...options, method: 'GET', path: '/v1/dashboard/billing/subscription', profile: 'small' }),
    http.request({ ...options, method: 'GET', path: '/v1/dashboard/billing/usage', profile: 'small' }),
  ]);
  // Errors on these routes come back as HTTP 200 {"error":{…}}; parseJsonResponse throws them.
  const subscription = asRecord(parseJsonResponse(subscriptionRes, 'balance.subscription')) ?? {};
  const usage = asRecord(parseJsonResponse(usageRes, 'balance.usage')) ?? {};
  const hardLimit = asNumber(subscription['hard_limit_usd']) ?? asNumber(subscription['system_hard_limit_usd']);
  if (hardLimit === undefined) {
    throw new UpstreamError({ kind: 'retryable', httpStatus: subscriptionRes.status, message: 'balance.subscription: no hard_limit_usd in the answer' });
  }
  // total_usage is in cents.
  const used = round6((asNumber(usage['total_usage']) ?? 0) / 100);
  return {
    source: 'billing',
    unlimited: hardLimit >= UNLIMITED_HARD_LIMIT,
    expiresAt: secondsToDate(asNumber(subscription['access_until'])),
    usd: { hardLimit, used, remaining: round6(hardLimit - used) },
  };
}

/** Unix seconds; 0 (and the gateway's -1) mean "never". */
function secondsToDate(seconds: number | undefined): Date | null {
  if (seconds === undefined || seconds <= 0) return null;
  return new Date(seconds * 1000);
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
