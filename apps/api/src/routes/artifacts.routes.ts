import { Router } from 'express';
import { AppError, isId } from '@genqueue/core';
import type { ApiDeps } from '../deps';
import { projectIdOf, resolvePrincipal } from '../middleware/auth';
import { sendArtifact } from '../services/artifact-content';

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
      const artifact = isId('art', id) ? await deps.artifacts.findById(id) : null;
      if (!artifact) throw new AppError('not_found', `Artifact ${id} not found`);
      return sendArtifact(deps, artifact, req, res);
    }
    await resolvePrincipal(deps.apiKeys, req, 'any');
    const projectId = projectIdOf(req);
    const artifact = isId('art', id)
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
