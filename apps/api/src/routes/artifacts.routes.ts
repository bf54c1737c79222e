import { pipeline } from 'node:stream';
import { Router, type Request, type Response } from 'express';
import { AppError } from '@genqueue/core';
import type { Artifact } from '@genqueue/db';
import type { ApiDeps } from '../deps';
import { projectIdOf, resolvePrincipal } from '../middleware/auth';

const ARTIFACT_ID = /^art_[0-9A-Z]{26}$/;

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

async function sendArtifact(deps: ApiDeps, artifact: Artifact, req: Request, res: Response): Promise<void> {
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

/** Artifact bytes: with a valid signed link no key is needed; otherwise the owning project's key. */
export function artifactsRoutes(deps: ApiDeps): Router {
  const router = Router();

  router.get('/:id/content', async (req, res) => {
    const id = String(req.params['id']);
    const { expires, sig } = req.query;
    if (typeof sig === 'string' || typeof expires === 'string') {
      if (typeof sig !== 'string' || typeof expires !== 'string' || !deps.artifactUrls.verify(id, expires, sig)) {
        throw new AppError('forbidden', 'This artifact link is invalid or has expired');
      }
      const artifact = ARTIFACT_ID.test(id) ? await deps.artifacts.findById(id) : null;
      if (!artifact) throw new AppError('not_found', `Artifact ${id} not found`);
      return sendArtifact(deps, artifact, req, res);
    }
    await resolvePrincipal(deps.apiKeys, req, 'any');
    const projectId = projectIdOf(req);
    const artifact = ARTIFACT_ID.test(id)
      ? projectId
        ? await deps.artifacts.findForProject(projectId, id)
        : req.principal?.kind === 'admin'
          ? await deps.artifacts.findById(id)
          : null
      : null;
    if (!artifact) throw new AppError('not_found', `Artifact ${id} not found`);
    return sendArtifact(deps, artifact, req, res);
  });

  return router;
}
