import type { JobHandler } from './handler';
import { storeGatewayImages } from './image-output';
import { imageUsage, usageField } from './usage';

export const imageEditHandler: JobHandler<'image.edit'> = async (ctx) => {
  const input = ctx.input;
  const projectId = ctx.job.projectId;
  const images = [];
  for (const [i, source] of input.images.entries()) {
    images.push(await ctx.media.resolve(projectId, source, `image-${i}.png`, ctx.signal));
  }
  const mask = input.mask ? await ctx.media.resolve(projectId, input.mask, 'mask.png', ctx.signal) : undefined;
  const result = await ctx.upstream.images.edit(
    { model: input.model, prompt: input.prompt, n: input.n, size: input.size, quality: input.quality, images, mask },
    { signal: ctx.signal },
  );
  const stored = await storeGatewayImages(ctx, result.images);
  return { output: { images: stored, ...usageField(imageUsage(result.usage)) } };
};
