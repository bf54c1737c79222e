import type { JobHandler } from './handler';
import { storeGatewayImages } from './image-output';
import { imageUsage, usageField } from './usage';

export const imageGenerateHandler: JobHandler<'image.generate'> = async (ctx) => {
  const input = ctx.input;
  const extra: Record<string, unknown> = {};
  if (input.background) extra['background'] = input.background;
  if (input.output_format) extra['output_format'] = input.output_format;
  const result = await ctx.upstream.images.generate(
    {
      model: input.model,
      prompt: input.prompt,
      n: input.n,
      size: input.size,
      quality: input.quality,
      responseFormat: input.response_format,
      extra,
    },
    { signal: ctx.signal },
  );
  const images = await storeGatewayImages(ctx, result.images);
  return { output: { images, ...usageField(imageUsage(result.usage)) } };
};
