import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { statsApi } from '../api/admin';
import { JOB_STATUSES, type Stats } from '../api/types';
import { BarChart } from '../components/bar-chart';
import { ErrorBanner, Skeleton } from '../components/feedback';
import { Card, PageHeader } from '../components/page-header';
import { QueuesTable } from '../components/queues-table';
import { RelativeTime } from '../components/relative-time';
import { SpendCard } from '../components/spend-card';
import { UpstreamCard } from '../components/upstream-card';
import { formatNumber, formatPercent } from '../lib/time';

const REFRESH_MS = 5_000;

const minuteLabel = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayLabel = new Intl.DateTimeFormat(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });

function StatusTiles({ stats }: { stats: Stats }) {
  const total = Object.values(stats.jobs_by_status).reduce((a, b) => a + b, 0);
  return (
    <div className="tiles" data-testid="status-tiles">
      <div className="tile">
        <div className="tile-label">All jobs</div>
        <div className="tile-value" data-testid="count-all">
          {formatNumber(total)}
        </div>
      </div>
      {JOB_STATUSES.map((status) => (
        <Link key={status} to="/jobs" search={{ status }} className={`tile tile-link tile-${status}`} data-testid={`count-${status}`}>
          <div className="tile-label">
            <span className={`dot dot-${status}`} aria-hidden="true" />
            {status}
          </div>
          <div className="tile-value">{formatNumber(stats.jobs_by_status[status] ?? 0)}</div>
        </Link>
      ))}
    </div>
  );
}

function TypeTable({ stats }: { stats: Stats }) {
  const rows = Object.entries(stats.jobs_by_type).sort((a, b) => b[1] - a[1]);
  if (rows.length === 0) return <p className="muted pad">No jobs yet.</p>;
  const max = Math.max(...rows.map(([, n]) => n));
  return (
    <table className="table table-compact" data-testid="type-table">
      <thead>
        <tr>
          <th>Type</th>
          <th className="num">Jobs</th>
          <th className="wide">By status</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([type, count]) => {
          const byStatus = stats.jobs_by_type_and_status?.[type];
          return (
            <tr key={type}>
              <td>
                <Link to="/jobs" search={{ type }} className="mono link">
                  {type}
                </Link>
              </td>
              <td className="num">{formatNumber(count)}</td>
              <td>
                <div className="stackbar" style={{ width: `${Math.max(4, (count / max) * 100)}%` }} title={byStatus ? Object.entries(byStatus).map(([s, n]) => `${s}: ${n}`).join(', ') : `${count} jobs`}>
                  {byStatus ? (
                    JOB_STATUSES.filter((s) => (byStatus[s] ?? 0) > 0).map((s) => <span key={s} className={`stackbar-seg bg-${s}`} style={{ flexGrow: byStatus[s] }} />)
                  ) : (
                    <span className="stackbar-seg bg-neutral" style={{ flexGrow: 1 }} />
                  )}
                </div>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Throughput({ stats }: { stats: Stats }) {
  const [range, setRange] = useState<'hour' | 'day'>('hour');
  const window = range === 'hour' ? stats.last_hour : (stats.last_day ?? stats.last_hour);
  const points = stats.series?.[range] ?? [];
  return (
    <Card
      id="throughput"
      title="Finished jobs"
      actions={
        <div className="segmented" role="group" aria-label="Time range">
          <button type="button" aria-pressed={range === 'hour'} onClick={() => setRange('hour')}>
            Last hour
          </button>
          <button type="button" aria-pressed={range === 'day'} onClick={() => setRange('day')}>
            Last day
          </button>
        </div>
      }
    >
      <div className="kpis">
        <div className="kpi">
          <div className="kpi-label">Finished</div>
          <div className="kpi-value" data-testid="finished-window">
            {formatNumber(window.finished)}
          </div>
        </div>
        <div className="kpi">
          <div className="kpi-label">Per minute</div>
          <div className="kpi-value">{window.throughput_per_min.toFixed(window.throughput_per_min < 10 ? 2 : 0)}</div>
        </div>
        <div className="kpi">
          <div className="kpi-label">Failure rate</div>
          <div className={`kpi-value ${window.failure_rate > 0.05 ? 'text-failed' : ''}`} data-testid="failure-rate">
            {formatPercent(window.failure_rate)}
          </div>
        </div>
        <div className="kpi">
          <div className="kpi-label">Failed</div>
          <div className="kpi-value">{formatNumber(window.by_status['failed'] ?? 0)}</div>
        </div>
      </div>
      {points.length > 0 ? (
        <BarChart
          points={points}
          ariaLabel={range === 'hour' ? 'Jobs finished per minute over the last hour' : 'Jobs finished per 15 minutes over the last day'}
          bucketLabel={(d) => (range === 'hour' ? `${minuteLabel.format(d)} (1 min)` : `${dayLabel.format(d)} (15 min)`)}
        />
      ) : (
        <p className="muted pad">No series from the API yet.</p>
      )}
      <div className="chart-legend">
        <span>
          <span className="dot dot-succeeded" /> finished
        </span>
        <span>
          <span className="dot dot-failed" /> failed
        </span>
        <span className="muted">{range === 'hour' ? '60 × 1 minute' : '96 × 15 minutes'}</span>
      </div>
    </Card>
  );
}

function WebhookSummary({ stats }: { stats: Stats }) {
  const w = stats.webhooks;
  if (!w) return <p className="muted pad">Not reported by this API version.</p>;
  return (
    <div className="mini-stats" data-testid="webhook-summary">
      <Link to="/webhooks" search={{ status: 'succeeded' }} className="mini-stat">
        <span className="mini-value text-succeeded">{formatNumber(w.succeeded_24h)}</span>
        <span className="mini-label">delivered in the last 24 h</span>
      </Link>
      <Link to="/webhooks" search={{ status: 'failed' }} className="mini-stat">
        <span className={`mini-value ${w.failed_24h > 0 ? 'text-failed' : ''}`}>{formatNumber(w.failed_24h)}</span>
        <span className="mini-label">given up in the last 24 h</span>
      </Link>
      <Link to="/webhooks" search={{ status: 'pending' }} className="mini-stat">
        <span className={`mini-value ${w.failing > 0 ? 'text-failed' : ''}`}>{formatNumber(w.failing)}</span>
        <span className="mini-label">failing, will retry</span>
      </Link>
      <Link to="/webhooks" search={{ status: 'pending' }} className="mini-stat">
        <span className="mini-value">{formatNumber(w.pending)}</span>
        <span className="mini-label">pending now</span>
      </Link>
    </div>
  );
}

/** Work waiting with nobody taking it is the one thing an operator must not miss. */
function IdleWarnings({ stats }: { stats: Stats }) {
  const idle = Object.entries(stats.queues ?? {}).filter(([, q]) => q.idle_warning);
  if (idle.length === 0) return null;
  return (
    <div className="banner banner-warning" role="alert" data-testid="idle-warning">
      <div>
        <strong>⚠ No worker is consuming {idle.map(([name]) => name).join(', ')}.</strong> {idle.reduce((n, [, q]) => n + q.waiting, 0)} jobs are waiting and no worker took one in the last
        minute. Check that workers run with these queues (<code>WORKER_QUEUES</code>) and can reach Redis.
      </div>
    </div>
  );
}

function OverviewSkeleton() {
  return (
    <div className="grid" aria-busy="true">
      <div className="tiles">
        {Array.from({ length: 7 }, (_, i) => (
          <div key={i} className="tile">
            <Skeleton width="50%" />
            <Skeleton width="40%" height={26} />
          </div>
        ))}
      </div>
      <div className="card">
        <Skeleton height={160} />
      </div>
    </div>
  );
}

export function OverviewPage() {
  const stats = useQuery({ queryKey: ['stats'], queryFn: statsApi.stats, refetchInterval: REFRESH_MS });
  const total = stats.data ? Object.values(stats.data.jobs_by_status).reduce((a, b) => a + b, 0) : 0;
  return (
    <div className="page">
      <PageHeader
        title="Overview"
        subtitle={
          <>
            Refreshes every {REFRESH_MS / 1000} s{stats.dataUpdatedAt ? <> · updated <RelativeTime at={new Date(stats.dataUpdatedAt).toISOString()} /></> : null}
            {stats.isFetching ? <span className="live-dot" aria-hidden="true" /> : null}
          </>
        }
      />
      {stats.error ? <ErrorBanner error={stats.error} title="Could not load the statistics" onRetry={() => void stats.refetch()} /> : null}
      {!stats.data ? (
        stats.isPending ? <OverviewSkeleton /> : null
      ) : (
        <div className="grid">
          <IdleWarnings stats={stats.data} />
          <StatusTiles stats={stats.data} />
          {total === 0 ? (
            <div className="banner banner-info">
              <div>
                <strong>No jobs yet.</strong> Submit one with a project key:{' '}
                <code className="snippet">{`curl -X POST $GENQUEUE/v1/jobs -H "Authorization: Bearer gq_…" -H "content-type: application/json" -d '{"type":"image.generate","input":{"prompt":"a lighthouse at dusk"}}'`}</code>
              </div>
            </div>
          ) : null}
          <div className="grid-2">
            <Throughput stats={stats.data} />
            <Card id="by-type" title="Jobs by type">
              <TypeTable stats={stats.data} />
            </Card>
          </div>
          <SpendCard />
          <Card id="queues" title="Queues" actions={<a href="/admin/queues" target="_blank" rel="noreferrer" className="link small">Raw BullMQ view ↗</a>}>
            <QueuesTable queues={stats.data.queues} />
          </Card>
          <div className="grid-2">
            <UpstreamCard />
            <Card id="webhooks" title="Webhook deliveries" actions={<Link to="/webhooks" className="link small">All deliveries →</Link>}>
              <WebhookSummary stats={stats.data} />
            </Card>
          </div>
        </div>
      )}
    </div>
  );
}
