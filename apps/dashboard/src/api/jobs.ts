import { api, type Query } from './client';
import type { BulkAction, Job, JobAttempt, JobEvent, ListPage, WebhookDelivery } from './types';

/** The list filters of GET /admin/v1/jobs, as the dashboard keeps them in the URL. */
export type JobFilter = {
  project_id?: string;
  type?: string;
  status?: string[];
  created_after?: string;
  created_before?: string;
  /** `key=value`, sent as `metadata[key]=value` */
  meta?: string;
  q?: string;
};

function splitMeta(meta: string | undefined): [string, string] | null {
  if (!meta) return null;
  const at = meta.indexOf('=');
  if (at <= 0) return null;
  return [meta.slice(0, at).trim(), meta.slice(at + 1).trim()];
}

export function filterToQuery(filter: JobFilter): Query {
  const query: Query = {
    project_id: filter.project_id,
    type: filter.type,
    status: filter.status && filter.status.length > 0 ? filter.status.join(',') : undefined,
    created_after: filter.created_after,
    created_before: filter.created_before,
    q: filter.q?.trim() || undefined,
  };
  const meta = splitMeta(filter.meta);
  if (meta) query[`metadata[${meta[0]}]`] = meta[1];
  return query;
}

/** The body form of a filter, for bulk actions. */
export function filterToBody(filter: JobFilter): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (filter.project_id) body['project_id'] = filter.project_id;
  if (filter.type) body['type'] = filter.type;
  if (filter.status && filter.status.length > 0) body['status'] = filter.status;
  if (filter.created_after) body['created_after'] = filter.created_after;
  if (filter.created_before) body['created_before'] = filter.created_before;
  if (filter.q?.trim()) body['q'] = filter.q.trim();
  const meta = splitMeta(filter.meta);
  if (meta) body['metadata'] = { [meta[0]]: meta[1] };
  return body;
}

export const PAGE_SIZE = 50;

export const jobsApi = {
  list: (filter: JobFilter, cursor?: string | null, signal?: AbortSignal) =>
    api.get<ListPage<Job>>('/admin/v1/jobs', { ...filterToQuery(filter), limit: PAGE_SIZE, cursor: cursor ?? undefined }, signal),
  count: (filter: JobFilter) => api.get<{ object: 'count'; count: number }>('/admin/v1/jobs/count', filterToQuery(filter)),
  get: (id: string) => api.get<Job>(`/admin/v1/jobs/${encodeURIComponent(id)}`),
  events: (id: string) => api.get<{ data: JobEvent[] }>(`/admin/v1/jobs/${encodeURIComponent(id)}/events`),
  attempts: (id: string) => api.get<{ data: JobAttempt[] }>(`/admin/v1/jobs/${encodeURIComponent(id)}/attempts`),
  children: (id: string) => api.get<{ data: Job[] }>(`/admin/v1/jobs/${encodeURIComponent(id)}/children`),
  deliveries: (id: string) => api.get<ListPage<WebhookDelivery>>('/admin/v1/webhook-deliveries', { job_id: id, limit: 100 }),
  cancel: (id: string) => api.post<Job>(`/admin/v1/jobs/${encodeURIComponent(id)}/cancel`),
  retry: (id: string) => api.post<Job>(`/admin/v1/jobs/${encodeURIComponent(id)}/retry`),
  create: (body: { project_id: string; type: string; input: unknown; metadata?: unknown; webhook_url?: string | null }) =>
    api.post<Job>('/admin/v1/jobs', body),
  bulk: (action: 'cancel' | 'retry', target: { ids: string[] } | { filter: Record<string, unknown> }) =>
    api.post<BulkAction>(`/admin/v1/jobs/bulk-${action}`, target),
  bulkStatus: (id: string) => api.get<BulkAction>(`/admin/v1/bulk-actions/${encodeURIComponent(id)}`),
};

export const artifactContentUrl = (artifactId: string): string => `/admin/v1/artifacts/${encodeURIComponent(artifactId)}/content`;
