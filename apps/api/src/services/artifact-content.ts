import { pipeline } from 'node:stream';
import type { Request, Response } from 'express';
import type { Artifact } from '@genqueue/db';
import { servingOf, type ObjectStorage } from '@genqueue/storage';
import type { Logger } from 'pino';

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; null when absent, 'invalid' when unsatisfiable. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'invalid' {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return 'invalid';
  const [, from, to] = match;
  let start: number;
  let end: number;
  if (from === '') {
    const suffix = Number(to);
    if (!suffix) return 'invalid';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(from);
    end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  }
  return start > end || start >= size ? 'invalid' : { start, end };
}

/** `If-None-Match` names this ETag (or `*`). */
function isNotModified(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed === etag || trimmed === `W/${etag}`;
  });
}

/**
 * Answers an artifact's bytes: whole, or the one range asked for (206; 416 when it cannot be
 * served), with its size and sha256 as ETag (`If-None-Match` → 304). Every answer is inert: an
 * allow-listed type inline, anything else as an attachment, with `nosniff` and a sandboxing CSP so
 * that even a page opened from it cannot run script on our origin. HEAD answers the headers only.
 */
export async function sendArtifact(deps: { storage: ObjectStorage; logger: Logger }, artifact: Artifact, req: Request, res: Response): Promise<void> {
  const size = Number(artifact.bytes);
  const range = parseRange(req.header('range'), size);
  const serving = servingOf(artifact);
  const etag = `"${artifact.sha256}"`;
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', serving.contentType);
  res.setHeader('Content-Disposition', serving.disposition);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'");
  res.setHeader('ETag', etag);
  res.setHeader('Cache-Control', 'private, max-age=3600');
  if (isNotModified(req.header('if-none-match'), etag)) {
    res.status(304).end();
    return;
  }
  if (range === 'invalid') {
    res.status(416).setHeader('Content-Range', `bytes */${size}`).end();
    return;
  }
  if (range) {
    res.status(206);
    res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
    res.setHeader('Content-Length', String(range.end - range.start + 1));
  } else {
    res.setHeader('Content-Length', String(size));
  }
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  // pipeline closes the file when the client goes away (a <video> seeking does that all the time)
  pipeline(deps.storage.read(artifact.storageKey, range ?? undefined), res, (err) => {
    if (err && (err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
      deps.logger.error({ err, artifactId: artifact.id }, 'artifact.read_failed');
    }
  });
}
