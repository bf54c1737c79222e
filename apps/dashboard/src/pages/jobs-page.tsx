import { keepPreviousData, useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, useNavigate } from '@tanstack/react-router';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { errorMessage } from '../api/client';
import { filterToBody, jobsApi, type JobFilter } from '../api/jobs';
import type { BulkAction } from '../api/types';
import { BulkProgress } from '../components/bulk-progress';
import { ConfirmDialog } from '../components/dialog';
import { EmptyState, ErrorBanner } from '../components/feedback';
import { JobsFilters, useProjectNames } from '../components/jobs-filters';
import { JobsTable } from '../components/jobs-table';
import { PageHeader } from '../components/page-header';
import { isRange, RANGES, type JobsSearch } from '../lib/search';
import { formatNumber } from '../lib/time';
import { useLiveJobs } from '../lib/use-live-jobs';

const routeApi = getRouteApi('/app/jobs');

/** The API's filter; a relative range becomes its start as of now (once per change of the URL). */
function toFilter(search: JobsSearch): JobFilter {
  const { range, ...rest } = search;
  const createdAfter = isRange(range) ? new Date(Date.now() - RANGES[range]).toISOString() : rest.created_after;
  return { ...rest, created_after: createdAfter, created_before: isRange(range) ? undefined : rest.created_before, status: search.status ? search.status.split(',').filter(Boolean) : undefined };
}

function describeFilter(search: JobsSearch, projectNames: Map<string, string>): string {
  const parts: string[] = [];
  if (search.status) parts.push(`status ${search.status.replaceAll(',', ' or ')}`);
  if (search.type) parts.push(`type ${search.type}`);
  if (search.project_id) parts.push(`project ${projectNames.get(search.project_id) ?? search.project_id}`);
  if (search.q) parts.push(`matching “${search.q}”`);
  if (search.meta) parts.push(`metadata ${search.meta}`);
  if (search.range) parts.push(`created in the last ${search.range}`);
  if (search.created_after) parts.push(`created after ${new Date(search.created_after).toLocaleString()}`);
  if (search.created_before) parts.push(`created before ${new Date(search.created_before).toLocaleString()}`);
  return parts.length ? parts.join(', ') : 'no filter (every job)';
}

type PendingBulk = { action: 'cancel' | 'retry'; scope: 'ids' | 'filter' };

export function JobsPage() {
  const search = routeApi.useSearch();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const projectNames = useProjectNames();
  const filterKey = JSON.stringify(search);
  // keyed on the URL's text, so a relative range is computed once per change, not per render
  const filter = useMemo(() => toFilter(search), [filterKey]);

  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [allMatching, setAllMatching] = useState(false);
  const [pending, setPending] = useState<PendingBulk | null>(null);
  const [bulkBusy, setBulkBusy] = useState(false);
  const [bulkError, setBulkError] = useState<string | null>(null);
  const [bulk, setBulk] = useState<BulkAction | null>(null);

  useEffect(() => {
    setSelected(new Set());
    setAllMatching(false);
  }, [filterKey]);

  const setSearch = useCallback(
    (patch: Partial<JobsSearch>) => {
      void navigate({ to: '/jobs', search: (prev: JobsSearch) => ({ ...prev, ...patch }) });
    },
    [navigate],
  );

  const list = useInfiniteQuery({
    queryKey: ['jobs', 'list', filter],
    queryFn: ({ pageParam, signal }) => jobsApi.list(filter, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? null,
    // the old rows stay (dimmed) while a new filter loads: no flash of an empty table
    placeholderData: keepPreviousData,
  });
  const count = useQuery({ queryKey: ['jobs', 'count', filter], queryFn: () => jobsApi.count(filter), staleTime: 10_000, placeholderData: keepPreviousData });
  const live = useLiveJobs();

  const jobs = useMemo(() => list.data?.pages.flatMap((p) => p.data) ?? [], [list.data]);
  // a count kept from the previous filter is not this filter's: "Counting…" until the new one comes
  // (it also sizes "select everything matching")
  const total = count.isPlaceholderData ? undefined : count.data?.count;
  const anyFilter = Object.values(search).some(Boolean);
  const selectionSize = allMatching ? (total ?? 0) : selected.size;

  const showNew = () => {
    live.resetCreated();
    void queryClient.invalidateQueries({ queryKey: ['jobs'] });
  };

  const runBulk = async () => {
    if (!pending) return;
    setBulkBusy(true);
    setBulkError(null);
    try {
      const target = pending.scope === 'filter' ? { filter: filterToBody(filter) } : { ids: [...selected] };
      const started = await jobsApi.bulk(pending.action, target);
      setBulk(started);
      setPending(null);
      setSelected(new Set());
      setAllMatching(false);
    } catch (err) {
      setBulkError(errorMessage(err));
    } finally {
      setBulkBusy(false);
    }
  };

  return (
    <div className="page">
      <PageHeader
        title="Jobs"
        subtitle={
          <span className="header-meta">
            <span data-testid="jobs-count">{total === undefined ? 'Counting…' : `${formatNumber(total)} ${total === 1 ? 'job' : 'jobs'}${anyFilter ? ' match' : ' in the history'}`}</span>
            <span className={`live live-${live.state}`} title="Rows of running jobs update from the live event stream">
              <span className="live-dot" aria-hidden="true" /> {live.state === 'live' ? 'Live' : live.state === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
            </span>
          </span>
        }
        actions={
          live.created > 0 ? (
            <button type="button" className="btn btn-sm" onClick={showNew}>
              ↑ {live.created} new {live.created === 1 ? 'job' : 'jobs'} · show
            </button>
          ) : null
        }
      />
      <JobsFilters search={search} onChange={setSearch} />

      {bulk ? <BulkProgress key={bulk.id} initial={bulk} onDismiss={() => setBulk(null)} /> : null}

      {selectionSize > 0 || allMatching ? (
        <div className="bulk-bar" role="region" aria-label="Bulk actions">
          <span>
            <strong data-testid="selection-size">{formatNumber(selectionSize)}</strong> selected{allMatching ? ' (everything matching this filter)' : ''}
          </span>
          {!allMatching && total !== undefined && total > selected.size && selected.size >= jobs.length && jobs.length > 0 ? (
            <button type="button" className="btn btn-link" onClick={() => setAllMatching(true)}>
              Select all {formatNumber(total)} matching this filter
            </button>
          ) : null}
          <span className="spacer" />
          <button type="button" className="btn btn-sm" onClick={() => setPending({ action: 'retry', scope: allMatching ? 'filter' : 'ids' })}>
            Retry
          </button>
          <button type="button" className="btn btn-sm btn-danger-outline" onClick={() => setPending({ action: 'cancel', scope: allMatching ? 'filter' : 'ids' })}>
            Cancel jobs
          </button>
          <button
            type="button"
            className="btn btn-ghost btn-sm"
            onClick={() => {
              setSelected(new Set());
              setAllMatching(false);
            }}
          >
            Clear
          </button>
        </div>
      ) : jobs.length > 0 && total !== undefined ? (
        <div className="select-hint">
          <button type="button" className="btn btn-link btn-sm" onClick={() => setAllMatching(true)} data-testid="select-all-matching">
            {total === 1 ? 'Select the 1 job matching this filter…' : `Select all ${formatNumber(total)} jobs matching this filter…`}
          </button>
        </div>
      ) : null}

      {list.error ? <ErrorBanner error={list.error} title="Could not load jobs" onRetry={() => void list.refetch()} /> : null}

      {!list.isPending && !list.isPlaceholderData && jobs.length === 0 && !list.error ? (
        anyFilter ? (
          <EmptyState
            title="No jobs match these filters"
            action={
              <button type="button" className="btn" onClick={() => void navigate({ to: '/jobs', search: {} })}>
                Clear filters
              </button>
            }
          >
            Try fewer words, another status, or a wider time range. The search matches a job id, an upstream task id, or every word of a prompt.
          </EmptyState>
        ) : (
          <EmptyState title="No jobs yet">
            <p>Submit one with a project key (create one under Projects & keys):</p>
            <pre className="snippet-block">{`curl -X POST ${window.location.origin}/v1/jobs \\
  -H "Authorization: Bearer gq_…" \\
  -H "content-type: application/json" \\
  -d '{"type": "image.generate", "input": {"prompt": "a lighthouse at dusk"}}'`}</pre>
          </EmptyState>
        )
      ) : (
        <JobsTable
          stale={list.isPlaceholderData}
          jobs={jobs}
          loading={list.isPending}
          projectNames={projectNames}
          selected={selected}
          allMatching={allMatching}
          onToggle={(id) =>
            setSelected((prev) => {
              const next = new Set(prev);
              if (next.has(id)) next.delete(id);
              else next.add(id);
              return next;
            })
          }
          onToggleAll={(checked) => {
            if (!checked) setAllMatching(false);
            setSelected(checked ? new Set(jobs.map((j) => j.id)) : new Set());
          }}
        />
      )}

      {list.hasNextPage ? (
        <div className="load-more">
          <button type="button" className="btn" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
            {list.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </button>
          <span className="muted small">
            {formatNumber(jobs.length)} of {total === undefined ? '…' : formatNumber(total)} shown
          </span>
        </div>
      ) : jobs.length > 0 ? (
        <div className="load-more muted small">End of the history · {formatNumber(jobs.length)} shown</div>
      ) : null}

      <ConfirmDialog
        open={pending !== null}
        title={pending ? `${pending.action === 'cancel' ? 'Cancel' : 'Retry'} ${formatNumber(selectionSize)} ${selectionSize === 1 ? 'job' : 'jobs'}?` : ''}
        confirmLabel={pending?.action === 'cancel' ? `Cancel ${formatNumber(selectionSize)} jobs` : `Retry ${formatNumber(selectionSize)} jobs`}
        danger={pending?.action === 'cancel'}
        busy={bulkBusy}
        onConfirm={() => void runBulk()}
        onClose={() => {
          setPending(null);
          setBulkError(null);
        }}
      >
        {pending?.scope === 'filter' ? (
          <p>
            Every job matching <strong>{describeFilter(search, projectNames)}</strong> — {formatNumber(total ?? 0)} right now — will be{' '}
            {pending.action === 'cancel' ? 'canceled if queued or running' : 'run again if failed or canceled'}. Jobs whose state does not allow it are skipped. This runs in pages in the background.
          </p>
        ) : (
          <p>
            The {formatNumber(selected.size)} selected jobs will be {pending?.action === 'cancel' ? 'canceled if queued or running' : 'run again if failed or canceled'}. Jobs whose state does not allow it are skipped.
          </p>
        )}
        {bulkError ? <div className="banner banner-error">{bulkError}</div> : null}
      </ConfirmDialog>
    </div>
  );
}
