import type { QueueStats } from '../api/types';
import { formatDuration, formatNumber } from '../lib/time';
import { RelativeTime } from './relative-time';

const HELD_LABELS: Record<string, string> = {
  rate_limited: 'gateway 429',
  outage: 'gateway outage',
  refused: 'key or quota refused',
};

const HELD_TITLES: Record<string, string> = {
  rate_limited: 'The gateway answered 429: the lane slows to the rate it learnt and waits',
  outage: 'The gateway answers 5xx or nothing: jobs wait (no attempt used) until a probe succeeds',
  refused: 'The gateway refused our key or its quota is spent: jobs wait until it accepts it again',
};

export function QueuesTable({ queues }: { queues: Record<string, QueueStats> | null }) {
  if (!queues) {
    return <div className="banner banner-warning">Queue depths are unavailable: Redis did not answer. Jobs stay safe in Postgres; the sweeper requeues them when Redis is back.</div>;
  }
  const rows = Object.entries(queues).sort(([a], [b]) => a.localeCompare(b));
  if (rows.length === 0) return <p className="muted pad">No queues reported.</p>;
  return (
    <div className="table-wrap">
      <table className="table" data-testid="queues-table">
        <thead>
          <tr>
            <th>Queue</th>
            <th className="num">Waiting</th>
            <th className="num">Active</th>
            <th className="num">Delayed</th>
            <th className="num">Failed</th>
            <th>State</th>
            <th>Last activity</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([name, q]) => (
            <tr key={name} className={q.idle_warning ? 'row-warning' : ''} data-queue={name}>
              <td className="mono">{name}</td>
              <td className="num">{formatNumber(q.waiting)}</td>
              <td className="num">{q.active > 0 ? <span className="text-running">{formatNumber(q.active)}</span> : '0'}</td>
              <td className="num">{formatNumber(q.delayed)}</td>
              <td className="num">{q.failed > 0 ? <span className="text-failed">{formatNumber(q.failed)}</span> : '0'}</td>
              <td>
                <div className="chips">
                  {q.paused ? <span className="chip chip-warn">paused</span> : null}
                  {q.rate_limited_ms > 0 ? (
                    <span className="chip chip-warn" title="The gateway answered 429; the whole lane waits">
                      rate limited · {formatDuration(q.rate_limited_ms)}
                    </span>
                  ) : null}
                  {q.held_reason && q.held_reason !== 'rate' ? (
                    <span className="chip chip-danger" title={HELD_TITLES[q.held_reason]} data-held={q.held_reason}>
                      {HELD_LABELS[q.held_reason]}
                      {q.held_until ? <> · until <RelativeTime at={q.held_until} fallback="" /></> : null}
                    </span>
                  ) : null}
                  {q.idle_warning ? (
                    <span className="chip chip-danger" role="alert" title="Work is waiting and no worker took a job from this queue in the last minute">
                      ⚠ no worker consuming
                    </span>
                  ) : null}
                  {!q.paused && q.rate_limited_ms <= 0 && !q.idle_warning && !(q.held_reason && q.held_reason !== 'rate') ? <span className="chip chip-ok">ok</span> : null}
                </div>
              </td>
              <td>
                <RelativeTime at={q.last_active_at} fallback="never" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
