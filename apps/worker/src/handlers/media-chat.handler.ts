import type { MediaChatInput } from '@genqueue/core';
import { sniffContentType } from '@genqueue/storage';
import { extractMediaLinks } from '@genqueue/upstream';
import { inputOf, type JobHandler } from './handler';
import { chatUsage, usageField } from './usage';

const DATA_URL_IN_TEXT = /data:[\w.+-]+\/[\w.+-]+;base64,[A-Za-z0-9+/=]+/g;
const MEDIA_TYPE = /^(image|video|audio)\//;

export const mediaChatHandler: JobHandler = async (ctx) => {
  const input = inputOf<MediaChatInput>(ctx.job);
  const extra: Record<string, unknown> = {};
  if (input.temperature !== undefined) extra['temperature'] = input.temperature;
  if (input.max_tokens !== undefined) extra['max_tokens'] = input.max_tokens;
  const result = await ctx.upstream.chat.streamCompletion(
    { model: input.model, messages: input.messages, extra },
    { signal: ctx.signal },
  );
  const media: Array<{ artifact_id: string; source: 'data' | 'url' }> = [];
  const replacements = new Map<string, string>();
  for (const link of extractMediaLinks(result.text)) {
    const downloaded = await ctx.upstream.download(link.url, { signal: ctx.signal });
    // A markdown link may point at a web page (a model citing a source): only media become artifacts.
    // The bytes decide; then the server's type; a file extension only when the server says nothing useful.
    const declared = /^application\/octet-stream\b/i.test(downloaded.contentType) ? (link.mimeType ?? downloaded.contentType) : downloaded.contentType;
    const contentType = sniffContentType(downloaded.bytes, (declared.split(';')[0] ?? '').trim().toLowerCase());
    if (!MEDIA_TYPE.test(contentType)) {
      ctx.logger.info({ contentType, kind: link.kind }, 'media_chat.link_skipped');
      continue;
    }
    const kind = contentType.startsWith('video/') ? 'video' : contentType.startsWith('audio/') ? 'audio' : 'image';
    const artifact = await ctx.artifacts.save(ctx.job, {
      kind,
      data: downloaded.bytes,
      contentType,
      sourceUrl: link.kind === 'data' ? 'data:' : link.url,
    });
    media.push({ artifact_id: artifact.id, source: link.kind });
    if (link.kind === 'data') replacements.set(link.url, `artifact:${artifact.id}`);
  }
  // Multi-MB base64 does not belong in a JSON output: point at the stored artifact instead.
  const text = result.text.replace(DATA_URL_IN_TEXT, (url) => replacements.get(url) ?? 'data:(omitted)');
  return { output: { text, media, ...usageField(chatUsage(result.usage)) } };
};
