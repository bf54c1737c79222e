import type { JobStatus } from '@genqueue/core';
import type { JobPatch } from './job-patch';

/*
 * The SET clause of a raw status change (the one-statement path, single and batched, and the
 * two-statement transaction): what a change to each status writes, with the caller's patch.
 */

/** Column ← SQL value of a raw status change: JSON goes as text cast to jsonb, SQL NULL for null. */
export type RawSets = Map<string, { sql: string } | { value: unknown; cast?: string }>;

/** Each patch field: its column, its SQL type, and its value as text (null: SQL NULL). */
const PATCH_COLUMNS: { [K in keyof Required<JobPatch>]: { column: string; type: string; text: (value: JobPatch[K]) => string | null } } = {
  output: { column: 'output', type: 'jsonb', text: (v) => JSON.stringify(v) },
  error: { column: 'error', type: 'jsonb', text: (v) => (v === null ? null : JSON.stringify(v)) },
  progress: { column: 'progress', type: 'integer', text: (v) => String(v) },
  upstreamTaskId: { column: 'upstream_task_id', type: 'text', text: (v) => v ?? null },
  upstreamStatus: { column: 'upstream_status', type: 'text', text: (v) => v ?? null },
  upstreamState: { column: 'upstream_state', type: 'jsonb', text: (v) => (v === null ? null : JSON.stringify(v)) },
  lastProgressAt: { column: 'last_progress_at', type: 'timestamptz', text: (v) => (v as Date).toISOString() },
};

const patchFields = (patch: JobPatch) => (Object.keys(PATCH_COLUMNS) as (keyof JobPatch)[]).filter((field) => patch[field] !== undefined);

/** The patch's fields, in a stable order: the statement a batch of such patches shares. */
export function patchShape(patch: JobPatch): string {
  return patchFields(patch).join(',');
}

/** The patch as a record of text values by column (a row of a batched change's `jsonb_to_recordset`). */
export function patchRecord(patch: JobPatch): Record<string, string | null> {
  const record: Record<string, string | null> = {};
  for (const field of patchFields(patch)) {
    const { column, text } = PATCH_COLUMNS[field] as { column: string; text: (value: unknown) => string | null };
    record[column] = text(patch[field]);
  }
  return record;
}

/** `column text` for each field of the patch: the record definition of a batched change. */
export function patchRecordColumns(patch: JobPatch): string[] {
  return patchFields(patch).map((field) => `${PATCH_COLUMNS[field].column} text`);
}

/**
 * The patch's assignments: its values as parameters, or, with `fromRecord`, read from that alias's
 * columns (a batched change, each row with its own patch).
 */
function rawPatchSets(patch: JobPatch, sets: RawSets, fromRecord?: string): void {
  for (const field of patchFields(patch)) {
    const { column, type, text } = PATCH_COLUMNS[field] as { column: string; type: string; text: (value: unknown) => string | null };
    if (fromRecord) {
      sets.set(column, { sql: `${fromRecord}.${column}::${type}` });
      continue;
    }
    const value = text(patch[field]);
    if (value === null) sets.set(column, { sql: 'NULL' });
    else sets.set(column, type === 'text' ? { value } : { value, cast: type });
  }
}

/**
 * The columns a status change to `to` sets (besides the patch), for the raw paths. `params` gets the
 * values the SQL refers to by number; the caller's own parameters must already be in it. With
 * `fromRecord`, the patch's values are that alias's columns (patchRecord), not parameters.
 */
export function statusChangeSets(to: JobStatus, patch: JobPatch, now: Date, params: unknown[], fromRecord?: string): RawSets {
  const sets: RawSets = new Map();
  rawPatchSets(patch, sets, fromRecord);
  sets.set('status', { value: to });
  sets.set('event_seq', { sql: 'j.event_seq + 1' });
  sets.set('updated_at', { value: now });
  // a kept result belongs to the run that received it: any status change ends it
  sets.set('received_output', { sql: 'NULL' });
  if (to === 'running') {
    sets.set('started_at', { value: now });
    sets.set('last_progress_at', { value: now });
    sets.set('attempts', { sql: 'j.attempts + 1' });
    sets.set('finished_at', { sql: 'NULL' });
    params.push(now);
    sets.set('deadline_at', { sql: `$${params.length}::timestamptz + make_interval(secs => j.deadline_sec)` });
  }
  if (to === 'succeeded' || to === 'failed' || to === 'canceled' || to === 'expired') sets.set('finished_at', { value: now });
  if (to === 'succeeded') sets.set('progress', { value: 100 });
  return sets;
}

/** `column = value` for each set, its values appended to `params`. */
export function rawAssignments(sets: RawSets, params: unknown[]): string {
  return [...sets]
    .map(([column, v]) => {
      if ('sql' in v) return `${column} = ${v.sql}`;
      params.push(v.value);
      return `${column} = $${params.length}${v.cast ? `::${v.cast}` : ''}`;
    })
    .join(', ');
}
