import { useQuery } from '@tanstack/react-query';
import { formatUsd, usageApi, type JobCost } from '../api/usage';
import { formatNumber } from '../lib/time';
import { ErrorBanner, Skeleton } from './feedback';
import { Card } from './page-header';
import { RelativeTime } from './relative-time';

const SOURCE_LABELS: Record<JobCost['source'], string> = {
  usage: 'usage tokens',
  billing_header: 'billing header',
  task_price: 'task price',
  balance_delta: 'balance before/after',
};

/** What the gateway charged for a job: its cost ledger entries (charges, refunds) and their sum. */
export function JobCostCard({ jobId, isFinal }: { jobId: string; isFinal: boolean }) {
  const costs = useQuery({ queryKey: ['job-costs', jobId], queryFn: () => usageApi.job(jobId), refetchInterval: isFinal ? false : 5_000 });
  return (
    <Card id="cost" title="Cost">
      {costs.error ? (
        <ErrorBanner error={costs.error} />
      ) : !costs.data ? (
        <Skeleton height={40} />
      ) : costs.data.data.length === 0 ? (
        <p className="muted">No gateway charge recorded{isFinal ? '' : ' yet'}.</p>
      ) : (
        <div data-testid="job-cost" data-usd={costs.data.usd} data-units={costs.data.units}>
          <div className="balance">
            <span className="balance-value">{formatUsd(costs.data.usd)}</span>
            <span className="muted">
              {formatNumber(costs.data.units)} quota units{costs.data.estimated ? ' · estimated' : ''}
            </span>
          </div>
          <ul className="plain-list small">
            {costs.data.data.map((c) => (
              <li key={c.id} data-cost-kind={c.kind} data-source={c.source}>
                <span className={c.kind === 'refund' ? 'text-succeeded' : ''}>{c.kind === 'refund' ? 'refund' : 'charge'}</span> {formatUsd(c.usd)} ·{' '}
                <span className="muted">
                  {SOURCE_LABELS[c.source]}
                  {c.model ? ` · ${c.model}` : ''} · <RelativeTime at={c.charged_at} />
                </span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </Card>
  );
}
