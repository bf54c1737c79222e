import type { JobHandler } from './handler';

export const audioSpeechHandler: JobHandler<'audio.speech'> = async (ctx) => {
  const input = ctx.input;
  const result = await ctx.upstream.audio.speech(
    {
      model: input.model,
      input: input.input,
      voice: input.voice,
      responseFormat: input.response_format,
      speed: input.speed,
      instructions: input.instructions,
    },
    { signal: ctx.signal },
  );
  const artifact = await ctx.artifacts.save(ctx.job, { kind: 'audio', data: result.bytes, contentType: result.contentType, sourceUrl: null });
  return { output: { audio: { artifact_id: artifact.id } } };
};
