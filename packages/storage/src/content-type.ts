/** Recognises common media types from their first bytes; `fallback` when nothing matches. */
export function sniffContentType(head: Buffer, fallback = 'application/octet-stream'): string {
  const starts = (sig: number[], offset = 0): boolean => sig.every((b, i) => head[offset + i] === b);
  const ascii = (text: string, offset = 0): boolean => head.subarray(offset, offset + text.length).toString('latin1') === text;
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (ascii('GIF87a') || ascii('GIF89a')) return 'image/gif';
  if (ascii('RIFF') && ascii('WEBP', 8)) return 'image/webp';
  if (ascii('RIFF') && ascii('WAVE', 8)) return 'audio/wav';
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
