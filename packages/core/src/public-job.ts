import { z } from 'zod';
import { JOB_ERROR_CODES, type JobError } from './errors';
import { JOB_STATUSES } from './job-status';

/** A job row as the domain sees it (camelCase); repositories return this shape. */
export type JobRecord = {
  id: string;
  projectId: string;
  type: string;
  status: string;
  input: unknown;
  output: unknown;
  error: unknown;
  progress: number;
  attempts: number;
  metadata: unknown;
  priority: number;
  webhookUrl: string | null;
  webhookEvents: string[];
  upstreamTaskId: string | null;
  upstreamStatus: string | null;
  parentId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** set once retention removed the job's details (rows from before the column may lack it) */
  prunedAt?: Date | null;
};

export type ArtifactRecord = {
  id: string;
  jobId: string | null;
  kind: string;
  contentType: string;
  bytes: bigint | number;
  sha256: string;
  createdAt: Date;
};

/**
 * The wire form of an artifact. This schema, `PublicJobSchema` and `JobErrorSchema` are what
 * `/openapi.json` documents and what the API's tests hold real answers against; the types below are
 * checked against them (same keys), so the code and the document cannot drift apart.
 */
export const PublicArtifactSchema = z.object({
  id: z.string(),
  object: z.literal('artifact'),
  kind: z.string(),
  content_type: z.string(),
  bytes: z.int().min(0),
  sha256: z.string(),
  url: z.string().optional().describe('a signed link to the bytes (valid 24 h, no key needed); absent in stored event snapshots'),
});

/** A failed job's `error` (api.md Jobs). */
export const JobErrorSchema = z.object({
  code: z.enum(JOB_ERROR_CODES),
  message: z.string(),
  retryable: z.boolean(),
});

/** `GET /v1/jobs/{id}` and every other answer that carries a job. */
export const PublicJobSchema = z.object({
  id: z.string(),
  object: z.literal('job'),
  type: z.string(),
  status: z.enum(JOB_STATUSES),
  progress: z.number().min(0).max(100),
  input: z.record(z.string(), z.unknown()).describe('the input with its defaults filled in; in event snapshots an input over 8 KiB is {"truncated": true, "bytes": N}'),
  output: z.record(z.string(), z.unknown()).nullable(),
  error: JobErrorSchema.nullable(),
  artifacts: z.array(PublicArtifactSchema),
  metadata: z.record(z.string(), z.string()),
  webhook_url: z.string().nullable(),
  webhook_events: z.array(z.string()),
  priority: z.int(),
  attempts: z.int().min(0),
  upstream: z.object({ task_id: z.string().nullable(), status: z.string().nullable() }),
  parent_id: z.string().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  pruned_at: z.string().nullable().describe('when retention removed the job’s events, attempts, deliveries and artifacts (the job stays as a summary, its artifacts list empty); null until then'),
});

export type PublicArtifact = {
  id: string;
  object: 'artifact';
  kind: string;
  content_type: string;
  bytes: number;
  sha256: string;
  url?: string;
};

export type PublicJob = {
  id: string;
  object: 'job';
  type: string;
  status: string;
  progress: number;
  input: unknown;
  output: unknown;
  error: JobError | null;
  artifacts: PublicArtifact[];
  metadata: unknown;
  webhook_url: string | null;
  webhook_events: string[];
  priority: number;
  attempts: number;
  upstream: { task_id: string | null; status: string | null };
  parent_id: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** when retention removed the job's events, attempts, deliveries and artifacts; null until then */
  pruned_at: string | null;
};

/** Compile-time: the view types and their schemas name the same fields (a field added to one only fails to build). */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
const viewsMatchSchemas: [SameKeys<PublicJob, z.output<typeof PublicJobSchema>>, SameKeys<PublicArtifact, z.output<typeof PublicArtifactSchema>>, SameKeys<JobError, z.output<typeof JobErrorSchema>>] = [true, true, true];
void viewsMatchSchemas;

/** Signs an artifact id into a URL; supplied by the API (it knows the public base URL and the secret). */
export type ArtifactUrlSigner = (artifactId: string) => string;

export function toPublicArtifact(artifact: ArtifactRecord, signUrl?: ArtifactUrlSigner): PublicArtifact {
  const view: PublicArtifact = {
    id: artifact.id,
    object: 'artifact',
    kind: artifact.kind,
    content_type: artifact.contentType,
    bytes: Number(artifact.bytes),
    sha256: artifact.sha256,
  };
  if (signUrl) view.url = signUrl(artifact.id);
  return view;
}

/** The wire form of a job (snake_case). Without a signer, artifacts carry no `url` (stored event snapshots). */
export function toPublicJob(job: JobRecord, artifacts: ArtifactRecord[], signUrl?: ArtifactUrlSigner): PublicJob {
  return {
    id: job.id,
    object: 'job',
    type: job.type,
    status: job.status,
    progress: job.progress,
    input: job.input,
    output: job.output ?? null,
    error: (job.error as JobError | null) ?? null,
    artifacts: artifacts.map((a) => toPublicArtifact(a, signUrl)),
    metadata: job.metadata ?? {},
    webhook_url: job.webhookUrl,
    webhook_events: job.webhookEvents,
    priority: job.priority,
    attempts: job.attempts,
    upstream: { task_id: job.upstreamTaskId, status: job.upstreamStatus },
    parent_id: job.parentId,
    created_at: job.createdAt.toISOString(),
    started_at: job.startedAt?.toISOString() ?? null,
    finished_at: job.finishedAt?.toISOString() ?? null,
    pruned_at: job.prunedAt?.toISOString() ?? null,
  };
}

/**
 * An input whose JSON is larger than this is not copied into event snapshots (and so webhook
 * payloads): a job writes one snapshot per change, and 10 MB inputs times a hundred progress events
 * would be a gigabyte per job. The job row and `GET /v1/jobs/{id}` keep the whole input.
 */
export const EVENT_INPUT_MAX_BYTES = 8 * 1024;

/** What a snapshot carries as `input` in place of an oversized one. */
export type TruncatedInput = { truncated: true; bytes: number };

/** The input itself, or `{"truncated": true, "bytes": N}` (N: its JSON's UTF-8 length) when over the cap. */
export function cappedInput(input: unknown): unknown {
  const json = JSON.stringify(input ?? null);
  // a string's UTF-8 length is at most 3 bytes per UTF-16 unit: most inputs need no encoding at all
  if (json.length * 3 <= EVENT_INPUT_MAX_BYTES) return input;
  const bytes = new TextEncoder().encode(json).length;
  return bytes > EVENT_INPUT_MAX_BYTES ? ({ truncated: true, bytes } satisfies TruncatedInput) : input;
}

/** The job as an event row (and its webhook payload) keeps it: the public view, input capped, no artifact URLs. */
export function toEventSnapshot(job: JobRecord, artifacts: ArtifactRecord[]): PublicJob {
  return { ...toPublicJob(job, artifacts), input: cappedInput(job.input) };
}

/** Adds fresh signed URLs to the artifacts of a stored snapshot (events keep none: they would expire). */
export function withSignedArtifactUrls(job: PublicJob, signUrl: ArtifactUrlSigner): PublicJob {
  return { ...job, artifacts: job.artifacts.map((a) => ({ ...a, url: signUrl(a.id) })) };
}
