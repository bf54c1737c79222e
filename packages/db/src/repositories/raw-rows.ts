import type { Artifact, Job } from '../generated/prisma/client';

/*
 * Rows read with raw SQL through the pg pool, in the shapes Prisma answers with. The hottest
 * statements of a job (its insert, its status changes) skip Prisma's query engine this way: in a
 * profile at saturation that engine's JavaScript was a third of the worker's busy time.
 */

type Row = Record<string, unknown>;

/** WARNING: every column of `jobs`, in Prisma's names; a new column needs a line here. */
export function jobFromRow(r: Row): Job {
  return {
    id: r['id'] as string,
    projectId: r['project_id'] as string,
    type: r['type'] as string,
    status: r['status'] as string,
    input: r['input'] as Job['input'],
    output: (r['output'] ?? null) as Job['output'],
    error: (r['error'] ?? null) as Job['error'],
    progress: r['progress'] as number,
    attempts: r['attempts'] as number,
    metadata: r['metadata'] as Job['metadata'],
    priority: r['priority'] as number,
    idempotencyKey: (r['idempotency_key'] ?? null) as string | null,
    idempotencyHash: (r['idempotency_hash'] ?? null) as string | null,
    webhookUrl: (r['webhook_url'] ?? null) as string | null,
    webhookEvents: (r['webhook_events'] ?? []) as string[],
    upstreamTaskId: (r['upstream_task_id'] ?? null) as string | null,
    upstreamStatus: (r['upstream_status'] ?? null) as string | null,
    upstreamState: (r['upstream_state'] ?? null) as Job['upstreamState'],
    receivedOutput: (r['received_output'] ?? null) as Job['receivedOutput'],
    parentId: (r['parent_id'] ?? null) as string | null,
    eventSeq: r['event_seq'] as number,
    queueExpiresAt: r['queue_expires_at'] as Date,
    ttlSec: r['ttl_sec'] as number,
    inactivityTimeoutSec: r['inactivity_timeout_sec'] as number,
    deadlineSec: r['deadline_sec'] as number,
    deadlineAt: (r['deadline_at'] ?? null) as Date | null,
    lastProgressAt: (r['last_progress_at'] ?? null) as Date | null,
    searchText: (r['search_text'] ?? null) as string | null,
    createdAt: r['created_at'] as Date,
    updatedAt: r['updated_at'] as Date,
    startedAt: (r['started_at'] ?? null) as Date | null,
    finishedAt: (r['finished_at'] ?? null) as Date | null,
    prunedAt: (r['pruned_at'] ?? null) as Date | null,
  };
}

/** An artifact row as `json_agg` gives it (timestamps as text, bigint as a number). */
export function artifactFromJson(r: Row): Artifact {
  return {
    id: r['id'] as string,
    projectId: r['project_id'] as string,
    jobId: (r['job_id'] ?? null) as string | null,
    kind: r['kind'] as string,
    contentType: r['content_type'] as string,
    bytes: BigInt(r['bytes'] as number | string),
    sha256: r['sha256'] as string,
    storageKey: r['storage_key'] as string,
    sourceUrl: (r['source_url'] ?? null) as string | null,
    createdAt: new Date(r['created_at'] as string),
  };
}
