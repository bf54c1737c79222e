import { mjPriceModel, priceCatalogFrom, unitsFromMjPrice, unitsFromUsage, unitsFromVideoRatios, unitsToUsd, DEFAULT_PRICE_CATALOG } from '../src';

describe('price catalog (new-api billing)', () => {
  it('prices token usage as (prompt + completion × completion ratio) × ratio × group ratio, for every usage shape', () => {
    const catalog = priceCatalogFrom(JSON.stringify({ group_ratio: 2, models: { 'gpt-4o-mini': { ratio: 0.075, completion_ratio: 4 } } }));
    expect(unitsFromUsage(catalog, 'gpt-4o-mini', { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 })?.units).toBe(Math.round((1000 + 500 * 4) * 0.075 * 2));
    // gpt-image-1 stays from the built-in catalog: input/output tokens
    expect(unitsFromUsage(catalog, 'gpt-image-1', { input_tokens: 50, output_tokens: 4160, total_tokens: 4210 })?.units).toBe((50 + 4160 * 8) * 5 * 2);
    // Gemini's candidates tokens; an embedding's prompt/total only
    expect(unitsFromUsage(DEFAULT_PRICE_CATALOG, 'gemini-2.5-flash-image', { prompt_tokens: 7, candidates_tokens: 1295 })?.units).toBe(1302);
    expect(unitsFromUsage(DEFAULT_PRICE_CATALOG, 'text-embedding-3-small', { prompt_tokens: 5, total_tokens: 5 })?.units).toBe(5);
    expect(unitsFromUsage(DEFAULT_PRICE_CATALOG, 'x', {})).toBeNull();
  });

  it('prices a video by its billing header and an MJ task by its action’s pseudo-model', () => {
    expect(unitsFromVideoRatios(DEFAULT_PRICE_CATALOG, 'sora-2', { seconds: 8, size: 1 }).units).toBe(400_000);
    expect(unitsFromVideoRatios(DEFAULT_PRICE_CATALOG, 'sora-2-pro', { seconds: 4, size: 1.666667 }).units).toBe(Math.round(0.3 * 500_000 * 4 * 1.666667));
    expect(mjPriceModel('action', 'MJ::JOB::upsample::1::abc')).toBe('mj_upscale');
    expect(mjPriceModel('action', 'MJ::JOB::reroll::0::abc::SOLO')).toBe('mj_reroll');
    expect(mjPriceModel('action', 'MJ::JOB::high_variation::1::abc::SOLO')).toBe('mj_high_variation');
    expect(mjPriceModel('imagine')).toBe('mj_imagine');
    const catalog = priceCatalogFrom('{"models":{"mj_upscale":{"price_usd":0.02}}}');
    expect(unitsFromMjPrice(catalog, 'mj_upscale').units).toBe(10_000);
    expect(unitsFromMjPrice(catalog, 'mj_imagine').units).toBe(25_000);
    expect(unitsToUsd(467_285)).toBe(0.93457);
  });

  it('takes a model named like an Object property ("constructor", "toString") for an unknown model, not for the prototype', () => {
    for (const model of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(unitsFromUsage(DEFAULT_PRICE_CATALOG, model, { prompt_tokens: 10, completion_tokens: 5 })?.units).toBe(15);
      expect(unitsFromVideoRatios(DEFAULT_PRICE_CATALOG, model, { seconds: 4 }).units).toBe(unitsFromVideoRatios(DEFAULT_PRICE_CATALOG, 'no-such-model', { seconds: 4 }).units);
    }
  });

  it('refuses a malformed GATEWAY_PRICES', () => {
    expect(() => priceCatalogFrom('{"models":{"m":{}}}')).toThrow();
    expect(() => priceCatalogFrom('{"unknown":1}')).toThrow();
    expect(() => priceCatalogFrom('not json')).toThrow();
  });
});
