import { decodeListCursor, encodeListCursor, type ListCursor } from '@genqueue/core';
import { Prisma, type Job, type JobEvent, type PrismaClient } from '../generated/prisma/client';

export type JobListFilter = {
  projectId?: string;
  type?: string;
  /** one status, or several (a job in any of them matches) */
  status?: string | string[];
  createdAfter?: Date;
  createdBefore?: Date;
  /** every key must hold exactly this value (metadata values are strings) */
  metadata?: Record<string, string>;
  /**
   * admin search: the exact job id, the exact upstream task id, or words of the job's text input
   * (every word must appear in search_text, case-insensitively, as part of a word or a whole one;
   * a word of one or two characters has no trigram: it cannot use the index and only filters the
   * rows the other words found, or the newest rows when the search has no longer word)
   */
  q?: string;
};

export type Page<T> = { data: T[]; nextCursor: string | null };

/** More words than this add nothing to a search but cost: the rest are ignored. */
export const MAX_SEARCH_WORDS = 8;

/** The lower-cased, distinct words of a search, at most MAX_SEARCH_WORDS. */
export function searchWords(q: string): string[] {
  return [...new Set(q.toLowerCase().split(/\s+/).filter((word) => word.length > 0))].slice(0, MAX_SEARCH_WORDS);
}

/** `word` as a LIKE pattern matching it anywhere: %, _ and \ in it stand for themselves. */
const containsPattern = (word: string): string => `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function searchCondition(q: string): Prisma.Sql | null {
  const trimmed = q.trim();
  if (trimmed === '') return null;
  const words = searchWords(trimmed);
  // Postgres tests a row's conditions in this order: the longer (rarer) word first rejects most rows
  words.sort((a, b) => b.length - a.length);
  // search_text is lower-cased when written (jobSearchText) and the words are lower-cased here, so
  // LIKE is the case-insensitive match, at half the CPU of ILIKE on rows the index cannot rule out
  // (the trigram index serves both)
  const wordsMatch = Prisma.join(
    words.map((word) => Prisma.sql`search_text LIKE ${containsPattern(word)}`),
    ' AND ',
  );
  // An id never holds whitespace: a search with several words is a text search only.
  if (/\s/.test(trimmed)) return Prisma.sql`(${wordsMatch})`;
  return Prisma.sql`(id = ${trimmed} OR upstream_task_id = ${trimmed} OR (${wordsMatch}))`;
}

const statusesOf = (status: string | string[] | undefined): string[] =>
  status === undefined ? [] : [...new Set(Array.isArray(status) ? status : [status])];

/** The WHERE conditions of a filter (and a page start), as SQL over the jobs table. */
function conditionsOf(filter: JobListFilter, cursor: ListCursor | null): Prisma.Sql[] {
  const and: Prisma.Sql[] = [];
  if (filter.projectId) and.push(Prisma.sql`project_id = ${filter.projectId}`);
  if (filter.type) and.push(Prisma.sql`type = ${filter.type}`);
  const statuses = statusesOf(filter.status);
  if (statuses.length === 1) and.push(Prisma.sql`status = ${statuses[0]}`);
  if (statuses.length > 1) and.push(Prisma.sql`status IN (${Prisma.join(statuses)})`);
  if (filter.createdAfter) and.push(Prisma.sql`created_at > ${filter.createdAfter}::timestamptz`);
  if (filter.createdBefore) and.push(Prisma.sql`created_at < ${filter.createdBefore}::timestamptz`);
  const metadata = Object.entries(filter.metadata ?? {});
  // containment answers through the GIN (jsonb_path_ops) index on metadata
  if (metadata.length > 0) and.push(Prisma.sql`metadata @> ${JSON.stringify(Object.fromEntries(metadata))}::jsonb`);
  const search = filter.q === undefined ? null : searchCondition(filter.q);
  if (search) and.push(search);
  // a row comparison walks the (…, created_at DESC, id DESC) indexes from the cursor on
  if (cursor) and.push(Prisma.sql`(created_at, id) < (${cursor.createdAt}::timestamptz, ${cursor.id})`);
  return and;
}

const whereClause = (conditions: Prisma.Sql[]): Prisma.Sql =>
  conditions.length === 0 ? Prisma.empty : Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}`;

/** The SQL of one page's ids (what `list` runs; exported so a benchmark can EXPLAIN it). */
export function jobListSql(filter: JobListFilter, limit: number, cursor: string | null): Prisma.Sql {
  return Prisma.sql`
    SELECT id, created_at AS "createdAt" FROM jobs ${whereClause(conditionsOf(filter, cursor ? decodeListCursor(cursor, 'job') : null))}
     ORDER BY created_at DESC, id DESC
     LIMIT ${limit + 1}`;
}

/** A filter job_counts can answer: no time range, metadata or search. */
const isCountable = (filter: JobListFilter): boolean =>
  !filter.createdAfter && !filter.createdBefore && Object.keys(filter.metadata ?? {}).length === 0 && !filter.q?.trim();

/** Reads for history screens: keyset pagination, newest first. */
export class JobQueries {
  constructor(private readonly db: PrismaClient) {}

  /**
   * A page of jobs matching `filter`, newest first. Raw SQL, because the search (LIKE on the
   * trigram index), the metadata containment (GIN) and the row-comparison cursor are what the
   * indexes answer and Prisma's generated SQL is none of them. The page's ids come first, then
   * the rows through Prisma, so a Job is shaped by one mapping only.
   */
  async list(filter: JobListFilter, limit: number, cursor: string | null): Promise<Page<Job>> {
    const hits = await this.db.$queryRaw<Array<{ id: string; createdAt: Date }>>(jobListSql(filter, limit, cursor));
    const page = hits.slice(0, limit);
    const rows = page.length === 0 ? [] : await this.db.job.findMany({ where: { id: { in: page.map((hit) => hit.id) } } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    // a job deleted between the two reads is left out rather than failing the page
    const data = page.flatMap((hit) => byId.get(hit.id) ?? []);
    const last = page[page.length - 1];
    return { data, nextCursor: hits.length > limit && last ? encodeListCursor(last) : null };
  }

  /**
   * How many jobs match `filter`. Filters on project, type and status only are answered from
   * job_counts (exact, no scan of jobs); any other filter counts the matching rows.
   */
  async count(filter: JobListFilter): Promise<number> {
    const where = whereClause(conditionsOf(filter, null));
    if (isCountable(filter)) {
      const [row] = await this.db.$queryRaw<Array<{ count: bigint }>>`
        SELECT coalesce(sum(n), 0)::bigint AS count
          FROM (SELECT project_id, type, status, count AS n FROM job_counts
                UNION ALL
                SELECT project_id, type, status, delta::bigint FROM job_count_deltas) AS jobs
          ${where}`;
      return Number(row?.count ?? 0);
    }
    // A broad search visits a large part of the table: compiling it (JIT) costs more than it
    // saves at this size (about 35 ms of 300 on a million jobs).
    const [, rows] = await this.db.$transaction([
      this.db.$executeRaw`SET LOCAL jit = off`,
      this.db.$queryRaw<Array<{ count: bigint }>>`SELECT count(*) AS count FROM jobs ${where}`,
    ]);
    return Number(rows[0]?.count ?? 0);
  }

  /** The project's events with an id above `afterId`, in id order (the job_events (project_id, id) index). */
  projectEventsAfter(projectId: string, afterId: string, limit: number): Promise<JobEvent[]> {
    return this.db.jobEvent.findMany({ where: { projectId, id: { gt: afterId } }, orderBy: { id: 'asc' }, take: limit });
  }

  events(jobId: string, afterSeq = 0, limit = 1000): Promise<JobEvent[]> {
    return this.db.jobEvent.findMany({
      where: { jobId, seq: { gt: afterSeq } },
      orderBy: { seq: 'asc' },
      take: limit,
    });
  }

  /** Scans jobs: kept for callers not yet on JobStatsQueries.counts(), which reads job_counts instead. */
  async countsByStatusAndType(since?: Date): Promise<{ status: string; type: string; count: number }[]> {
    const groups = await this.db.job.groupBy({
      by: ['status', 'type'],
      _count: { _all: true },
      ...(since ? { where: { createdAt: { gte: since } } } : {}),
    });
    return groups.map((g) => ({ status: g.status, type: g.type, count: g._count._all }));
  }

  async finishedSince(since: Date): Promise<{ status: string; count: number }[]> {
    const groups = await this.db.job.groupBy({
      by: ['status'],
      _count: { _all: true },
      where: { finishedAt: { gte: since } },
    });
    return groups.map((g) => ({ status: g.status, count: g._count._all }));
  }
}
