import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { jobsApi } from '../api/jobs';
import type { BulkAction } from '../api/types';
import { formatNumber } from '../lib/time';
import { ErrorBanner } from './feedback';

/** Follows a bulk action (GET /admin/v1/bulk-actions/{id}) until it is done. */
export function BulkProgress({ initial, onDismiss }: { initial: BulkAction; onDismiss: () => void }) {
  const queryClient = useQueryClient();
  const bulk = useQuery({
    queryKey: ['bulk', initial.id],
    queryFn: () => jobsApi.bulkStatus(initial.id),
    initialData: initial,
    refetchInterval: (query) => (query.state.data?.status === 'done' ? false : 700),
  });
  const action = bulk.data;
  const done = action.status === 'done';
  useEffect(() => {
    void queryClient.invalidateQueries({ queryKey: ['jobs'] });
    void queryClient.invalidateQueries({ queryKey: ['stats'] });
  }, [action.processed, done, queryClient]);
  const pct = action.matched > 0 ? Math.round((action.processed / action.matched) * 100) : done ? 100 : 0;
  const verb = action.action === 'cancel' ? 'Cancel' : action.action === 'retry' ? 'Retry' : action.action;
  return (
    <div className={`bulk-progress ${done ? 'bulk-done' : ''}`} role="status" data-testid="bulk-progress" data-bulk-status={action.status}>
      <div className="bulk-progress-head">
      <div className="bulk-progress-text">
        <strong>
          {verb} {done ? 'finished' : 'in progress'}
        </strong>
        <span>
          {formatNumber(action.processed)} of {formatNumber(action.matched)} processed · <b data-testid="bulk-changed">{formatNumber(action.changed)}</b> changed · {formatNumber(action.skipped)} skipped (state did not allow it)
        </span>
      </div>
      {done ? (
        <button type="button" className="btn btn-sm" onClick={onDismiss}>
          Dismiss
        </button>
      ) : null}
      </div>
      <div className="progress progress-wide" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100}>
        <div className="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      {bulk.error ? <ErrorBanner error={bulk.error} title="Lost track of the bulk action" /> : null}
    </div>
  );
}
