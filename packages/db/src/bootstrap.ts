import type { PrismaClient } from './generated/prisma/client';
import { ApiKeysRepository } from './repositories/api-keys.repository';
import { ProjectsRepository } from './repositories/projects.repository';

export type BootstrapResult = {
  projectId: string;
  /** set only when this call created the key (it cannot be shown again later) */
  createdProjectKey: string | null;
  createdAdminKey: string | null;
};

export const DEFAULT_PROJECT = 'default';

/**
 * First start: the `default` project, a key for it, and an admin key (or the configured
 * ADMIN_API_KEY, stored hashed). Safe to run from several processes at once and on every start.
 */
export async function ensureBootstrap(prisma: PrismaClient, adminApiKey?: string): Promise<BootstrapResult> {
  const projects = new ProjectsRepository(prisma);
  const apiKeys = new ApiKeysRepository(prisma);
  let project = await projects.findByName(DEFAULT_PROJECT);
  let createdProjectKey: string | null = null;
  if (!project) {
    try {
      project = await projects.create(DEFAULT_PROJECT);
      createdProjectKey = (await apiKeys.create({ kind: 'project', projectId: project.id, name: 'first-start' })).key;
    } catch {
      project = await projects.findByName(DEFAULT_PROJECT);
      if (!project) throw new Error('could not create the default project');
    }
  }
  let createdAdminKey: string | null = null;
  if (adminApiKey) {
    if (!(await apiKeys.findByKeyHash(adminApiKey))) {
      await apiKeys.create({ kind: 'admin', projectId: null, name: 'ADMIN_API_KEY', key: adminApiKey }).catch(() => undefined);
    }
  } else if ((await apiKeys.countActive('admin')) === 0) {
    createdAdminKey = (await apiKeys.create({ kind: 'admin', projectId: null, name: 'first-start' })).key;
  }
  return { projectId: project.id, createdProjectKey, createdAdminKey };
}
