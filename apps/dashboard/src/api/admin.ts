import { api, request } from './client';
import type { ApiKey, ListPage, Project, ProjectLimits, Session, Stats, Upstream, WebhookDelivery, WebhookEndpoint } from './types';

export const sessionApi = {
  current: () => request<Session>('GET', '/admin/session', { quiet401: true }),
  signIn: (key: string) => request<Session>('POST', '/admin/session', { body: { key }, quiet401: true }),
  signOut: () => request<void>('DELETE', '/admin/session', { quiet401: true }),
};

export const statsApi = {
  stats: () => api.get<Stats>('/admin/v1/stats'),
  upstream: () => api.get<Upstream>('/admin/v1/upstream'),
};

export const projectsApi = {
  list: () => api.get<ListPage<Project>>('/admin/v1/projects'),
  create: (body: { name: string; limits?: ProjectLimits }) => api.post<Project>('/admin/v1/projects', body),
  update: (id: string, body: { name?: string; limits?: ProjectLimits }) => api.patch<Project>(`/admin/v1/projects/${encodeURIComponent(id)}`, body),
  keys: (id: string) => api.get<ListPage<ApiKey>>(`/admin/v1/projects/${encodeURIComponent(id)}/api-keys`),
  createKey: (id: string, name: string) => api.post<ApiKey>(`/admin/v1/projects/${encodeURIComponent(id)}/api-keys`, name ? { name } : {}),
  revokeKey: (keyId: string) => api.delete<void>(`/admin/v1/api-keys/${encodeURIComponent(keyId)}`),
};

export type DeliveryFilter = { project_id?: string; endpoint_id?: string; status?: string; event_type?: string; job_id?: string };

export const webhooksApi = {
  endpoints: (projectId?: string) => api.get<ListPage<WebhookEndpoint>>('/admin/v1/webhook-endpoints', { project_id: projectId, limit: 100 }),
  enable: (id: string) => api.post<WebhookEndpoint>(`/admin/v1/webhook-endpoints/${encodeURIComponent(id)}/enable`),
  deliveries: (filter: DeliveryFilter, cursor?: string | null) =>
    api.get<ListPage<WebhookDelivery>>('/admin/v1/webhook-deliveries', { ...filter, cursor: cursor ?? undefined, limit: 50 }),
  redeliver: (id: string) => api.post<WebhookDelivery>(`/admin/v1/webhook-deliveries/${encodeURIComponent(id)}/redeliver`),
};
