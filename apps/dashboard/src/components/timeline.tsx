import { useState } from 'react';
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

type Step = { kind: 'event'; event: JobEvent; index: number } | { kind: 'progress'; events: JobEvent[]; index: number };

/** Consecutive progress events fold into one step (a video reports dozens). */
function steps(events: JobEvent[]): Step[] {
  const out: Step[] = [];
  events.forEach((event, index) => {
    const last = out[out.length - 1];
    if (event.type === 'job.progress' && last?.kind === 'progress') last.events.push(event);
    else if (event.type === 'job.progress') out.push({ kind: 'progress', events: [event], index });
    else out.push({ kind: 'event', event, index });
  });
  return out.flatMap((step) => (step.kind === 'progress' && step.events.length <= 2 ? step.events.map((event, i) => ({ kind: 'event' as const, event, index: step.index + i })) : [step]));
}

function Delta({ at, prev, first }: { at: number; prev: number | null; first: number }) {
  return (
    <div className="tl-delta small" title="Time since the previous step / since creation">
      {prev === null ? <span className="muted">start</span> : <>+{formatDuration(at - prev)}</>}
      <div className="muted">{prev === null ? '' : `T+${formatDuration(at - first)}`}</div>
    </div>
  );
}

function EventItem({ event, prev, first }: { event: JobEvent; prev: number | null; first: number }) {
  const status = event.data?.status ?? '';
  return (
    <li className={`tl-item tl-${event.type.replace('job.', '')}`} data-event-type={event.type}>
      <span className={`tl-dot bg-${status}`} aria-hidden="true" />
      <div className="tl-main">
        <div className="tl-head">
          <strong>{EVENT_LABEL[event.type] ?? event.type}</strong>
          {event.type === 'job.progress' ? <span className="muted">{event.data?.progress ?? 0}%</span> : <StatusBadge status={status} />}
          {event.data?.upstream?.status ? (
            <span className="chip mono small" title="upstream status">
              {event.data.upstream.status}
            </span>
          ) : null}
          {event.type === 'job.failed' && event.data?.error ? (
            <span className="text-failed small">
              {event.data.error.code}: {event.data.error.message}
            </span>
          ) : null}
        </div>
        <div className="tl-sub small muted">
          <RelativeTime at={event.created_at} /> · #{event.seq}
        </div>
      </div>
      <Delta at={Date.parse(event.created_at)} prev={prev} first={first} />
    </li>
  );
}

function ProgressGroup({ events, prev, first }: { events: JobEvent[]; prev: number | null; first: number }) {
  const [open, setOpen] = useState(false);
  const head = events[0]!;
  const tail = events[events.length - 1]!;
  if (open) {
    return (
      <>
        {events.map((event, i) => (
          <EventItem key={event.id} event={event} prev={i === 0 ? prev : Date.parse(events[i - 1]!.created_at)} first={first} />
        ))}
        <li className="tl-item tl-progress">
          <span className="tl-dot bg-running" aria-hidden="true" />
          <button type="button" className="btn btn-link btn-sm" onClick={() => setOpen(false)}>
            Fold the {events.length} progress updates
          </button>
          <span />
        </li>
      </>
    );
  }
  return (
    <li className="tl-item tl-progress" data-event-type="job.progress">
      <span className="tl-dot bg-running" aria-hidden="true" />
      <div className="tl-main">
        <div className="tl-head">
          <strong>Progress</strong>
          <span className="muted">
            {head.data?.progress ?? 0}% → {tail.data?.progress ?? 0}%
          </span>
          <button type="button" className="btn btn-link btn-sm" onClick={() => setOpen(true)} aria-expanded={false}>
            {events.length} updates ▸
          </button>
        </div>
        <div className="tl-sub small muted">
          over {formatDuration(Date.parse(tail.created_at) - Date.parse(head.created_at))} · #{head.seq}–#{tail.seq}
        </div>
      </div>
      <Delta at={Date.parse(tail.created_at)} prev={prev} first={first} />
    </li>
  );
}

/** The job's event log with the time between steps. */
export function Timeline({ events }: { events: JobEvent[] }) {
  if (events.length === 0) return <p className="muted">No events yet.</p>;
  const first = Date.parse(events[0]!.created_at);
  let prev: number | null = null;
  return (
    <ol className="timeline" data-testid="timeline">
      {steps(events).map((step) => {
        const before = prev;
        if (step.kind === 'event') {
          prev = Date.parse(step.event.created_at);
          return <EventItem key={step.event.id} event={step.event} prev={before} first={first} />;
        }
        prev = Date.parse(step.events[step.events.length - 1]!.created_at);
        return <ProgressGroup key={step.events[0]!.id} events={step.events} prev={before} first={first} />;
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
