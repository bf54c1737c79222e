import { z } from 'zod';
import { ownValue } from './own-value';

/** new-api `QuotaPerUnit`: quota units per US$1 (docs/gateway.md §2.3). */
export const QUOTA_UNITS_PER_USD = 500_000;

export const COST_SOURCES = ['usage', 'billing_header', 'task_price', 'balance_delta'] as const;
export type CostSource = (typeof COST_SOURCES)[number];

export const unitsToUsd = (units: number): number => Math.round((units / QUOTA_UNITS_PER_USD) * 1e6) / 1e6;

/**
 * A model's price the way new-api bills it. Token-billed models: `ratio` quota units per prompt
 * token (ratio 1 = US$2 per million tokens) and `completion_ratio` × that per completion token.
 * Per-call models: `price_usd` per call (× n images; × the `X-New-Api-Other-Ratios` of a video task,
 * so a video's price is per second at size ratio 1).
 */
export const ModelPriceSchema = z
  .object({
    ratio: z.number().min(0).optional(),
    completion_ratio: z.number().min(0).optional(),
    price_usd: z.number().min(0).optional(),
  })
  .strict()
  .refine((p) => p.ratio !== undefined || p.price_usd !== undefined, 'needs ratio or price_usd');
export type ModelPrice = z.infer<typeof ModelPriceSchema>;

/** The price catalog (GATEWAY_PRICES): the gateway's model ratios and prices, as its pricing page shows them. */
export const PriceCatalogSchema = z
  .object({
    /** the token's group ratio (分组倍率), applied to every price */
    group_ratio: z.number().min(0).default(1),
    /** per model (MJ actions by their pseudo-models: mj_imagine, mj_upscale, mj_variation, …) */
    models: z.record(z.string().min(1), ModelPriceSchema).default({}),
    /** used for a model the catalog does not name, by kind of billing */
    defaults: z
      .object({
        token_ratio: z.number().min(0).default(1),
        completion_ratio: z.number().min(0).default(1),
        video_usd_per_second: z.number().min(0).default(0.1),
        mj_usd: z.number().min(0).default(0.05),
      })
      .strict()
      .default({ token_ratio: 1, completion_ratio: 1, video_usd_per_second: 0.1, mj_usd: 0.05 }),
  })
  .strict();
export type PriceCatalog = z.infer<typeof PriceCatalogSchema>;

/** Built-in prices; GATEWAY_PRICES entries are laid over them. The simulator charges the same. */
export const DEFAULT_PRICE_CATALOG: PriceCatalog = {
  group_ratio: 1,
  models: {
    'gpt-image-1': { ratio: 5, completion_ratio: 8 },
    'sora-2': { price_usd: 0.1 },
    'sora-2-pro': { price_usd: 0.3 },
  },
  defaults: { token_ratio: 1, completion_ratio: 1, video_usd_per_second: 0.1, mj_usd: 0.05 },
};

/** GATEWAY_PRICES (JSON) over the built-in catalog: models are merged, the rest replaced. */
export function priceCatalogFrom(json: string | undefined): PriceCatalog {
  if (!json) return DEFAULT_PRICE_CATALOG;
  const parsed = PriceCatalogSchema.parse(JSON.parse(json));
  const raw = JSON.parse(json) as Record<string, unknown>;
  return {
    group_ratio: 'group_ratio' in raw ? parsed.group_ratio : DEFAULT_PRICE_CATALOG.group_ratio,
    models: { ...DEFAULT_PRICE_CATALOG.models, ...parsed.models },
    defaults: 'defaults' in raw ? parsed.defaults : DEFAULT_PRICE_CATALOG.defaults,
  };
}

export type CostDerivation = { units: number; detail: Record<string, unknown> };

/**
 * Tokens of an answer's `usage` priced like new-api: (prompt + completion × completion_ratio) ×
 * ratio × group ratio, rounded. Accepts the image (input/output), chat (prompt/completion),
 * Gemini (prompt/candidates) and embedding (prompt/total) usage shapes. Null when no tokens.
 */
export function unitsFromUsage(catalog: PriceCatalog, model: string | undefined, usage: Record<string, unknown>): CostDerivation | null {
  const num = (key: string): number | undefined => (typeof usage[key] === 'number' && Number.isFinite(usage[key]) ? (usage[key] as number) : undefined);
  const promptTokens = num('input_tokens') ?? num('prompt_tokens');
  let completionTokens = num('output_tokens') ?? num('completion_tokens') ?? num('candidates_tokens');
  const totalTokens = num('total_tokens');
  if (promptTokens === undefined && completionTokens === undefined && totalTokens === undefined) return null;
  const prompt = promptTokens ?? (totalTokens !== undefined ? totalTokens - (completionTokens ?? 0) : 0);
  completionTokens ??= totalTokens !== undefined && promptTokens !== undefined ? Math.max(0, totalTokens - promptTokens) : 0;
  const price = model ? ownValue(catalog.models, model) : undefined;
  const ratio = price?.ratio ?? catalog.defaults.token_ratio;
  const completionRatio = price?.completion_ratio ?? catalog.defaults.completion_ratio;
  const units = Math.round((prompt + completionTokens * completionRatio) * ratio * catalog.group_ratio);
  return {
    units,
    detail: { prompt_tokens: prompt, completion_tokens: completionTokens, ratio, completion_ratio: completionRatio, group_ratio: catalog.group_ratio },
  };
}

/** A video task: price_usd (per second) × 500 000 × group ratio × every ratio of `X-New-Api-Other-Ratios`. */
export function unitsFromVideoRatios(catalog: PriceCatalog, model: string, otherRatios: Record<string, number>): CostDerivation {
  const priceUsd = ownValue(catalog.models, model)?.price_usd ?? catalog.defaults.video_usd_per_second;
  const product = Object.values(otherRatios).reduce((acc, r) => (Number.isFinite(r) ? acc * r : acc), 1);
  return {
    units: Math.round(priceUsd * QUOTA_UNITS_PER_USD * catalog.group_ratio * product),
    detail: { price_usd: priceUsd, other_ratios: otherRatios, group_ratio: catalog.group_ratio },
  };
}

/** The gateway's pseudo-model of an MJ submit (docs/gateway.md §9.1), which its price is looked up by. */
export function mjPriceModel(kind: 'imagine' | 'action' | 'modal' | 'blend' | 'describe', customId?: string): string {
  if (kind !== 'action') return `mj_${kind}`;
  const id = (customId ?? '').toLowerCase();
  if (id.includes('upsample')) return 'mj_upscale';
  if (id.includes('high_variation')) return 'mj_high_variation';
  if (id.includes('low_variation')) return 'mj_low_variation';
  if (id.includes('variation')) return 'mj_variation';
  if (id.includes('reroll')) return 'mj_reroll';
  if (id.includes('customzoom')) return 'mj_custom_zoom';
  if (id.includes('outpaint') || id.includes('zoom')) return 'mj_zoom';
  if (id.includes('pan_')) return 'mj_pan';
  if (id.includes('inpaint')) return 'mj_inpaint';
  if (id.includes('animate')) return 'mj_video';
  return 'mj_imagine';
}

/** An MJ task's price: price_usd of its pseudo-model × 500 000 × group ratio. */
export function unitsFromMjPrice(catalog: PriceCatalog, priceModel: string): CostDerivation {
  const priceUsd = ownValue(catalog.models, priceModel)?.price_usd ?? catalog.defaults.mj_usd;
  return { units: Math.round(priceUsd * QUOTA_UNITS_PER_USD * catalog.group_ratio), detail: { price_model: priceModel, price_usd: priceUsd, group_ratio: catalog.group_ratio } };
}
