/**
 * How stored artifact bytes go out to a browser, the same through the API's route and through a
 * presigned bucket link (apps/api artifact-content.ts, and presigned links in the API and the worker).
 */

/**
 * Types a browser may show inline from our origin: raster images, audio, video and plain text.
 * Anything else (HTML, SVG, XML, PDF, unknown bytes) could run script or be sniffed into
 * something that does, so it goes out as an octet-stream attachment whatever it was stored as.
 */
const INLINE_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'audio/mpeg',
  'audio/wav',
  'audio/x-wav',
  'audio/wave',
  'audio/ogg',
  'audio/opus',
  'audio/aac',
  'audio/flac',
  'audio/mp4',
  'audio/webm',
  'audio/pcm',
  'video/mp4',
  'video/webm',
  'video/quicktime',
  'text/plain',
  'text/vtt',
  'application/x-subrip',
  'application/json',
  'application/x-ndjson',
  'application/jsonl',
]);

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/wave': 'wav',
  'audio/ogg': 'ogg',
  'audio/opus': 'opus',
  'audio/aac': 'aac',
  'audio/flac': 'flac',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'text/plain': 'txt',
  'text/vtt': 'vtt',
  'application/x-subrip': 'srt',
  'application/json': 'json',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
};

/** How an artifact goes out: its own type inline when allowed, else bytes to download. */
export function servingOf(artifact: { id: string; contentType: string }): { contentType: string; disposition: string } {
  const type = artifact.contentType.split(';')[0]!.trim().toLowerCase();
  if (INLINE_TYPES.has(type)) {
    // ids are [a-z0-9_] only, so the filename needs no quoting beyond the quotes
    return { contentType: artifact.contentType, disposition: `inline; filename="${artifact.id}.${EXTENSIONS[type] ?? 'bin'}"` };
  }
  return { contentType: 'application/octet-stream', disposition: `attachment; filename="${artifact.id}.bin"` };
}
