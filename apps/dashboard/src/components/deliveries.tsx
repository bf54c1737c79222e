import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { Fragment, useState } from 'react';
import { errorMessage } from '../api/client';
import { webhooksApi } from '../api/admin';
import type { DeliveryAttempt, WebhookDelivery } from '../api/types';
import { formatDuration } from '../lib/time';
import { RelativeTime } from './relative-time';

function AttemptCode({ attempt }: { attempt: DeliveryAttempt }) {
  if (attempt.status_code === null) return <span className="chip chip-danger">no answer</span>;
  const ok = attempt.status_code >= 200 && attempt.status_code < 300;
  return <span className={`chip mono ${ok ? 'chip-ok' : 'chip-danger'}`}>{attempt.status_code}</span>;
}

function DeliveryStatus({ delivery }: { delivery: WebhookDelivery }) {
  const failingNow = delivery.status === 'pending' && delivery.attempts.length > 0;
  const cls = delivery.status === 'succeeded' ? 'succeeded' : delivery.status === 'failed' ? 'failed' : failingNow ? 'failing' : 'queued';
  return (
    <span className={`badge badge-${cls}`}>
      <span className="badge-dot" aria-hidden="true" />
      {failingNow ? 'retrying' : delivery.status}
    </span>
  );
}

function AttemptsTable({ delivery }: { delivery: WebhookDelivery }) {
  if (delivery.attempts.length === 0) return <p className="muted pad">Not sent yet{delivery.next_attempt_at ? <> · next try <RelativeTime at={delivery.next_attempt_at} /></> : null}.</p>;
  return (
    <table className="table table-compact attempts-table" data-testid="delivery-attempts">
      <thead>
        <tr>
          <th>#</th>
          <th>Status</th>
          <th className="num">Duration</th>
          <th>When</th>
          <th className="wide">Error / response body</th>
        </tr>
      </thead>
      <tbody>
        {delivery.attempts.map((a, i) => (
          <tr key={`${a.at}-${i}`} data-attempt={i + 1}>
            <td className="num">{i + 1}</td>
            <td>
              <AttemptCode attempt={a} />
            </td>
            <td className="num">{formatDuration(a.duration_ms)}</td>
            <td>
              <RelativeTime at={a.at} />
            </td>
            <td>
              {a.error ? <div className="text-failed small">{a.error}</div> : null}
              {a.response_body ? <pre className="body-preview">{a.response_body}</pre> : a.error ? null : <span className="muted small">empty body</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

type Props = {
  deliveries: WebhookDelivery[];
  showJob?: boolean;
  projectNames?: Map<string, string>;
  /** expand every row at first (a job's own few deliveries) */
  expandAll?: boolean;
};

/** Deliveries with their status; a row expands to its attempts; redeliver sends one again now. */
export function DeliveriesTable({ deliveries, showJob = true, projectNames, expandAll = false }: Props) {
  const queryClient = useQueryClient();
  const [open, setOpen] = useState<Set<string>>(() => (expandAll ? new Set(deliveries.map((d) => d.id)) : new Set()));
  const [error, setError] = useState<string | null>(null);
  const redeliver = useMutation({
    mutationFn: (id: string) => webhooksApi.redeliver(id),
    onSuccess: (_d, id) => {
      setError(null);
      setOpen((prev) => new Set(prev).add(id));
      void queryClient.invalidateQueries({ queryKey: ['deliveries'] });
      void queryClient.invalidateQueries({ queryKey: ['job-deliveries'] });
    },
    onError: (err) => setError(errorMessage(err)),
  });
  const toggle = (id: string) =>
    setOpen((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  return (
    <>
      {error ? <div className="banner banner-error" role="alert">{error}</div> : null}
      <div className="table-wrap">
        <table className="table" data-testid="deliveries-table">
          <thead>
            <tr>
              <th aria-label="Expand" />
              <th>Status</th>
              <th>Event</th>
              {showJob ? <th>Job</th> : null}
              <th className="wide">Endpoint</th>
              <th className="num">Attempts</th>
              <th>Last attempt</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {deliveries.map((d) => {
              const isOpen = open.has(d.id);
              const last = d.attempts[d.attempts.length - 1];
              return (
                <Fragment key={d.id}>
                  <tr className={`clickable ${isOpen ? 'expanded' : ''}`} data-delivery-id={d.id} onClick={(e) => !(e.target as HTMLElement).closest('a,button') && toggle(d.id)}>
                    <td>
                      <button type="button" className="btn btn-ghost btn-icon btn-xs" aria-expanded={isOpen} aria-label={`${isOpen ? 'Hide' : 'Show'} attempts of ${d.id}`} onClick={() => toggle(d.id)}>
                        {isOpen ? '▾' : '▸'}
                      </button>
                    </td>
                    <td>
                      <DeliveryStatus delivery={d} />
                    </td>
                    <td className="mono small">{d.event_type}</td>
                    {showJob ? (
                      <td>
                        <Link to="/jobs/$jobId" params={{ jobId: d.job_id }} className="mono link small">
                          …{d.job_id.slice(-10)}
                        </Link>
                      </td>
                    ) : null}
                    <td className="truncate" title={d.url}>
                      <span className="mono small">{d.url}</span>
                      {d.project_id && projectNames ? <span className="muted small"> · {projectNames.get(d.project_id) ?? d.project_id}</span> : null}
                      {!d.endpoint_id ? <span className="chip small">job webhook_url</span> : null}
                    </td>
                    <td className="num" data-testid="attempt-count">
                      {d.attempts.length}
                    </td>
                    <td>{last ? <><AttemptCode attempt={last} /> <RelativeTime at={last.at} /></> : <span className="muted">—</span>}</td>
                    <td>
                      <button type="button" className="btn btn-sm" onClick={() => redeliver.mutate(d.id)} disabled={redeliver.isPending && redeliver.variables === d.id}>
                        {redeliver.isPending && redeliver.variables === d.id ? 'Sending…' : 'Redeliver'}
                      </button>
                    </td>
                  </tr>
                  {isOpen ? (
                    <tr className="detail-row">
                      <td />
                      <td colSpan={showJob ? 7 : 6}>
                        <div className="small muted detail-ids">
                          <span className="mono">{d.id}</span> · webhook-id <span className="mono">{d.webhook_id}</span>
                        </div>
                        <AttemptsTable delivery={d} />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}
