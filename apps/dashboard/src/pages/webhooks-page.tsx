import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, useNavigate } from '@tanstack/react-router';
import { useMemo } from 'react';
import { errorMessage } from '../api/client';
import { webhooksApi } from '../api/admin';
import type { WebhookEndpoint } from '../api/types';
import { DeliveriesTable } from '../components/deliveries';
import { EmptyState, ErrorBanner, SkeletonRows } from '../components/feedback';
import { useProjectNames } from '../components/jobs-filters';
import { Card, PageHeader } from '../components/page-header';
import { RelativeTime } from '../components/relative-time';
import type { WebhooksSearch } from '../lib/search';

const routeApi = getRouteApi('/app/webhooks');

const EVENT_TYPES = ['job.started', 'job.progress', 'job.succeeded', 'job.failed', 'job.canceled', 'job.expired'];

function EndpointState({ endpoint }: { endpoint: WebhookEndpoint }) {
  if (endpoint.disabled_at) {
    return (
      <div>
        <span className="chip chip-danger">disabled</span> <RelativeTime at={endpoint.disabled_at} />
        {endpoint.disabled_reason ? <div className="small text-failed">{endpoint.disabled_reason}</div> : null}
      </div>
    );
  }
  if (endpoint.failing_since) {
    return (
      <span>
        <span className="chip chip-warn">failing</span> since <RelativeTime at={endpoint.failing_since} />
      </span>
    );
  }
  return <span className="chip chip-ok">active</span>;
}

function EndpointsCard({ projectNames, projectId }: { projectNames: Map<string, string>; projectId?: string }) {
  const queryClient = useQueryClient();
  const endpoints = useQuery({ queryKey: ['endpoints', projectId ?? 'all'], queryFn: () => webhooksApi.endpoints(projectId), refetchInterval: 10_000 });
  const enable = useMutation({
    mutationFn: (id: string) => webhooksApi.enable(id),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['endpoints'] }),
  });
  const rows = endpoints.data?.data ?? [];
  return (
    <Card id="endpoints" title="Endpoints">
      {endpoints.error ? <ErrorBanner error={endpoints.error} title="Could not list endpoints" /> : null}
      {enable.error ? <ErrorBanner error={enable.error} title="Could not re-enable" /> : null}
      {!endpoints.isPending && rows.length === 0 && !endpoints.error ? (
        <EmptyState title="No webhook endpoints">
          A project registers one with <code>POST /v1/webhook-endpoints {'{"url": "https://…"}'}</code>. Jobs with a <code>webhook_url</code> are delivered too and show below.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="endpoints-table">
            <thead>
              <tr>
                <th className="wide">URL</th>
                <th>Project</th>
                <th>Events</th>
                <th>State</th>
                <th>Created</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {endpoints.isPending ? <SkeletonRows rows={2} cols={6} /> : null}
              {rows.map((e) => (
                <tr key={e.id} data-endpoint-id={e.id}>
                  <td className="truncate" title={e.url}>
                    <span className="mono small">{e.url}</span>
                    {e.description ? <div className="small muted">{e.description}</div> : null}
                  </td>
                  <td>{projectNames.get(e.project_id ?? '') ?? <span className="mono small">{e.project_id}</span>}</td>
                  <td className="small">{e.event_types.length ? e.event_types.map((t) => t.replace('job.', '')).join(', ') : 'all'}</td>
                  <td>
                    <EndpointState endpoint={e} />
                  </td>
                  <td>
                    <RelativeTime at={e.created_at} />
                  </td>
                  <td className="num">
                    {e.disabled_at ? (
                      <button type="button" className="btn btn-sm btn-primary" onClick={() => enable.mutate(e.id)} disabled={enable.isPending}>
                        Re-enable
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {enable.isError ? <p className="text-failed small">{errorMessage(enable.error)}</p> : null}
    </Card>
  );
}

export function WebhooksPage() {
  const search = routeApi.useSearch();
  const navigate = useNavigate();
  const projectNames = useProjectNames();
  const endpoints = useQuery({ queryKey: ['endpoints', 'all'], queryFn: () => webhooksApi.endpoints() });
  const setSearch = (patch: Partial<WebhooksSearch>) => void navigate({ to: '/webhooks', search: (prev: WebhooksSearch) => ({ ...prev, ...patch }) });
  const deliveries = useInfiniteQuery({
    queryKey: ['deliveries', search],
    queryFn: ({ pageParam }) => webhooksApi.deliveries(search, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? null,
    refetchInterval: 4_000,
  });
  const rows = useMemo(() => deliveries.data?.pages.flatMap((p) => p.data) ?? [], [deliveries.data]);
  const anyFilter = Object.values(search).some(Boolean);

  return (
    <div className="page">
      <PageHeader title="Webhooks" subtitle="Endpoints of every project and the deliveries sent to them, newest first." />
      <EndpointsCard projectNames={projectNames} projectId={search.project_id} />
      <Card
        id="deliveries"
        title="Recent deliveries"
        actions={
          <div className="filters-inline">
            <select aria-label="Project" value={search.project_id ?? ''} onChange={(e) => setSearch({ project_id: e.target.value || undefined, endpoint_id: undefined })}>
              <option value="">All projects</option>
              {[...projectNames].map(([id, name]) => (
                <option key={id} value={id}>
                  {name}
                </option>
              ))}
            </select>
            <select aria-label="Delivery status" value={search.status ?? ''} onChange={(e) => setSearch({ status: e.target.value || undefined })}>
              <option value="">Any status</option>
              <option value="pending">pending</option>
              <option value="succeeded">succeeded</option>
              <option value="failed">failed</option>
            </select>
            <select aria-label="Event type" value={search.event_type ?? ''} onChange={(e) => setSearch({ event_type: e.target.value || undefined })}>
              <option value="">Any event</option>
              {EVENT_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
            <select aria-label="Endpoint" value={search.endpoint_id ?? ''} onChange={(e) => setSearch({ endpoint_id: e.target.value || undefined })}>
              <option value="">Any endpoint</option>
              {(endpoints.data?.data ?? []).filter((e) => !search.project_id || e.project_id === search.project_id).map((e) => (
                <option key={e.id} value={e.id}>
                  {e.url.length > 48 ? `${e.url.slice(0, 48)}…` : e.url}
                </option>
              ))}
            </select>
            {anyFilter ? (
              <button type="button" className="btn btn-ghost btn-sm" onClick={() => void navigate({ to: '/webhooks', search: {} })}>
                Clear
              </button>
            ) : null}
          </div>
        }
      >
        {deliveries.error ? <ErrorBanner error={deliveries.error} title="Could not load deliveries" onRetry={() => void deliveries.refetch()} /> : null}
        {deliveries.isPending ? (
          <table className="table">
            <tbody>
              <SkeletonRows rows={5} cols={7} />
            </tbody>
          </table>
        ) : rows.length === 0 ? (
          <EmptyState title={anyFilter ? 'No deliveries match these filters' : 'No deliveries yet'}>
            {anyFilter ? 'Try another status or event type.' : 'Deliveries appear when a job with a webhook_url, or a project with endpoints, changes state.'}
          </EmptyState>
        ) : (
          <DeliveriesTable deliveries={rows} projectNames={projectNames} />
        )}
        {deliveries.hasNextPage ? (
          <div className="load-more">
            <button type="button" className="btn" onClick={() => void deliveries.fetchNextPage()} disabled={deliveries.isFetchingNextPage}>
              {deliveries.isFetchingNextPage ? 'Loading…' : 'Load more'}
            </button>
          </div>
        ) : null}
      </Card>
    </div>
  );
}
