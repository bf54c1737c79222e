import type { HandlerContext } from './handler';
import { JobFailure } from './job-failure';

export type GatewayImage = { url?: string; b64Json?: string; revisedPrompt?: string };

/** Copies each image the gateway returned (URL or base64) into storage; the `images` output list. */
export async function storeGatewayImages(
  ctx: HandlerContext,
  images: GatewayImage[],
): Promise<Array<{ artifact_id: string; revised_prompt?: string }>> {
  if (images.length === 0) throw new JobFailure('upstream_error', 'The gateway answered without any image', true);
  const out: Array<{ artifact_id: string; revised_prompt?: string }> = [];
  for (const image of images) {
    let artifact;
    if (image.b64Json) {
      // already in memory (the JSON answer was bounded); counted against the run's budget all the same
      artifact = await ctx.artifacts.save(ctx.job, { kind: 'image', data: Buffer.from(image.b64Json, 'base64'), sourceUrl: 'b64_json', signal: ctx.signal });
    } else if (image.url) {
      const url = image.url;
      // a result URL of our own request: the gateway's origin gets the key, a CDN off it goes through
      // the connect-time guard without it (download.ts); streamed into storage within the budget
      artifact = await ctx.artifacts.saveDownload(ctx.job, {
        kind: 'image',
        open: (maxBytes) => ctx.upstream.downloadStream(url, { maxBytes, signal: ctx.signal }),
        sourceUrl: url,
        signal: ctx.signal,
      });
    } else {
      continue;
    }
    out.push(image.revisedPrompt ? { artifact_id: artifact.id, revised_prompt: image.revisedPrompt } : { artifact_id: artifact.id });
  }
  if (out.length === 0) throw new JobFailure('upstream_error', 'The gateway answered with empty image entries', true);
  return out;
}
