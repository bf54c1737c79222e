import { api } from './client';

/** Amounts of the cost ledger: quota units (500,000 = US$1) and US$. */
export type UsageTotals = { units: number; usd: number; charged_units: number; refunded_units: number; estimated_units: number; entries: number };
export type UsageRow = UsageTotals & { day: string; type: string; project_id?: string | null; jobs: number };
export type GatewayBalance = { object: 'gateway_balance'; taken_at: string; available_units: number | null; available_usd: number | null; is_below_alert: boolean; is_unlimited: boolean };
export type AdminUsage = {
  object: 'usage';
  from: string;
  to: string;
  data: UsageRow[];
  totals: UsageTotals;
  projects: Array<UsageTotals & { project_id: string }>;
  balance: GatewayBalance | null;
};
export type JobCost = {
  object: 'job_cost';
  id: string;
  kind: 'charge' | 'refund';
  source: 'usage' | 'billing_header' | 'task_price' | 'balance_delta';
  estimated: boolean;
  units: number;
  usd: number;
  model: string | null;
  detail: Record<string, unknown>;
  charged_at: string;
};
export type JobCosts = { object: 'job_costs'; job_id: string; units: number; usd: number; estimated: boolean; data: JobCost[] };

export const usageApi = {
  admin: (from: string, to: string) => api.get<AdminUsage>('/admin/v1/usage', { from, to }),
  job: (jobId: string) => api.get<JobCosts>(`/admin/v1/usage/jobs/${encodeURIComponent(jobId)}`),
};

const usdFormat = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4 });
export const formatUsd = (usd: number): string => usdFormat.format(usd);
