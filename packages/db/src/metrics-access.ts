import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeysRepository } from './repositories/api-keys.repository';

/** `granted`, or the answer to give: 401 (no or unknown key) or 403 (a project key). */
export type MetricsAccess = 'granted' | 'unauthorized' | 'forbidden';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerOf(authorization: string | undefined): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1] ?? null;
}

/**
 * Whether the header carries METRICS_TOKEN (a scraper's token that opens nothing else). Compared
 * as digests: equal lengths, and no timing hint about the token.
 */
export function carriesMetricsToken(authorization: string | undefined, metricsToken: string | undefined): boolean {
  const bearer = bearerOf(authorization);
  return Boolean(metricsToken && bearer && timingSafeEqual(digest(bearer), digest(metricsToken)));
}

/**
 * Who may read `/metrics` of any genqueue process (API or worker): the admin key, or
 * `Authorization: Bearer <METRICS_TOKEN>` when that setting is set. Nobody else, by default.
 */
export async function checkMetricsAccess(
  apiKeys: Pick<ApiKeysRepository, 'findActiveByKey'>,
  authorization: string | undefined,
  metricsToken: string | undefined,
): Promise<MetricsAccess> {
  if (carriesMetricsToken(authorization, metricsToken)) return 'granted';
  const key = bearerOf(authorization);
  if (!key) return 'unauthorized';
  const record = await apiKeys.findActiveByKey(key);
  if (!record) return 'unauthorized';
  return record.kind === 'admin' ? 'granted' : 'forbidden';
}
