import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { statsApi } from '../api/admin';
import type { Upstream } from '../api/types';
import { ErrorBanner, Skeleton } from './feedback';
import { Card } from './page-header';
import { RelativeTime } from './relative-time';

const money = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', maximumFractionDigits: 2 });

function Balance({ upstream }: { upstream: Upstream }) {
  const b = upstream.balance;
  if (!b) return <div className="banner banner-warning">Balance unavailable: {upstream.balance_error?.message ?? 'the gateway did not answer'}</div>;
  if (b.unlimited) return <div className="balance"><span className="balance-value">Unlimited</span><span className="muted">token quota</span></div>;
  const usd = b.usd;
  const usedRatio = usd && usd.hard_limit > 0 ? Math.min(1, usd.used / usd.hard_limit) : null;
  return (
    <div className="balance" data-testid="upstream-balance">
      <span className="balance-value">{usd ? money.format(usd.remaining) : (b.total_available ?? '—')}</span>
      <span className="muted">remaining{usd ? ` of ${money.format(usd.hard_limit)} · ${money.format(usd.used)} used` : ''}</span>
      {usedRatio !== null ? (
        <div className="meter" title={`${Math.round(usedRatio * 100)}% used`}>
          <div className="meter-fill" style={{ width: `${usedRatio * 100}%` }} />
        </div>
      ) : null}
    </div>
  );
}

export function UpstreamCard() {
  const upstream = useQuery({ queryKey: ['upstream'], queryFn: statsApi.upstream, refetchInterval: 60_000 });
  const [showAll, setShowAll] = useState(false);
  const models = upstream.data?.models ?? [];
  const shown = showAll ? models : models.slice(0, 12);
  return (
    <Card
      id="upstream"
      title="Gateway"
      actions={upstream.data ? <span className="muted small">checked <RelativeTime at={upstream.data.fetched_at} /></span> : null}
    >
      {upstream.error ? <ErrorBanner error={upstream.error} title="Could not reach the gateway info route" /> : null}
      {upstream.isPending ? (
        <div className="pad">
          <Skeleton width="40%" height={28} />
          <Skeleton width="70%" />
        </div>
      ) : upstream.data ? (
        <div className="upstream">
          <div className="upstream-url mono small" title="UPSTREAM_BASE_URL">
            {upstream.data.base_url}
          </div>
          <Balance upstream={upstream.data} />
          <div className="models-head">
            <span className="small strong">{models.length} models</span>
            {upstream.data.models_error ? <span className="text-failed small">{upstream.data.models_error.message}</span> : null}
          </div>
          <div className={`chips models${showAll ? ' models-all' : ''}`} data-testid="upstream-models">
            {shown.map((m) => (
              <span key={m.id} className="chip mono" title={m.endpoint_types?.join(', ') ?? m.owned_by ?? ''}>
                {m.id}
              </span>
            ))}
            {models.length > shown.length ? (
              <button type="button" className="chip chip-btn" onClick={() => setShowAll(true)}>
                +{models.length - shown.length} more
              </button>
            ) : null}
          </div>
        </div>
      ) : null}
    </Card>
  );
}
