import { GroupCommit, RUN_ALONE, type GroupCommitOptions } from '@genqueue/core';
import type pg from 'pg';
import type { Job } from '../generated/prisma/client';
import { jobFromRow } from './raw-rows';

/*
 * Statements of the jobs repository grouped across concurrent callers (GroupCommit): what every run
 * does once per job, many jobs to a statement under load.
 */

/**
 * A GroupCommit over a statement that locks the rows it changes: in a batch it skips rows other
 * transactions hold (SKIP LOCKED) and answers RUN_ALONE for their calls, which then run alone and
 * wait for their row, so one lock never holds up a batch.
 */
export function lockingStatementGroup<Req, Res>(
  statement: (calls: readonly Req[], skipLocked: boolean) => Promise<Array<Res | typeof RUN_ALONE>>,
  options: Omit<GroupCommitOptions<Req, Res>, 'runBatch' | 'runOne'>,
): GroupCommit<Req, Res> {
  return new GroupCommit<Req, Res>({
    ...options,
    runBatch: (calls) => statement(calls, true),
    runOne: async (call) => (await statement([call], false))[0] as Res,
  });
}

/** Reads of jobs by id: those asked for while one is in flight go together in the next statement. */
export function jobReadsById(pool: pg.Pool): GroupCommit<string, Job | null> {
  const readMany = async (ids: readonly string[]): Promise<Array<Job | null>> => {
    const { rows } = await pool.query('SELECT * FROM jobs WHERE id = ANY($1::text[])', [ids]);
    const byId = new Map(rows.map((row: Record<string, unknown>) => [row['id'] as string, jobFromRow(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  };
  return new GroupCommit<string, Job | null>({
    runBatch: readMany,
    maxBatch: 200,
    maxInFlight: 2,
    keyOf: (id) => id,
  });
}

/** A kept result (keepReceivedOutput): the running job and the output its run received. */
export type KeepCall = { jobId: string; output: Record<string, unknown> };

/** Kept results of many running jobs in one statement; a row another transaction holds is left alone. */
export function receivedOutputKeeps(pool: pg.Pool): GroupCommit<KeepCall, boolean> {
  return lockingStatementGroup<KeepCall, boolean>(
    async (calls, skipLocked) => {
      const records = calls.map((call, n) => ({ n, id: call.jobId, output: JSON.stringify(call.output) }));
      const { rows } = await pool.query<{ n: number; held: boolean; kept: boolean }>(
        `WITH req AS (
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(n int, id text, output text)
         ), held AS (
           SELECT j.id, j.status FROM jobs j JOIN req r ON r.id = j.id WHERE j.id = ANY($3::text[])
            ORDER BY j.id FOR UPDATE OF j${skipLocked ? ' SKIP LOCKED' : ''}
         ), upd AS (
           UPDATE jobs j SET received_output = r.output::jsonb, updated_at = $2
             FROM req r JOIN held h ON h.id = r.id
            WHERE j.id = r.id AND j.id = ANY($3::text[]) AND h.status = 'running'
           RETURNING j.id
         )
         SELECT r.n, h.id IS NOT NULL AS held, u.id IS NOT NULL AS kept
           FROM req r LEFT JOIN held h ON h.id = r.id LEFT JOIN upd u ON u.id = r.id`,
        [JSON.stringify(records), new Date(), calls.map((call) => call.jobId)],
      );
      const byCall = new Map(rows.map((row) => [row.n, row]));
      // not held: gone, or (skipping locks) held by another transaction: it runs alone
      return calls.map((_, n) => (byCall.get(n)?.held ? byCall.get(n)!.kept : skipLocked ? RUN_ALONE : false));
    },
    { maxBatch: 100, maxInFlight: 2, keyOf: (call) => call.jobId },
  );
}
