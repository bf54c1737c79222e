import { Router, type Request } from 'express';
import { z } from 'zod';
import { AppError, isId, newId } from '@genqueue/core';
import type { File } from '@genqueue/db';
import type { ApiDeps } from '../deps';
import { projectIdOf } from '../middleware/auth';
import { FILE_PURPOSES, receiveUpload } from '../services/multipart-upload';
import { targetProjectOf } from '../services/target-project';

/** An uploaded file's metadata, as `publicFile` answers it. */
export const FileSchema = z.object({
  id: z.string(),
  object: z.literal('file'),
  purpose: z.enum(FILE_PURPOSES),
  filename: z.string(),
  bytes: z.int().min(0),
  content_type: z.string(),
  sha256: z.string(),
  created_at: z.string(),
});
export const DeletedFileSchema = z.object({ id: z.string(), object: z.literal('file'), deleted: z.literal(true) });

export function publicFile(file: File): z.output<typeof FileSchema> {
  return {
    id: file.id,
    object: 'file',
    purpose: file.purpose as z.output<typeof FileSchema>['purpose'],
    filename: file.filename,
    bytes: Number(file.bytes),
    content_type: file.contentType,
    sha256: file.sha256,
    created_at: file.createdAt.toISOString(),
  };
}

export function filesRoutes(deps: ApiDeps): Router {
  const router = Router();

  /** The file named in the path, if the caller may see it (any project's for the admin key); 404 otherwise. */
  async function ownedFile(req: Request): Promise<File> {
    const id = String(req.params['id']);
    const projectId = projectIdOf(req);
    let file: File | null = null;
    if (isId('file', id)) {
      if (projectId) file = await deps.files.findForProject(projectId, id);
      else if (req.principal?.kind === 'admin') file = await deps.prisma.file.findFirst({ where: { id, deletedAt: null } });
    }
    if (!file) throw new AppError('not_found', `File ${id} not found`);
    return file;
  }

  router.post('/', async (req, res) => {
    const projectId = await targetProjectOf(req, deps.projects);
    const id = newId('file');
    const storageKey = `files/${projectId}/${id}`;
    const upload = await receiveUpload(req, deps.storage, storageKey, deps.settings.uploadLimitBytes);
    try {
      const file = await deps.files.create({ id, projectId, storageKey, ...upload });
      res.status(201).json(publicFile(file));
    } catch (err) {
      await deps.storage.delete(storageKey).catch(() => undefined);
      throw err;
    }
  });

  router.get('/:id', async (req, res) => {
    res.json(publicFile(await ownedFile(req)));
  });

  router.delete('/:id', async (req, res) => {
    const file = await ownedFile(req);
    const deleted = await deps.files.markDeleted(file.projectId, file.id);
    if (deleted) await deps.storage.delete(file.storageKey);
    res.json({ id: file.id, object: 'file', deleted: true });
  });

  return router;
}
