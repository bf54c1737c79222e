import { newId } from '@genqueue/core';
import type { Artifact, PrismaClient } from '../generated/prisma/client';

export type NewArtifact = {
  id?: string;
  projectId: string;
  jobId: string | null;
  kind: string;
  contentType: string;
  bytes: number;
  sha256: string;
  storageKey: string;
  sourceUrl?: string | null;
};

export class ArtifactsRepository {
  constructor(private readonly db: PrismaClient) {}

  create(input: NewArtifact): Promise<Artifact> {
    return this.db.artifact.create({
      data: { ...input, id: input.id ?? newId('art'), bytes: BigInt(input.bytes), sourceUrl: input.sourceUrl ?? null },
    });
  }

  findById(id: string): Promise<Artifact | null> {
    return this.db.artifact.findUnique({ where: { id } });
  }

  listByIds(ids: readonly string[]): Promise<Artifact[]> {
    return ids.length === 0 ? Promise.resolve([]) : this.db.artifact.findMany({ where: { id: { in: [...ids] } } });
  }

  findForProject(projectId: string, id: string): Promise<Artifact | null> {
    return this.db.artifact.findFirst({ where: { id, projectId } });
  }

  listForJob(jobId: string): Promise<Artifact[]> {
    return this.db.artifact.findMany({ where: { jobId }, orderBy: { createdAt: 'asc' } });
  }

  async listForJobs(jobIds: string[]): Promise<Map<string, Artifact[]>> {
    const rows = await this.db.artifact.findMany({ where: { jobId: { in: jobIds } }, orderBy: { createdAt: 'asc' } });
    const byJob = new Map<string, Artifact[]>();
    for (const row of rows) {
      if (!row.jobId) continue;
      const list = byJob.get(row.jobId) ?? [];
      list.push(row);
      byJob.set(row.jobId, list);
    }
    return byJob;
  }

  /** Artifacts of a job made by an earlier run (a retry replaces them). */
  async detachFromJob(jobId: string): Promise<void> {
    await this.db.artifact.updateMany({ where: { jobId }, data: { jobId: null } });
  }
}
