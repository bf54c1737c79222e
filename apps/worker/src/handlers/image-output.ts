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
    let data: Buffer;
    let contentType: string | undefined;
    if (image.b64Json) {
      data = Buffer.from(image.b64Json, 'base64');
    } else if (image.url) {
      const downloaded = await ctx.upstream.download(image.url, { signal: ctx.signal });
      data = downloaded.bytes;
      contentType = downloaded.contentType;
    } else {
      continue;
    }
    const artifact = await ctx.artifacts.save(ctx.job, {
      kind: 'image',
      data,
      contentType,
      sourceUrl: image.url ?? 'b64_json',
    });
    out.push(image.revisedPrompt ? { artifact_id: artifact.id, revised_prompt: image.revisedPrompt } : { artifact_id: artifact.id });
  }
  if (out.length === 0) throw new JobFailure('upstream_error', 'The gateway answered with empty image entries', true);
  return out;
}
