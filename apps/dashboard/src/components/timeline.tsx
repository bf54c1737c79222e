import type { JobAttempt, JobEvent } from '../api/types';
import { formatDuration } from '../lib/time';
import { RelativeTime } from './relative-time';
import { StatusBadge } from './status-badge';

const EVENT_LABEL: Record<string, string> = {
  'job.created': 'Created',
  'job.started': 'Started',
  'job.progress': 'Progress',
  'job.succeeded': 'Succeeded',
  'job.failed': 'Failed',
  'job.canceled': 'Canceled',
  'job.expired': 'Expired',
  'job.retried': 'Retried',
};

/** The job's event log with the time between steps. */
export function Timeline({ events }: { events: JobEvent[] }) {
  if (events.length === 0) return <p className="muted">No events yet.</p>;
  const first = Date.parse(events[0]!.created_at);
  return (
    <ol className="timeline" data-testid="timeline">
      {events.map((event, i) => {
        const at = Date.parse(event.created_at);
        const prev = i > 0 ? Date.parse(events[i - 1]!.created_at) : null;
        const status = event.data?.status ?? '';
        return (
          <li key={event.id} className={`tl-item tl-${event.type.replace('job.', '')}`} data-event-type={event.type}>
            <span className={`tl-dot bg-${status}`} aria-hidden="true" />
            <div className="tl-main">
              <div className="tl-head">
                <strong>{EVENT_LABEL[event.type] ?? event.type}</strong>
                {event.type === 'job.progress' ? <span className="muted">{event.data?.progress ?? 0}%</span> : <StatusBadge status={status} />}
                {event.data?.upstream?.status ? <span className="chip mono small" title="upstream status">{event.data.upstream.status}</span> : null}
                {event.type === 'job.failed' && event.data?.error ? <span className="text-failed small">{event.data.error.code}: {event.data.error.message}</span> : null}
              </div>
              <div className="tl-sub small muted">
                <RelativeTime at={event.created_at} /> · #{event.seq}
              </div>
            </div>
            <div className="tl-delta small" title="Time since the previous step / since creation">
              {prev === null ? <span className="muted">start</span> : <>+{formatDuration(at - prev)}</>}
              <div className="muted">{i > 0 ? `T+${formatDuration(at - first)}` : ''}</div>
            </div>
          </li>
        );
      })}
    </ol>
  );
}

export function AttemptsList({ attempts }: { attempts: JobAttempt[] }) {
  if (attempts.length === 0) return <p className="muted">No failed runs: every attempt so far went through.</p>;
  return (
    <table className="table table-compact" data-testid="attempts">
      <thead>
        <tr>
          <th>#</th>
          <th>Outcome</th>
          <th className="wide">Error</th>
          <th>When</th>
        </tr>
      </thead>
      <tbody>
        {attempts.map((a, i) => (
          <tr key={`${a.attempt}-${i}`}>
            <td className="num">{a.attempt}</td>
            <td>
              <span className={`chip ${a.outcome === 'failed' ? 'chip-danger' : 'chip-warn'}`}>{a.outcome.replace('_', ' ')}</span>
            </td>
            <td>
              {a.error ? (
                <>
                  <code className="small">{a.error.code}</code> <span>{a.error.message}</span>
                  {a.error.retryable ? <span className="muted small"> (retryable)</span> : null}
                </>
              ) : (
                <span className="muted">—</span>
              )}
            </td>
            <td>
              <RelativeTime at={a.at} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
