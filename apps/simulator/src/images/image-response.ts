import { signedBlobUrl } from '../blob-url';
import { mediaSeed } from '../media/seeds';
import { createImageBlob, pngBase64 } from '../media/produce';
import { estimateTokens } from '../prompt';
import type { SimulatorState } from '../state';
import type { ImageJob } from './image-request';
import { chargeTokens } from '../pricing';

const GPT_IMAGE_OUTPUT_TOKENS: Record<string, number> = { low: 272, medium: 1056, high: 4160 };

/**
 * The response body for a validated job, shaped by the model family (docs/gateway.md §5.1):
 * dall-e → signed URLs (or b64 on request), gpt-image → b64 with usage, others → the
 * gateway-made `{url:"", b64_json, revised_prompt:""}`. Charges the balance.
 */
export function buildImageResponse(state: SimulatorState, baseUrl: string, job: ImageJob): Record<string, unknown> {
  if (job.model.family !== 'gpt-image') state.balance.charge(job.n * state.options.imageCostQuota);
  const created = state.clock.nowSec();
  const seeds = Array.from({ length: job.n }, (_, index) => mediaSeed(job.model.id, job.prompt, index, job.inputSha256s));

  switch (job.model.family) {
    case 'dalle': {
      const revised = job.model.id === 'dall-e-3' ? { revised_prompt: `A detailed, high quality picture of ${job.prompt}` } : {};
      const data = seeds.map((seed) =>
        job.responseFormat === 'b64_json'
          ? { b64_json: pngBase64(state, seed), ...revised }
          : { url: signedBlobUrl(state, baseUrl, createImageBlob(state, seed, true)), ...revised },
      );
      return { created, data };
    }
    case 'gpt-image': {
      const quality = job.quality === 'auto' || job.quality === '' ? 'medium' : job.quality;
      const inputTokens = estimateTokens(job.prompt);
      const imageTokens = job.inputSha256s.length * 323;
      const outputTokens = job.n * (GPT_IMAGE_OUTPUT_TOKENS[quality] ?? 1056);
      chargeTokens(state, job.model.id, inputTokens + imageTokens, outputTokens);
      return {
        created,
        background: job.background,
        output_format: 'png',
        quality,
        size: job.size === 'auto' ? '1024x1024' : job.size,
        data: seeds.map((seed) => ({ b64_json: pngBase64(state, seed) })),
        usage: {
          input_tokens: inputTokens + imageTokens,
          output_tokens: outputTokens,
          total_tokens: inputTokens + imageTokens + outputTokens,
          input_tokens_details: { text_tokens: inputTokens, image_tokens: imageTokens },
        },
      };
    }
    default:
      return { created, data: seeds.map((seed) => ({ url: '', b64_json: pngBase64(state, seed), revised_prompt: '' })) };
  }
}
