/**
 * Media inside chat text (§6): markdown images and links whose target is a `data:` or http(s)
 * URL, plus bare http(s) links to .mp4/.webm/.mov files. Linear in the text size, so a
 * multi-MB base64 image is fine.
 */

export interface MediaLink {
  kind: 'data' | 'url';
  url: string;
  /** From the `data:` header, or guessed from a known file extension. */
  mimeType?: string;
}

// Alt text is bounded so a text full of '[' cannot make the scan quadratic.
const MARKDOWN_URL_LINK = /!?\[[^\]\n]{0,2000}\]\(\s*(https?:\/\/[^)\s]+)(?:\s+"[^"\n]{0,500}")?\s*\)/g;
// A data: link's body (megabytes of base64) is found with indexOf, not a regex: a regex loop over
// it could exhaust the regex engine's backtracking stack.
const MARKDOWN_DATA_LINK_START = /!?\[[^\]\n]{0,2000}\]\(\s*data:/g;
const BARE_URL = /https?:\/\/[^\s<>"'()[\]{}]+/g;
const VIDEO_PATH = /\.(mp4|webm|mov)$/i;

const EXTENSION_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
};

export function extractMediaLinks(text: string): MediaLink[] {
  const found: Array<{ index: number; link: MediaLink }> = [];

  for (const match of text.matchAll(MARKDOWN_URL_LINK)) {
    const link = match[1] === undefined ? undefined : urlLink(match[1]);
    if (link) found.push({ index: match.index, link });
  }

  MARKDOWN_DATA_LINK_START.lastIndex = 0;
  for (let start = MARKDOWN_DATA_LINK_START.exec(text); start; start = MARKDOWN_DATA_LINK_START.exec(text)) {
    const targetAt = start.index + start[0].length - 'data:'.length;
    const close = text.indexOf(')', targetAt);
    if (close === -1) break;
    const link = close > targetAt + 'data:'.length ? dataLink(text.slice(targetAt, close)) : undefined;
    if (link) found.push({ index: start.index, link });
    MARKDOWN_DATA_LINK_START.lastIndex = close + 1;
  }

  for (const match of text.matchAll(BARE_URL)) {
    const candidate = match[0].replace(/[.,;:!?*_~`]+$/, '');
    const link = urlLink(candidate);
    if (!link) continue;
    let pathname: string;
    try {
      pathname = new URL(link.url).pathname;
    } catch {
      continue;
    }
    if (VIDEO_PATH.test(pathname)) found.push({ index: match.index, link });
  }

  found.sort((a, b) => a.index - b.index);
  const seen = new Set<string>();
  const links: MediaLink[] = [];
  for (const { link } of found) {
    if (seen.has(link.url)) continue;
    seen.add(link.url);
    links.push(link);
  }
  return links;
}

function dataLink(target: string): MediaLink | undefined {
  // Some models wrap long base64 lines; whitespace is never part of a data: URL.
  const url = /\s/.test(target) ? target.replace(/\s+/g, '') : target;
  const header = /^data:([^;,]*)[;,]/i.exec(url.slice(0, 256));
  if (!header || url.indexOf(',') === -1) return undefined;
  const link: MediaLink = { kind: 'data', url };
  const mimeType = header[1]?.trim().toLowerCase();
  if (mimeType) link.mimeType = mimeType;
  return link;
}

function urlLink(target: string): MediaLink | undefined {
  let parsed: URL;
  try {
    parsed = new URL(target);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  const link: MediaLink = { kind: 'url', url: target };
  const extension = /\.([a-z0-9]{2,5})$/i.exec(parsed.pathname)?.[1]?.toLowerCase();
  const mimeType = extension === undefined ? undefined : EXTENSION_TYPES[extension];
  if (mimeType !== undefined) link.mimeType = mimeType;
  return link;
}
