/** URL search params of the pages that keep their filters in the URL (shareable links, back button). */

function str(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** Relative time ranges: a shared link means "the last hour" whenever it is opened. */
export const RANGES = { '1h': 3_600_000, '24h': 86_400_000, '7d': 604_800_000 } as const;
export type RangeKey = keyof typeof RANGES;
export const isRange = (value: unknown): value is RangeKey => typeof value === 'string' && value in RANGES;

export type JobsSearch = {
  project_id?: string;
  /** 1h, 24h or 7d back from now; otherwise created_after / created_before */
  range?: string;
  type?: string;
  /** comma-separated statuses */
  status?: string;
  created_after?: string;
  created_before?: string;
  meta?: string;
  q?: string;
};

export function parseJobsSearch(search: Record<string, unknown>): JobsSearch {
  const out: JobsSearch = {};
  for (const key of ['project_id', 'type', 'status', 'created_after', 'created_before', 'meta', 'q'] as const) {
    const value = str(search[key]);
    if (value) out[key] = value;
  }
  if (isRange(search['range'])) out.range = search['range'];
  return out;
}

export type WebhooksSearch = { status?: string; event_type?: string; endpoint_id?: string; project_id?: string };

export function parseWebhooksSearch(search: Record<string, unknown>): WebhooksSearch {
  const out: WebhooksSearch = {};
  for (const key of ['status', 'event_type', 'endpoint_id', 'project_id'] as const) {
    const value = str(search[key]);
    if (value) out[key] = value;
  }
  return out;
}

export type LoginSearch = { next?: string; reason?: string };

/** Only a path inside the dashboard: never an open redirect. */
export function safeNext(next: unknown): string | undefined {
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') ? next : undefined;
}

export function parseLoginSearch(search: Record<string, unknown>): LoginSearch {
  const out: LoginSearch = {};
  const next = safeNext(search['next']);
  if (next) out.next = next;
  const reason = str(search['reason']);
  if (reason) out.reason = reason;
  return out;
}
