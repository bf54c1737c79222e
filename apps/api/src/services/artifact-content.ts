import { pipeline } from 'node:stream';
import type { Request, Response } from 'express';
import type { Artifact } from '@genqueue/db';
import type { ObjectStorage } from '@genqueue/storage';
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

/**
 * Answers an artifact's bytes: whole, or the one range asked for (206; 416 when it cannot be
 * served), with its type, size and sha256 as ETag. HEAD answers the headers only.
 */
export async function sendArtifact(deps: { storage: ObjectStorage; logger: Logger }, artifact: Artifact, req: Request, res: Response): Promise<void> {
  const size = Number(artifact.bytes);
  const range = parseRange(req.header('range'), size);
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', artifact.contentType);
  res.setHeader('ETag', `"${artifact.sha256}"`);
  res.setHeader('Cache-Control', 'private, max-age=3600');
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
