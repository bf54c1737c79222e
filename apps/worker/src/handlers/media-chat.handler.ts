import { storeChatMedia } from '../media/chat-media';
import type { JobHandler } from './handler';
import { chatUsage, usageField } from './usage';

const DATA_URL_IN_TEXT = /data:[\w.+-]+\/[\w.+-]+;base64,[A-Za-z0-9+/=]+/g;

export const mediaChatHandler: JobHandler<'media.chat'> = async (ctx) => {
  const input = ctx.input;
  const extra: Record<string, unknown> = {};
  if (input.temperature !== undefined) extra['temperature'] = input.temperature;
  if (input.max_tokens !== undefined) extra['max_tokens'] = input.max_tokens;
  const result = await ctx.upstream.chat.streamCompletion(
    { model: input.model, messages: input.messages, extra },
    { signal: ctx.signal },
  );
  // links are the tenant's to choose: fetched as tenant URLs, capped, streamed, sniffed (see storeChatMedia)
  const { media, replacements, skipped } = await storeChatMedia({ ...ctx, limits: ctx.media.limits }, result.text);
  // Multi-MB base64 does not belong in a JSON output: point at the stored artifact instead.
  const text = result.text.replace(DATA_URL_IN_TEXT, (url) => replacements.get(url) ?? 'data:(omitted)');
  return { output: { text, media, ...(skipped.length > 0 ? { skipped_media: skipped } : {}), ...usageField(chatUsage(result.usage)) } };
};
