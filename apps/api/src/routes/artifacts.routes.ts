import { Router } from 'express';
import { AppError } from '@genqueue/core';
import type { ApiDeps } from '../deps';
import { projectIdOf, resolvePrincipal } from '../middleware/auth';
import { sendArtifact } from '../services/artifact-content';

export const ARTIFACT_ID = /^art_[0-9A-Z]{26}$/;

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
