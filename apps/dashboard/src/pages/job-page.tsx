import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link, useNavigate } from '@tanstack/react-router';
import { useCallback, useState, type ReactNode } from 'react';
import { ApiError, errorMessage } from '../api/client';
import { jobsApi } from '../api/jobs';
import { isFinal, type Job, type JobEvent } from '../api/types';
import { ArtifactPreviews } from '../components/artifacts';
import { IdWithCopy } from '../components/copy-button';
import { JobCostCard } from '../components/job-cost';
import { DeliveriesTable } from '../components/deliveries';
import { ConfirmDialog } from '../components/dialog';
import { EmptyState, ErrorBanner, Skeleton } from '../components/feedback';
import { JsonTree } from '../components/json-tree';
import { MjButtons } from '../components/mj-buttons';
import { Card, PageHeader } from '../components/page-header';
import { ProgressBar } from '../components/progress-bar';
import { RelativeTime } from '../components/relative-time';
import { StatusBadge } from '../components/status-badge';
import { AttemptsList, Timeline } from '../components/timeline';
import { useJobEvents } from '../lib/live-events';
import { jobDurationMs, jobPrompt, jobSummary } from '../lib/job-text';
import { formatAbsolute, formatDuration } from '../lib/time';
import { useNow, useSecondTicker } from '../lib/use-now';
import { mergeJob } from '../lib/use-live-jobs';

const routeApi = getRouteApi('/app/jobs/$jobId');

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="kv-row">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function TimeValue({ at }: { at: string | null }) {
  if (!at) return <span className="muted">—</span>;
  return (
    <span>
      <RelativeTime at={at} /> <span className="muted small">{formatAbsolute(at)}</span>
    </span>
  );
}

function Details({ job }: { job: Job }) {
  const slowNow = useNow();
  const fastNow = useSecondTicker(!isFinal(job.status));
  const now = isFinal(job.status) ? slowNow : fastNow;
  const waitMs = job.started_at ? Date.parse(job.started_at) - Date.parse(job.created_at) : null;
  const metadata = job.metadata && Object.keys(job.metadata).length > 0 ? job.metadata : null;
  return (
    <Card id="details" title="Details">
      <dl className="kv">
        <Row label="Job id">
          <IdWithCopy id={job.id} />
        </Row>
        <Row label="Project">
          {job.project_id ? (
            <Link to="/projects/$projectId" params={{ projectId: job.project_id }} className="link">
              {job.project_name ?? job.project_id}
            </Link>
          ) : (
            '—'
          )}
        </Row>
        <Row label="Upstream task">{job.upstream?.task_id ? <IdWithCopy id={job.upstream.task_id} /> : <span className="muted">—</span>}</Row>
        <Row label="Upstream status">{job.upstream?.status ? <code data-testid="upstream-status">{job.upstream.status}</code> : <span className="muted">—</span>}</Row>
        {job.parent_id ? (
          <Row label="Parent">
            <Link to="/jobs/$jobId" params={{ jobId: job.parent_id }} className="link mono">
              {job.parent_id}
            </Link>
          </Row>
        ) : null}
        <Row label="Created">
          <TimeValue at={job.created_at} />
        </Row>
        <Row label="Started">
          <TimeValue at={job.started_at} />
        </Row>
        <Row label="Finished">
          <TimeValue at={job.finished_at} />
        </Row>
        <Row label="Waited in queue">{formatDuration(waitMs)}</Row>
        <Row label="Ran for">{formatDuration(jobDurationMs(job, now))}</Row>
        <Row label="Attempts">{job.attempts}</Row>
        {job.priority !== undefined ? <Row label="Priority">{job.priority}</Row> : null}
        <Row label="Webhook URL">{job.webhook_url ? <span className="mono small break">{job.webhook_url}</span> : <span className="muted">none</span>}</Row>
        <Row label="Metadata">
          {metadata ? (
            <div className="chips">
              {Object.entries(metadata).map(([k, v]) => (
                <Link key={k} to="/jobs" search={{ meta: `${k}=${String(v)}` }} className="chip mono chip-link" title="Jobs with this metadata">
                  {k}={String(v)}
                </Link>
              ))}
            </div>
          ) : (
            <span className="muted">none</span>
          )}
        </Row>
      </dl>
    </Card>
  );
}

export function JobPage() {
  const { jobId } = routeApi.useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [confirm, setConfirm] = useState<'cancel' | 'resubmit' | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);

  const job = useQuery({
    queryKey: ['job', jobId],
    queryFn: () => jobsApi.get(jobId),
    // polling backs up the live stream while the job can still change
    refetchInterval: (q) => (q.state.data && !isFinal(q.state.data.status) ? 3_000 : false),
  });
  const isDone = job.data ? isFinal(job.data.status) : false;
  const events = useQuery({ queryKey: ['job-events', jobId], queryFn: () => jobsApi.events(jobId), refetchInterval: isDone ? false : 3_000 });
  const attempts = useQuery({ queryKey: ['job-attempts', jobId], queryFn: () => jobsApi.attempts(jobId) });
  const children = useQuery({ queryKey: ['job-children', jobId], queryFn: () => jobsApi.children(jobId), enabled: Boolean(job.data?.type.startsWith('mj.')) });
  const deliveries = useQuery({
    queryKey: ['job-deliveries', jobId],
    queryFn: () => jobsApi.deliveries(jobId),
    refetchInterval: (q) => (q.state.data?.data.some((d) => d.status === 'pending') || !isDone ? 2_000 : false),
  });

  const onEvent = useCallback(
    (event: JobEvent) => {
      if (event.job_id !== jobId) return;
      queryClient.setQueryData<Job>(['job', jobId], (current) => (current && event.data ? mergeJob(current, event.data) : current));
      queryClient.setQueryData<{ data: JobEvent[] }>(['job-events', jobId], (current) =>
        current && !current.data.some((e) => e.id === event.id) ? { data: [...current.data, event].sort((a, b) => a.seq - b.seq) } : current,
      );
      if (event.type !== 'job.progress') {
        void queryClient.invalidateQueries({ queryKey: ['job', jobId] });
        void queryClient.invalidateQueries({ queryKey: ['job-attempts', jobId] });
        void queryClient.invalidateQueries({ queryKey: ['job-deliveries', jobId] });
      }
    },
    [jobId, queryClient],
  );
  const live = useJobEvents(onEvent, Boolean(job.data) && !isDone);

  const afterChange = () => {
    setActionError(null);
    void queryClient.invalidateQueries({ queryKey: ['job', jobId] });
    void queryClient.invalidateQueries({ queryKey: ['job-events', jobId] });
    void queryClient.invalidateQueries({ queryKey: ['job-attempts', jobId] });
    void queryClient.invalidateQueries({ queryKey: ['jobs'] });
  };
  const retry = useMutation({ mutationFn: () => jobsApi.retry(jobId), onSuccess: afterChange, onError: setActionError });
  const cancel = useMutation({
    mutationFn: () => jobsApi.cancel(jobId),
    onSuccess: () => {
      setConfirm(null);
      afterChange();
    },
    onError: (err) => {
      setConfirm(null);
      setActionError(err);
    },
  });
  const resubmit = useMutation({
    mutationFn: (j: Job) =>
      jobsApi.create({ project_id: j.project_id ?? '', type: j.type, input: j.input, ...(j.metadata ? { metadata: j.metadata } : {}), ...(j.webhook_url ? { webhook_url: j.webhook_url } : {}) }),
    onSuccess: (created) => {
      setConfirm(null);
      void queryClient.invalidateQueries({ queryKey: ['jobs'] });
      void navigate({ to: '/jobs/$jobId', params: { jobId: created.id } });
    },
    onError: (err) => {
      setConfirm(null);
      setActionError(err);
    },
  });

  if (job.error) {
    const notFound = job.error instanceof ApiError && job.error.status === 404;
    return (
      <div className="page">
        <PageHeader title="Job" crumbs={<Link to="/jobs" className="link">Jobs</Link>} />
        {notFound ? (
          <EmptyState title={`No job ${jobId}`} action={<Link to="/jobs" className="btn">Back to jobs</Link>}>
            It may have been typed wrong, or it belongs to a database this API does not use.
          </EmptyState>
        ) : (
          <ErrorBanner error={job.error} title="Could not load the job" onRetry={() => void job.refetch()} />
        )}
      </div>
    );
  }
  if (!job.data) {
    return (
      <div className="page" aria-busy="true">
        <Skeleton width={240} height={28} />
        <div className="grid-detail">
          <div className="card">
            <Skeleton height={180} />
          </div>
          <div className="card">
            <Skeleton height={300} />
          </div>
        </div>
      </div>
    );
  }
  const j = job.data;
  const canRetry = j.status === 'failed' || j.status === 'canceled';
  const canCancel = j.status === 'queued' || j.status === 'running';
  const prompt = jobPrompt(j);
  const summary = jobSummary(j);
  const upstreamState = j.upstream_state ?? null;

  return (
    <div className="page" data-job-status={j.status}>
      <PageHeader
        crumbs={
          <>
            <Link to="/jobs" className="link">
              Jobs
            </Link>{' '}
            / <span className="mono">{j.id}</span>
          </>
        }
        title={
          <span className="title-with-badge">
            <span className="mono">{j.type}</span>
            <StatusBadge status={j.status} progress={j.progress} />
          </span>
        }
        subtitle={
          <>
            {prompt ? (
              <span className="subtitle-prompt">“{prompt.length > 160 ? `${prompt.slice(0, 160)}…` : prompt}”</span>
            ) : summary ? (
              <span className="subtitle-prompt mono small">{summary}</span>
            ) : null}
            <span className="muted">
              {' '}
              · created <RelativeTime at={j.created_at} /> in {j.project_name ?? j.project_id}
            </span>
          </>
        }
        actions={
          <>
            {canCancel ? (
              <button type="button" className="btn btn-danger-outline" onClick={() => setConfirm('cancel')}>
                Cancel job
              </button>
            ) : null}
            {canRetry ? (
              <button type="button" className="btn btn-primary" onClick={() => retry.mutate()} disabled={retry.isPending}>
                {retry.isPending ? 'Retrying…' : 'Retry'}
              </button>
            ) : null}
            <button type="button" className="btn" onClick={() => setConfirm('resubmit')}>
              Submit again as new job
            </button>
          </>
        }
      />
      {actionError ? <ErrorBanner error={actionError} title="The action did not go through" /> : null}

      {!isFinal(j.status) ? (
        <div className="live-progress" data-testid="live-progress">
          <div className="live-progress-head">
            <span>
              <strong data-testid="progress-value">{j.progress}%</strong> {j.status === 'queued' ? 'waiting for a worker' : 'running'}
              {j.upstream?.status ? <span className="muted"> · upstream {j.upstream.status}</span> : null}
            </span>
            <span className={`live live-${live}`}>
              <span className="live-dot" aria-hidden="true" /> {live === 'live' ? 'Live' : 'Connecting…'}
            </span>
          </div>
          <ProgressBar value={j.progress} status={j.status} />
        </div>
      ) : null}

      {j.error ? (
        <div className="banner banner-error" data-testid="job-error">
          <div>
            <strong>{j.error.code}</strong> <span className="banner-message">{j.error.message}</span>
            {j.error.retryable !== undefined ? <span className="muted small"> · {j.error.retryable ? 'retryable' : 'not retryable'}</span> : null}
          </div>
        </div>
      ) : null}

      <div className="grid-detail">
        <div className="col-main">
          {j.artifacts.length > 0 || (j.output && typeof j.output === 'object') ? (
            <Card id="output-preview" title="Result">
              <ArtifactPreviews job={j} />
              <MjButtons job={j} />
              {children.data && children.data.data.length > 0 ? (
                <div className="children">
                  <div className="small strong">Follow-up jobs</div>
                  <ul className="plain-list">
                    {children.data.data.map((c) => (
                      <li key={c.id}>
                        <StatusBadge status={c.status} progress={c.progress} />{' '}
                        <Link to="/jobs/$jobId" params={{ jobId: c.id }} className="link mono">
                          {c.id}
                        </Link>{' '}
                        <span className="muted small">{jobSummary(c)}</span>
                      </li>
                    ))}
                  </ul>
                </div>
              ) : null}
            </Card>
          ) : null}
          <Card id="timeline" title="Timeline">
            {events.error ? <ErrorBanner error={events.error} /> : events.data ? <Timeline events={events.data.data} /> : <Skeleton height={120} />}
          </Card>
          <Card id="attempts" title={`Failed attempts${attempts.data ? ` (${attempts.data.data.length})` : ''}`}>
            {attempts.error ? <ErrorBanner error={attempts.error} /> : attempts.data ? <AttemptsList attempts={attempts.data.data} /> : <Skeleton height={60} />}
          </Card>
          <div className="grid-2">
            <Card id="input" title="Input">
              <JsonTree value={j.input} />
            </Card>
            <Card id="output" title="Output">
              <JsonTree value={j.output} />
            </Card>
          </div>
          <Card id="job-deliveries" title="Webhook deliveries">
            {deliveries.error ? (
              <ErrorBanner error={deliveries.error} />
            ) : !deliveries.data ? (
              <Skeleton height={60} />
            ) : deliveries.data.data.length === 0 ? (
              <p className="muted">No webhooks for this job: it has no webhook_url and no endpoint of its project subscribes to its events.</p>
            ) : (
              <DeliveriesTable deliveries={deliveries.data.data} showJob={false} expandAll />
            )}
          </Card>
        </div>
        <div className="col-side">
          <Details job={j} />
          <JobCostCard jobId={j.id} isFinal={isFinal(j.status)} />
          {upstreamState || j.upstream?.task_id ? (
            <Card id="upstream" title="Upstream state">
              {upstreamState ? <JsonTree value={upstreamState} /> : <p className="muted">The worker has recorded no raw task state for this job yet.</p>}
            </Card>
          ) : null}
        </div>
      </div>

      <ConfirmDialog
        open={confirm === 'cancel'}
        title="Cancel this job?"
        confirmLabel="Cancel job"
        danger
        busy={cancel.isPending}
        onConfirm={() => cancel.mutate()}
        onClose={() => setConfirm(null)}
      >
        <p>
          <span className="mono">{j.id}</span> is {j.status}. Canceling stops it here; an upstream task already submitted may still be billed.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === 'resubmit'}
        title="Submit again as a new job?"
        confirmLabel="Submit new job"
        busy={resubmit.isPending}
        onConfirm={() => resubmit.mutate(j)}
        onClose={() => setConfirm(null)}
      >
        <p>
          A new <span className="mono">{j.type}</span> job with the same input{j.metadata ? ', metadata' : ''} and webhook URL is submitted to {j.project_name ?? j.project_id}. This job stays as it is.
        </p>
        {resubmit.error ? <div className="banner banner-error">{errorMessage(resubmit.error)}</div> : null}
      </ConfirmDialog>
    </div>
  );
}
