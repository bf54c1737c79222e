import type { Logger } from 'pino';
import { z } from 'zod';

const UpstreamFailureSchema = z.object({ message: z.string() }).nullable();

/** What `UpstreamInfo.get` answers (`GET /admin/v1/upstream`): the gateway's own answers, keys in snake_case. */
export const UpstreamInfoSchema = z.object({
  object: z.literal('upstream'),
  base_url: z.string(),
  fetched_at: z.string(),
  balance: z.unknown().describe('the gateway’s balance answer; null when it failed (see balance_error)'),
  balance_error: UpstreamFailureSchema,
  models: z.unknown().describe('the gateway’s model list answer; [] when it failed (see models_error)'),
  models_error: UpstreamFailureSchema,
  cached: z.boolean(),
});

export type UpstreamAccount = {
  listModels(): Promise<unknown>;
  getBalance(): Promise<unknown>;
};

type Cached = { at: number; value: Record<string, unknown> };

/** The upstream client speaks camelCase; the wire is snake_case (api.md). */
export function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toWire);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, inner]) => [key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), toWire(inner)]),
  );
}

/** The gateway's balance and model list, cached so the dashboard never hammers its rate-limited routes. */
export class UpstreamInfo {
  private cached: Cached | null = null;
  private inFlight: Promise<Record<string, unknown>> | null = null;

  constructor(
    private readonly account: UpstreamAccount,
    private readonly baseUrl: string,
    private readonly cacheMs: number,
    private readonly logger: Logger,
  ) {}

  async get(): Promise<Record<string, unknown>> {
    if (this.cached && Date.now() - this.cached.at < this.cacheMs) return { ...this.cached.value, cached: true };
    this.inFlight ??= this.load().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async load(): Promise<Record<string, unknown>> {
    const [balance, models] = await Promise.allSettled([this.account.getBalance(), this.account.listModels()]);
    const failure = (r: PromiseRejectedResult) => {
      this.logger.warn({ err: r.reason }, 'upstream.info_failed');
      return { message: r.reason instanceof Error ? r.reason.message : String(r.reason) };
    };
    const value = {
      object: 'upstream',
      base_url: this.baseUrl,
      fetched_at: new Date().toISOString(),
      balance: balance.status === 'fulfilled' ? toWire(balance.value) : null,
      balance_error: balance.status === 'rejected' ? failure(balance) : null,
      models: models.status === 'fulfilled' ? toWire(models.value) : [],
      models_error: models.status === 'rejected' ? failure(models) : null,
    };
    this.cached = { at: Date.now(), value };
    return { ...value, cached: false };
  }
}
