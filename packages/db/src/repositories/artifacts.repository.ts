import { GroupCommit, newId } from '@genqueue/core';
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

/** Artifact rows asked for while an insert is in flight go together in the next one. */
function artifactInserts(pool: pg.Pool): GroupCommit<Omit<Artifact, 'createdAt'>, Date> {
  const insertMany = async (rows: readonly Omit<Artifact, 'createdAt'>[]): Promise<Date[]> => {
    const records = rows.map((row) => ({
      id: row.id, project_id: row.projectId, job_id: row.jobId, kind: row.kind, content_type: row.contentType,
      bytes: String(row.bytes), sha256: row.sha256, storage_key: row.storageKey, source_url: row.sourceUrl,
    }));
    const { rows: inserted } = await pool.query<{ id: string; created_at: Date }>(
      `INSERT INTO artifacts (id, project_id, job_id, kind, content_type, bytes, sha256, storage_key, source_url)
       SELECT r.id, r.project_id, r.job_id, r.kind, r.content_type, r.bytes::bigint, r.sha256, r.storage_key, r.source_url
         FROM jsonb_to_recordset($1::jsonb)
           AS r(id text, project_id text, job_id text, kind text, content_type text, bytes text, sha256 text, storage_key text, source_url text)
       RETURNING id, created_at`,
      [JSON.stringify(records)],
    );
    const byId = new Map(inserted.map((row) => [row.id, row.created_at]));
    return rows.map((row) => byId.get(row.id)!);
  };
  return new GroupCommit({
    runBatch: insertMany,
    maxBatch: 100,
    maxInFlight: 2,
    keyOf: (row) => row.id,
  });
}

export class ArtifactsRepository {
  /** the client's pg pool: a job's artifact insert and detach (on every run) go through it as raw SQL */
  private readonly pool: pg.Pool | undefined;

  /** inserts of new artifacts, grouped across concurrent callers (one per stored output); answer: created_at */
  private readonly inserts: GroupCommit<Omit<Artifact, 'createdAt'>, Date> | undefined;

  constructor(private readonly db: PrismaClient) {
    this.pool = poolOf(db);
    this.inserts = this.pool ? artifactInserts(this.pool) : undefined;
  }

  async create(input: NewArtifact): Promise<Artifact> {
    if (this.inserts) {
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
      return { ...row, createdAt: await this.inserts.run(row) };
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
