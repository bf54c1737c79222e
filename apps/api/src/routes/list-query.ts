import type { Request } from 'express';
import { AppError, MetadataSchema } from '@genqueue/core';
import type { JobListFilter } from '@genqueue/db';
import { parseOr400 } from './validation';
import { AdminListJobsQuerySchema, ListJobsQuerySchema } from './schemas';

/** `metadata[KEY]=VALUE` pairs from the raw query string. */
function metadataFilter(query: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    const match = /^metadata\[(.+)\]$/.exec(key);
    if (!match?.[1]) continue;
    if (typeof value !== 'string') throw new AppError('invalid_request', 'A metadata filter must appear once', [{ path: key, message: 'repeated' }]);
    out[match[1]] = value;
  }
  return parseOr400(MetadataSchema, out, 'metadata filter', 'metadata');
}

/** The query of a job list: `/v1/jobs` takes one status, the admin history a comma-separated list. */
type ListQuerySchema = typeof ListJobsQuerySchema | typeof AdminListJobsQuerySchema;

export function parseListQuery(req: Request, schema: ListQuerySchema = ListJobsQuerySchema): { filter: JobListFilter; limit: number; cursor: string | null } {
  const query = req.query as Record<string, unknown>;
  const known = Object.fromEntries(Object.entries(query).filter(([k]) => !k.startsWith('metadata[')));
  const parsed = parseOr400(schema, known, 'query');
  return {
    filter: {
      type: parsed.type,
      status: parsed.status,
      createdAfter: parsed.created_after ? new Date(parsed.created_after) : undefined,
      createdBefore: parsed.created_before ? new Date(parsed.created_before) : undefined,
      metadata: metadataFilter(query),
      q: parsed.q,
      projectId: parsed.project_id,
    },
    limit: parsed.limit,
    cursor: parsed.cursor ?? null,
  };
}
