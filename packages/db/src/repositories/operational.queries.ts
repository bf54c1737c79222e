import type { PrismaClient } from '../generated/prisma/client';

export type CountByType = Array<{ type: string; count: number }>;

/** Instance-wide figures the worker exports as gauges (read at scrape time, so each must stay cheap). */
export type OperationalFigures = {
  /** running task jobs (video, mj) with an upstream task id: parked between polls */
  parkedTasks: CountByType;
  /** queued jobs of projects that run their `max_running_jobs` now */
  waitingOnProjectLimit: CountByType;
  webhookDeliveriesPending: number;
  /** endpoints in an unbroken run of failures, not (yet) disabled */
  webhookEndpointsFailing: number;
  webhookEndpointsDisabled: number;
};

export class OperationalQueries {
  constructor(private readonly db: PrismaClient) {}

  async figures(): Promise<OperationalFigures> {
    const [parked, waiting, pending, failing, disabled] = await Promise.all([
      this.db.job.groupBy({ by: ['type'], where: { status: 'running', upstreamTaskId: { not: null } }, _count: { _all: true } }),
      this.db.$queryRaw<CountByType>`
        WITH limited AS (
          SELECT id, (limits->>'max_running_jobs')::int AS max_running
            FROM projects
           WHERE jsonb_typeof(limits->'max_running_jobs') = 'number'
        ), running AS (
          SELECT j.project_id, count(*)::int AS n
            FROM jobs j JOIN limited l ON l.id = j.project_id
           WHERE j.status = 'running'
           GROUP BY j.project_id
        )
        SELECT j.type, count(*)::int AS count
          FROM jobs j
          JOIN limited l ON l.id = j.project_id
          LEFT JOIN running r ON r.project_id = l.id
         WHERE j.status = 'queued' AND COALESCE(r.n, 0) >= l.max_running
         GROUP BY j.type`,
      this.db.webhookDelivery.count({ where: { status: 'pending' } }),
      this.db.webhookEndpoint.count({ where: { failingSince: { not: null }, disabledAt: null, deletedAt: null } }),
      this.db.webhookEndpoint.count({ where: { disabledAt: { not: null }, deletedAt: null } }),
    ]);
    return {
      parkedTasks: parked.map((row) => ({ type: row.type, count: row._count._all })),
      waitingOnProjectLimit: waiting.map((row) => ({ type: row.type, count: Number(row.count) })),
      webhookDeliveriesPending: pending,
      webhookEndpointsFailing: failing,
      webhookEndpointsDisabled: disabled,
    };
  }
}
