/** Recognises common media types from their first bytes; `fallback` when nothing matches. */
export function sniffContentType(head: Buffer, fallback = 'application/octet-stream'): string {
  const starts = (sig: number[], offset = 0): boolean => sig.every((b, i) => head[offset + i] === b);
  const ascii = (text: string, offset = 0): boolean => head.subarray(offset, offset + text.length).toString('latin1') === text;
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (ascii('GIF87a') || ascii('GIF89a')) return 'image/gif';
  if (ascii('RIFF') && ascii('WEBP', 8)) return 'image/webp';
  if (ascii('RIFF') && ascii('WAVE', 8)) return 'audio/wav';
  if (ascii('ftyp', 4) && (ascii('avif', 8) || ascii('avis', 8))) return 'image/avif';
  if (ascii('ftyp', 4)) return ascii('M4A ', 8) ? 'audio/mp4' : ascii('qt  ', 8) ? 'video/quicktime' : 'video/mp4';
  if (starts([0x1a, 0x45, 0xdf, 0xa3])) return 'video/webm';
  // ADTS (AAC) shares MPEG audio's sync bits; its layer bits are 00, which MPEG audio never uses.
  if (head[0] === 0xff && ((head[1] ?? 0) & 0xf6) === 0xf0) return 'audio/aac';
  if (ascii('ID3') || (head[0] === 0xff && ((head[1] ?? 0) & 0xe0) === 0xe0)) return 'audio/mpeg';
  if (ascii('OggS')) return 'audio/ogg';
  if (ascii('fLaC')) return 'audio/flac';
  if (ascii('%PDF')) return 'application/pdf';
  return fallback;
}

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
  'audio/wav': 'wav',
  'audio/mpeg': 'mp3',
  'audio/ogg': 'ogg',
  'audio/flac': 'flac',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
  'audio/opus': 'opus',
  'text/vtt': 'vtt',
  'application/x-subrip': 'srt',
  'application/json': 'json',
  'application/x-ndjson': 'jsonl',
  'text/plain': 'txt',
};

export function extensionFor(contentType: string): string {
  return EXTENSIONS[contentType.split(';')[0]?.trim() ?? ''] ?? 'bin';
}

/**
 * Types an artifact may be stored as: what the bytes' own signature proves (raster images, audio,
 * video), or a declared text type whose bytes read as text and not as markup. Anything else (SVG,
 * HTML, XML, PDF, unknown bytes) could run script or be sniffed into something that does.
 */
const SNIFFED_STORABLE = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'audio/wav',
  'audio/mpeg',
  'audio/ogg',
  'audio/flac',
  'audio/mp4',
  'audio/aac',
  'video/mp4',
  'video/webm',
  'video/quicktime',
]);

/** Declared types kept without a signature: text formats (checked below) and raw PCM audio. */
const DECLARED_STORABLE = new Set([
  'text/plain',
  'text/vtt',
  'application/x-subrip',
  'application/json',
  'application/x-ndjson',
  'audio/pcm',
]);

/** Bytes that a browser could take for markup: a `<` first (after a BOM and white space). */
function looksLikeMarkup(head: Buffer): boolean {
  let text = head.subarray(0, 1024).toString('utf8');
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  return /^\s*</.test(text);
}

/**
 * The content type an artifact is stored under, from its first bytes (at least 64 when there are
 * that many) and the type its source declared: an allow-listed sniffed type, a declared text type
 * whose bytes are not markup, or `application/octet-stream`.
 */
export function storableContentType(head: Buffer, declared?: string | null): string {
  const sniffed = sniffContentType(head, '');
  if (SNIFFED_STORABLE.has(sniffed)) return sniffed;
  if (sniffed !== '') return 'application/octet-stream';
  const type = (declared ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!DECLARED_STORABLE.has(type)) return 'application/octet-stream';
  if (type === 'audio/pcm') return type;
  return looksLikeMarkup(head) ? 'application/octet-stream' : type;
}

/** How many leading bytes `storableContentType` wants to see. */
export const SNIFF_BYTES = 1024;
