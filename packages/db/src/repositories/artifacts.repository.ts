import { newId } from '@genqueue/core';
import type pg from 'pg';
import { poolOf } from '../client';
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
  /** the client's pg pool: a job's artifact insert and detach (on every run) go through it as raw SQL */
  private readonly pool: pg.Pool | undefined;

  constructor(private readonly db: PrismaClient) {
    this.pool = poolOf(db);
  }

  async create(input: NewArtifact): Promise<Artifact> {
    if (this.pool) {
      const row: Omit<Artifact, 'createdAt'> = {
        id: input.id ?? newId('art'),
        projectId: input.projectId,
        jobId: input.jobId,
        kind: input.kind,
        contentType: input.contentType,
        bytes: BigInt(input.bytes),
        sha256: input.sha256,
        storageKey: input.storageKey,
        sourceUrl: input.sourceUrl ?? null,
      };
      const { rows } = await this.pool.query<{ created_at: Date }>(
        `INSERT INTO artifacts (id, project_id, job_id, kind, content_type, bytes, sha256, storage_key, source_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING created_at`,
        [row.id, row.projectId, row.jobId, row.kind, row.contentType, String(row.bytes), row.sha256, row.storageKey, row.sourceUrl],
      );
      return { ...row, createdAt: rows[0]!.created_at };
    }
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
    if (this.pool) {
      await this.pool.query('UPDATE artifacts SET job_id = NULL WHERE job_id = $1', [jobId]);
      return;
    }
    await this.db.artifact.updateMany({ where: { jobId }, data: { jobId: null } });
  }
}
