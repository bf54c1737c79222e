import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PrismaClient } from './generated/prisma/client';
import { ApiKeysRepository } from './repositories/api-keys.repository';
import { ProjectsRepository } from './repositories/projects.repository';

export type BootstrapResult = {
  projectId: string;
  /** set only when this call created the key (it cannot be shown again later) */
  createdProjectKey: string | null;
  createdAdminKey: string | null;
  /** ADMIN_API_KEY names a key that was revoked: it is not made valid again (rotate the setting) */
  configuredAdminKeyRevoked: boolean;
  /** earlier ADMIN_API_KEY keys this start revoked because the setting changed */
  replacedAdminKeys: number;
};

/** WARNING: persisted name of admin keys that come from the ADMIN_API_KEY setting. */
export const CONFIGURED_ADMIN_KEY_NAME = 'ADMIN_API_KEY';

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
  let configuredAdminKeyRevoked = false;
  let replacedAdminKeys = 0;
  if (adminApiKey) {
    const existing = await apiKeys.findByKeyHash(adminApiKey);
    if (existing?.revokedAt) {
      configuredAdminKeyRevoked = true;
    } else if (!existing) {
      const created = await apiKeys.create({ kind: 'admin', projectId: null, name: CONFIGURED_ADMIN_KEY_NAME, key: adminApiKey }).catch(() => null);
      // A changed setting replaces the key it named before: the old one stops working now.
      if (created) replacedAdminKeys = await apiKeys.revokeAdminKeysNamed(CONFIGURED_ADMIN_KEY_NAME, created.record.id);
    }
  } else if ((await apiKeys.countActive('admin')) === 0) {
    createdAdminKey = (await apiKeys.create({ kind: 'admin', projectId: null, name: 'first-start' })).key;
  }
  return { projectId: project.id, createdProjectKey, createdAdminKey, configuredAdminKeyRevoked, replacedAdminKeys };
}

/** The keys a first start made, one line each; empty when it made none. */
export function firstStartKeyLines(boot: Pick<BootstrapResult, 'createdProjectKey' | 'createdAdminKey'>): string[] {
  const lines: string[] = [];
  if (boot.createdProjectKey) lines.push(`  API key (project "${DEFAULT_PROJECT}"):  ${boot.createdProjectKey}`);
  if (boot.createdAdminKey) lines.push(`  admin key:                    ${boot.createdAdminKey}`);
  return lines;
}

/**
 * Keeps the keys a first start made in `<dataDir>/first-start-keys.txt`, readable by its owner only
 * (0600): the one place they are written when no one watches a terminal. Returns the file's path.
 */
export function keepFirstStartKeys(lines: readonly string[], dataDir: string): string {
  const file = path.join(dataDir, 'first-start-keys.txt');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return file;
}
