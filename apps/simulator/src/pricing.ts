import type { SimulatorState } from './state';

/**
 * What the simulated gateway charges, the way new-api bills (docs/gateway.md §2.3, §8.1, §9.7):
 * token-billed answers cost (prompt + completion × completion ratio) × model ratio quota units
 * (ratio 1 = US$2 per million tokens); dall-e style images a price per image; video
 * `video_cost_quota_per_second` × the seconds and size ratios; MJ `mj_cost_quota` per task;
 * audio (speech, transcription), whose answers carry no usage, `audio_cost_quota` per call.
 * genqueue's built-in price catalog (GATEWAY_PRICES) uses the same figures.
 */
const MODEL_RATIOS: Readonly<Record<string, { ratio: number; completionRatio: number }>> = {
  'gpt-image-1': { ratio: 5, completionRatio: 8 },
};
const DEFAULT_RATIO = { ratio: 1, completionRatio: 1 };

export function tokenCostQuota(model: string, promptTokens: number, completionTokens: number): number {
  const { ratio, completionRatio } = (Object.hasOwn(MODEL_RATIOS, model) ? MODEL_RATIOS[model] : undefined) ?? DEFAULT_RATIO;
  return Math.round((promptTokens + completionTokens * completionRatio) * ratio);
}

/** Charges a token-billed answer. */
export function chargeTokens(state: SimulatorState, model: string, promptTokens: number, completionTokens: number): void {
  state.balance.charge(tokenCostQuota(model, promptTokens, completionTokens));
}
