import type { AudioTranscribeInput } from '@genqueue/core';
import { extensionFor } from '@genqueue/storage';
import type { AudioFile, TranscriptionResult } from '@genqueue/upstream';
import type { HandlerContext, JobHandler } from './handler';

/** WARNING: persisted artifact content types of subtitle files. */
const SUBTITLE_TYPES = { srt: 'application/x-subrip', vtt: 'text/vtt' } as const;

/** The output of a transcription in wire form; srt/vtt bodies are stored byte for byte as `subtitles`. */
async function transcriptionOutput(ctx: HandlerContext, result: TranscriptionResult): Promise<Record<string, unknown>> {
  const output: Record<string, unknown> = { text: result.text };
  if (result.segments) output['segments'] = result.segments.map((s) => ({ id: s.id, start: s.start, end: s.end, text: s.text }));
  if (result.words) output['words'] = result.words.map((w) => ({ word: w.word, start: w.start, end: w.end }));
  if (result.language !== undefined) output['language'] = result.language;
  if (result.duration !== undefined) output['duration'] = result.duration;
  if ((result.format === 'srt' || result.format === 'vtt') && result.raw !== undefined) {
    const artifact = await ctx.artifacts.save(ctx.job, {
      kind: 'subtitles',
      data: Buffer.from(result.raw, 'utf8'),
      contentType: SUBTITLE_TYPES[result.format],
      sourceUrl: null,
    });
    output['subtitles'] = { artifact_id: artifact.id };
  }
  return output;
}

/** The gateway (and OpenAI behind it) tells formats by the file name: give it an extension. */
async function audioFile(ctx: HandlerContext, source: AudioTranscribeInput['audio']): Promise<AudioFile> {
  const media = await ctx.media.resolve(ctx.job.projectId, source, 'audio', ctx.signal);
  const filename = /\.[a-z0-9]{2,5}$/i.test(media.filename) ? media.filename : `${media.filename}.${extensionFor(media.contentType)}`;
  return { filename, contentType: media.contentType, data: media.data };
}

export const audioTranscribeHandler: JobHandler<'audio.transcribe'> = async (ctx) => {
  const input = ctx.input;
  const file = await audioFile(ctx, input.audio);
  const result = await ctx.upstream.audio.transcribe(
    {
      file,
      model: input.model,
      language: input.language,
      prompt: input.prompt,
      responseFormat: input.response_format,
      timestampGranularities: input.timestamp_granularities,
      temperature: input.temperature,
    },
    { signal: ctx.signal },
  );
  return { output: await transcriptionOutput(ctx, result) };
};

export const audioTranslateHandler: JobHandler<'audio.translate'> = async (ctx) => {
  const input = ctx.input;
  const file = await audioFile(ctx, input.audio);
  const result = await ctx.upstream.audio.translate(
    { file, model: input.model, prompt: input.prompt, responseFormat: input.response_format, temperature: input.temperature },
    { signal: ctx.signal },
  );
  return { output: await transcriptionOutput(ctx, result) };
};
