import type { JobHandler } from './handler';
import { JobFailure } from './job-failure';
import { geminiUsage, usageField } from './usage';

export const imageGeminiHandler: JobHandler<'image.gemini'> = async (ctx) => {
  const input = ctx.input;
  const images = [];
  for (const [i, source] of (input.images ?? []).entries()) {
    const media = await ctx.media.resolve(ctx.job.projectId, source, `image-${i}`, ctx.signal);
    images.push({ mimeType: media.contentType, data: media.data });
  }
  const result = await ctx.upstream.gemini.generateContent(
    input.model,
    { prompt: input.prompt, images, aspectRatio: input.aspect_ratio },
    { signal: ctx.signal },
  );
  const texts: string[] = [];
  const stored: Array<{ artifact_id: string }> = [];
  for (const part of result.parts) {
    if ('text' in part) {
      texts.push(part.text);
      continue;
    }
    const artifact = await ctx.artifacts.save(ctx.job, {
      kind: 'image',
      data: Buffer.from(part.inlineData.data, 'base64'),
      contentType: part.inlineData.mimeType,
      sourceUrl: 'inlineData',
    });
    stored.push({ artifact_id: artifact.id });
  }
  if (stored.length === 0) {
    const reason = result.blockReason ?? result.finishReason ?? 'none given';
    throw new JobFailure('upstream_rejected', `The model returned no image (finish reason: ${reason})`);
  }
  const text = texts.join('\n').trim();
  return { output: { images: stored, ...(text ? { text } : {}), ...usageField(geminiUsage(result.usage)) } };
};
