import { eventTypeFor, KeyedGroupCommits, newId, RUN_ALONE, type JobStatus } from '@genqueue/core';
import type pg from 'pg';
import type { Job, JobEvent } from '../generated/prisma/client';
import { lockingStatementGroup } from './grouped-job-statements';
import type { JobPatch } from './job-patch';
import { jobFromRow } from './raw-rows';
import { patchRecord, patchRecordColumns, patchShape, rawAssignments, statusChangeSets } from './status-change-sql';

/**
 * Signals the one-statement path to give the change to the two-statement transaction: the job may
 * have webhooks to write (its own URL or its project's endpoints), a start may need its project's
 * running slot, or the job has no earlier event to take the snapshot's input from.
 */
export const USE_TRANSACTION_PATH = Symbol('use-transaction-path');

export type TransitionCall = { jobId: string; to: JobStatus; patch: JobPatch; allowed: readonly JobStatus[] };
/** A change made (the jobs repository's `Change`, with no webhook deliveries), null, or the transaction path. */
export type OneStatementResult = { job: Job; event: JobEvent; deliveryIds: string[] } | null | typeof USE_TRANSACTION_PATH;

/** Most changes in one statement. */
const MAX_BATCH = 100;

/** A timestamptz column as `Date.toISOString()` writes it (the columns hold milliseconds). */
const isoSql = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * `toEventSnapshot` (@genqueue/core) of the updated row `u`, built by Postgres. The input is the
 * previous event's: a job's input never changes, and its first event (written at submission by
 * `toEventSnapshot`) holds it already capped. jobs-transition.test.ts keeps the two equal.
 */
const EVENT_SNAPSHOT_SQL = `jsonb_build_object(
  'id', u.id, 'object', 'job', 'type', u.type, 'status', u.status, 'progress', u.progress,
  'input', u.prev_input, 'output', u.output, 'error', u.error,
  'artifacts', coalesce((SELECT jsonb_agg(jsonb_build_object('id', a.id, 'object', 'artifact', 'kind', a.kind,
      'content_type', a.content_type, 'bytes', a.bytes, 'sha256', a.sha256) ORDER BY a.created_at)
    FROM artifacts a WHERE a.job_id = u.id), '[]'::jsonb),
  'metadata', coalesce(u.metadata, '{}'::jsonb), 'webhook_url', u.webhook_url, 'webhook_events', to_jsonb(u.webhook_events),
  'priority', u.priority, 'attempts', u.attempts,
  'upstream', jsonb_build_object('task_id', u.upstream_task_id, 'status', u.upstream_status),
  'parent_id', u.parent_id, 'created_at', ${isoSql('u.created_at')}, 'started_at', ${isoSql('u.started_at')},
  'finished_at', ${isoSql('u.finished_at')}, 'pruned_at', ${isoSql('u.pruned_at')})`;

/**
 * Status changes of the same shape (target status, statuses it may come from, patch fields) as one
 * statement: the guarded updates and their event inserts, each snapshot built by Postgres
 * (EVENT_SNAPSHOT_SQL), in one round trip and one implicit transaction. Answers per call, in order:
 * the change; null when the job is gone or in a status the change does not start from;
 * USE_TRANSACTION_PATH when the change needs more; with `skipLocked`, RUN_ALONE for a job whose row
 * another transaction holds (a batch never waits on one job's lock).
 */
async function changeInOneStatement(
  pool: pg.Pool,
  calls: readonly TransitionCall[],
  skipLocked: boolean,
): Promise<Array<OneStatementResult | typeof RUN_ALONE>> {
  const { to, allowed, patch } = calls[0]!;
  const now = new Date();
  const type = eventTypeFor(to);
  const eventIds = calls.map(() => newId('evt'));
  const records = calls.map((call, n) => ({ n, id: call.jobId, event_id: eventIds[n], ...patchRecord(call.patch) }));
  const jobIds = calls.map((call) => call.jobId);
  const params: unknown[] = [JSON.stringify(records), [...allowed], to === 'running', type, now, jobIds];
  const assignments = rawAssignments(statusChangeSets(to, patch, now, params, 'r'), params);
  const recordColumns = ['n int', 'id text', 'event_id text', ...patchRecordColumns(patch)].join(', ');
  const { rows } = await pool.query(
    `WITH req AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(${recordColumns})
     ), cur AS (
       SELECT r.n, j.id, j.status, j.webhook_url, p.limits,
              EXISTS (SELECT 1 FROM webhook_endpoints e
                       WHERE e.project_id = j.project_id AND e.deleted_at IS NULL AND e.disabled_at IS NULL) AS has_endpoints,
              (SELECT e.data -> 'input' FROM job_events e WHERE e.job_id = j.id ORDER BY e.seq DESC LIMIT 1) AS prev_input
         FROM req r JOIN jobs j ON j.id = r.id JOIN projects p ON p.id = j.project_id
        WHERE j.id = ANY($6::text[])
        ORDER BY j.id
          FOR UPDATE OF j${skipLocked ? ' SKIP LOCKED' : ''}
     ), upd AS (
       UPDATE jobs j SET ${assignments}
         FROM cur JOIN req r ON r.n = cur.n
        WHERE j.id = cur.id AND j.id = ANY($6::text[]) AND cur.status = ANY($2::text[])
          AND NOT ($3::boolean AND coalesce(jsonb_typeof(cur.limits -> 'max_running_jobs'), '') = 'number')
          AND cur.webhook_url IS NULL AND NOT cur.has_endpoints AND cur.prev_input IS NOT NULL
       RETURNING j.*, cur.prev_input, r.n AS "upd$n", r.event_id AS "upd$event_id"
     ), ev AS (
       INSERT INTO job_events (id, job_id, project_id, seq, type, data, created_at)
       SELECT u."upd$event_id", u.id, u.project_id, u.event_seq, $4, ${EVENT_SNAPSHOT_SQL}, $5::timestamptz FROM upd u
       RETURNING job_id, data
     )
     SELECT r.n AS "req$n", cur.status AS "cur$status", ev.data AS "ev$data", upd.*
       FROM req r LEFT JOIN cur ON cur.n = r.n LEFT JOIN upd ON upd."upd$n" = r.n LEFT JOIN ev ON ev.job_id = upd.id`,
    params,
  );
  const byCall = new Map((rows as Record<string, unknown>[]).map((row) => [row['req$n'] as number, row]));
  return calls.map((call, n): OneStatementResult | typeof RUN_ALONE => {
    const row = byCall.get(n);
    const fromStatus = row?.['cur$status'] as JobStatus | null | undefined;
    // no row: the job is gone, or (skipping locks) another transaction holds it
    if (!fromStatus) return skipLocked ? RUN_ALONE : null;
    if (!allowed.includes(fromStatus)) return null;
    if (row!['id'] == null) return USE_TRANSACTION_PATH;
    const job = jobFromRow(row!);
    const event: JobEvent = { id: eventIds[n]!, jobId: call.jobId, projectId: job.projectId, seq: job.eventSeq, type, data: row!['ev$data'] as JobEvent['data'], createdAt: now };
    return { job, event, deliveryIds: [] };
  });
}

/**
 * `transition`'s one-statement path, grouped: changes of the same shape asked for while a statement
 * of that shape is in flight go together in the next one (GroupCommit), so under load many jobs'
 * starts, or ends, share a round trip, a parse and a commit. A lone change runs at once.
 */
export class OneStatementTransitions {
  private readonly byShape: KeyedGroupCommits<TransitionCall, OneStatementResult>;

  constructor(pool: pg.Pool) {
    this.byShape = new KeyedGroupCommits(() =>
      lockingStatementGroup<TransitionCall, OneStatementResult>((calls, skipLocked) => changeInOneStatement(pool, calls, skipLocked), {
        maxBatch: MAX_BATCH,
        maxInFlight: 2,
        keyOf: (one) => one.jobId,
      }),
    );
  }

  run(call: TransitionCall): Promise<OneStatementResult> {
    return this.byShape.run(`${call.to}|${call.allowed.join(',')}|${patchShape(call.patch)}`, call);
  }
}
