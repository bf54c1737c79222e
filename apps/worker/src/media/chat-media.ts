import type { Job } from '@genqueue/db';
import { storableContentType } from '@genqueue/storage';
import { extractMediaLinks, UpstreamError, type MediaLink, type UpstreamClient } from '@genqueue/upstream';
import type { Logger } from 'pino';
import { peekHead, type ArtifactWriter } from './artifact-writer';
import { isBudgetBound, MediaBudgetError, roomFor, type MediaLimits } from './media-budget';

const MEDIA_TYPE = /^(image|video|audio)\//;
/** links past the cap listed one by one in `skipped_media`; the rest are counted */
const MAX_LISTED_SKIPS = 20;

export type ChatMediaContext = {
  job: Job;
  upstream: UpstreamClient;
  artifacts: ArtifactWriter;
  limits: MediaLimits;
  signal: AbortSignal;
  logger: Logger;
};

export type StoredChatMedia = {
  media: Array<{ artifact_id: string; source: 'data' | 'url' }>;
  /** data: URLs replaced by `artifact:<id>` in the text */
  replacements: Map<string, string>;
  /** links left as text, with a reason a tenant may read */
  skipped: Array<{ url: string; reason: string }>;
};

/**
 * Stores the media a model printed (data: URLs and links). The links are the tenant's to choose
 * (a prompt can make the model print any URL), so each is fetched as a tenant URL: through the
 * connect-time SSRF guard, refused on the gateway's origin, never with its key. At most
 * `chatMaxLinks` are fetched; each is streamed to storage within the run's media budget; only
 * bytes that sniff as raster images, audio or video become artifacts.
 */
export async function storeChatMedia(ctx: ChatMediaContext, text: string): Promise<StoredChatMedia> {
  const out: StoredChatMedia = { media: [], replacements: new Map(), skipped: [] };
  const links = extractMediaLinks(text);
  for (const [index, link] of links.entries()) {
    const shown = link.kind === 'data' ? 'data:' : link.url;
    if (index >= ctx.limits.chatMaxLinks) {
      // an answer full of links is not copied into the output a second time: the first few, then a count
      if (index - ctx.limits.chatMaxLinks < MAX_LISTED_SKIPS) {
        out.skipped.push({ url: shown, reason: `not fetched: over MEDIA_CHAT_MAX_LINKS (${ctx.limits.chatMaxLinks})` });
      } else {
        const more = links.length - index;
        out.skipped.push({ url: '', reason: `${more} more link${more === 1 ? '' : 's'} not fetched: over MEDIA_CHAT_MAX_LINKS (${ctx.limits.chatMaxLinks})` });
        break;
      }
      continue;
    }
    const reason = await storeLink(ctx, link, out);
    if (reason !== null) out.skipped.push({ url: shown, reason });
  }
  if (out.skipped.length > 0) ctx.logger.info({ skipped: out.skipped.length, stored: out.media.length }, 'media_chat.links_skipped');
  return out;
}

/** null when stored, else why not. Retryable download failures are thrown (the job retries). */
async function storeLink(ctx: ChatMediaContext, link: MediaLink, out: StoredChatMedia): Promise<string | null> {
  const room = roomFor(ctx.limits, ctx.signal);
  if (room === 0) return `not fetched: ${new MediaBudgetError(ctx.limits.jobMaxBytes).message}`;
  let download;
  try {
    download = await ctx.upstream.downloadStream(link.url, { source: 'tenant', maxBytes: room, signal: ctx.signal });
  } catch (err) {
    if (err instanceof UpstreamError && !err.isRetryable && err.kind !== 'auth') {
      ctx.logger.info({ err, kind: link.kind }, 'media_chat.link_refused');
      return err.message;
    }
    throw err;
  }
  try {
    const { head, rest } = await peekHead(download.body);
    // A markdown link may point at a web page (a model citing a source): only media become artifacts.
    // The bytes decide; a declared type or file extension never makes SVG or HTML an image.
    const declared = /^application\/octet-stream\b/i.test(download.contentType) ? (link.mimeType ?? download.contentType) : download.contentType;
    const contentType = storableContentType(head, declared);
    if (!MEDIA_TYPE.test(contentType)) {
      ctx.logger.info({ contentType, kind: link.kind }, 'media_chat.link_skipped');
      return 'not stored: not an image, audio or video';
    }
    const kind = contentType.startsWith('video/') ? 'video' : contentType.startsWith('audio/') ? 'audio' : 'image';
    const artifact = await ctx.artifacts.saveStream(ctx.job, {
      kind,
      head,
      rest,
      contentType,
      sourceUrl: link.kind === 'data' ? 'data:' : link.url,
      signal: ctx.signal,
    });
    out.media.push({ artifact_id: artifact.id, source: link.kind });
    if (link.kind === 'data') out.replacements.set(link.url, `artifact:${artifact.id}`);
    return null;
  } catch (err) {
    if (err instanceof MediaBudgetError) return `not stored: ${err.message}`;
    if (err instanceof UpstreamError && !err.isRetryable && err.kind !== 'auth') {
      return isBudgetBound(ctx.limits, room) ? `not stored: ${new MediaBudgetError(ctx.limits.jobMaxBytes).message}` : err.message;
    }
    if (err instanceof Error && err.name === 'MediaInputError') return `not stored: ${err.message}`;
    throw err;
  } finally {
    download.close();
  }
}
