import { z } from 'zod';
import { idSchema, unitsToUsd } from '@genqueue/core';
import type { GatewayBalanceSnapshot, JobCost, UsageRow } from '@genqueue/db';

const DAY_MS = 86_400_000;
/** The longest range one usage request may cover. */
export const MAX_USAGE_RANGE_DAYS = 366;

const isoDate = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time (e.g. 2026-12-01T00:00:00Z)' });

/** The query of the usage routes (`project_id`: admin only). */
export const UsageQueryObjectSchema = z.object({
  from: isoDate.optional().describe('start of the range (inclusive); default: 30 days before `to`'),
  to: isoDate.optional().describe('end of the range (exclusive); default: now'),
  project_id: idSchema('prj', 'a project id').optional().describe('admin: one project only'),
});

/** `from`/`to` of the usage routes: [from, to), default the last 30 days. */
export const UsageQuerySchema = UsageQueryObjectSchema.transform((q, ctx) => {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * DAY_MS);
    if (from.getTime() >= to.getTime()) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before to' });
    if (to.getTime() - from.getTime() > MAX_USAGE_RANGE_DAYS * DAY_MS) ctx.addIssue({ code: 'custom', path: ['from'], message: `the range may cover at most ${MAX_USAGE_RANGE_DAYS} days` });
    return { from, to, projectId: q.project_id };
  });

type Totals = { units: number; usd: number; charged_units: number; refunded_units: number; estimated_units: number; entries: number };

const amounts = (r: Pick<UsageRow, 'units' | 'chargedUnits' | 'refundedUnits' | 'estimatedUnits' | 'entries'>): Totals => ({
  units: r.units,
  usd: unitsToUsd(r.units),
  charged_units: r.chargedUnits,
  refunded_units: r.refundedUnits,
  estimated_units: r.estimatedUnits,
  entries: r.entries,
});

function totalsOf(rows: readonly UsageRow[]): Totals {
  const sum = { units: 0, chargedUnits: 0, refundedUnits: 0, estimatedUnits: 0, entries: 0 };
  for (const r of rows) {
    sum.units += r.units;
    sum.chargedUnits += r.chargedUnits;
    sum.refundedUnits += r.refundedUnits;
    sum.estimatedUnits += r.estimatedUnits;
    sum.entries += r.entries;
  }
  return amounts(sum);
}

/** `GET /v1/usage` and `GET /admin/v1/usage`: rows per day and type (and project), and the totals. */
export function usageView(rows: readonly UsageRow[], range: { from: Date; to: Date }, scope: { projectId: string | null; byProject: boolean }) {
  const byProject = new Map<string, UsageRow[]>();
  if (scope.byProject) for (const r of rows) byProject.set(r.projectId ?? '', [...(byProject.get(r.projectId ?? '') ?? []), r]);
  return {
    object: 'usage',
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    ...(scope.projectId !== null || !scope.byProject ? { project_id: scope.projectId } : {}),
    data: rows.map((r) => ({
      day: r.day,
      ...(scope.byProject ? { project_id: r.projectId } : {}),
      type: r.jobType,
      ...amounts(r),
      jobs: r.jobs,
    })),
    totals: totalsOf(rows),
    ...(scope.byProject ? { projects: [...byProject.entries()].map(([projectId, list]) => ({ project_id: projectId, ...totalsOf(list) })) } : {}),
  };
}

const TotalsSchema = {
  units: z.number().describe('charges minus refunds, in quota units (500,000 = US$1)'),
  usd: z.number().describe('units ÷ 500,000'),
  charged_units: z.number(),
  refunded_units: z.number().describe('refunds of failed tasks, as a positive number'),
  estimated_units: z.number().describe('the part derived from balance snapshots (source balance_delta)'),
  entries: z.number().int(),
};
const UsageRowSchema = z.object({ day: z.string().describe('UTC day, YYYY-MM-DD'), type: z.string(), ...TotalsSchema, jobs: z.number().int() });

export const UsageSchema = z.object({
  object: z.literal('usage'),
  from: z.string(),
  to: z.string(),
  project_id: z.string().nullable(),
  data: z.array(UsageRowSchema),
  totals: z.object(TotalsSchema),
});

export const GatewayBalanceSchema = z.object({
  object: z.literal('gateway_balance'),
  taken_at: z.string(),
  available_units: z.number().nullable(),
  available_usd: z.number().nullable(),
  used_units: z.number().nullable(),
  is_unlimited: z.boolean(),
  is_below_alert: z.boolean(),
  source: z.string().describe('token_usage | billing: the gateway route that answered'),
});

export const AdminUsageSchema = z.object({
  object: z.literal('usage'),
  from: z.string(),
  to: z.string(),
  project_id: z.string().nullable().optional(),
  data: z.array(UsageRowSchema.extend({ project_id: z.string().nullable() })),
  totals: z.object(TotalsSchema),
  projects: z.array(z.object({ project_id: z.string(), ...TotalsSchema })),
  balance: GatewayBalanceSchema.nullable().describe('the last balance snapshot'),
});

export const JobCostSchema = z.object({
  object: z.literal('job_cost'),
  id: z.string(),
  job_id: z.string(),
  kind: z.enum(['charge', 'refund']),
  source: z.enum(['usage', 'billing_header', 'task_price', 'balance_delta']),
  estimated: z.boolean(),
  units: z.number().describe('quota units; negative for a refund'),
  usd: z.number(),
  model: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).describe('how the units were derived (tokens and ratios, header ratios and price, snapshot ids)'),
  charged_at: z.string(),
});

export const JobCostsSchema = z.object({
  object: z.literal('job_costs'),
  job_id: z.string(),
  units: z.number(),
  usd: z.number(),
  estimated: z.boolean(),
  data: z.array(JobCostSchema),
});

export function jobCostView(c: JobCost) {
  const units = Number(c.units);
  return {
    object: 'job_cost',
    id: c.id,
    job_id: c.jobId,
    kind: c.kind,
    source: c.source,
    estimated: c.estimated,
    units,
    usd: unitsToUsd(units),
    model: c.model,
    detail: c.detail,
    charged_at: c.chargedAt.toISOString(),
  };
}

/** A job's ledger entries and their sum. */
export function jobCostsView(jobId: string, entries: readonly JobCost[]) {
  const units = entries.reduce((sum, c) => sum + Number(c.units), 0);
  return { object: 'job_costs', job_id: jobId, units, usd: unitsToUsd(units), estimated: entries.some((c) => c.estimated), data: entries.map(jobCostView) };
}

export function balanceView(s: GatewayBalanceSnapshot | null) {
  if (!s) return null;
  const units = s.availableUnits === null ? null : Number(s.availableUnits);
  return {
    object: 'gateway_balance',
    taken_at: s.takenAt.toISOString(),
    available_units: units,
    available_usd: s.availableUsd,
    used_units: s.usedUnits === null ? null : Number(s.usedUnits),
    is_unlimited: s.isUnlimited,
    is_below_alert: s.isBelowAlert,
    source: s.source,
  };
}
