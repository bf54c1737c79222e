import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { projectsApi } from '../api/admin';
import { formatUsd, usageApi, type AdminUsage } from '../api/usage';
import { formatNumber } from '../lib/time';
import { ErrorBanner, Skeleton } from './feedback';
import { Card } from './page-header';

const DAYS = 14;
const DAY_MS = 86_400_000;
/** Colours of the projects' segments, in order of spend (the rest share the last). */
const SEGMENTS = 6;

type Day = { day: string; usd: number; byProject: Map<string, number> };

function daysOf(usage: AdminUsage, order: string[]): Day[] {
  const end = new Date(usage.to);
  const days: Day[] = [];
  for (let i = DAYS - 1; i >= 0; i -= 1) {
    const day = new Date(end.getTime() - i * DAY_MS).toISOString().slice(0, 10);
    days.push({ day, usd: 0, byProject: new Map(order.map((p) => [p, 0])) });
  }
  const byDay = new Map(days.map((d) => [d.day, d]));
  for (const row of usage.data) {
    const d = byDay.get(row.day);
    if (!d) continue;
    d.usd += row.usd;
    const project = row.project_id ?? '';
    d.byProject.set(project, (d.byProject.get(project) ?? 0) + row.usd);
  }
  return days;
}

/** Spend per UTC day as bars stacked by project, with hover values (the same hand-made SVG as the throughput chart). */
function SpendChart({ days, order, names }: { days: Day[]; order: string[]; names: Map<string, string> }) {
  const [hover, setHover] = useState<number | null>(null);
  const width = 600;
  const height = 120;
  const max = Math.max(1e-9, ...days.map((d) => d.usd));
  const barWidth = width / days.length;
  const hovered = hover === null ? null : days[hover];
  return (
    <div className="chart">
      <div className="chart-readout" aria-live="polite">
        {hovered ? (
          <>
            <span className="chart-when">{hovered.day}</span>
            <span>
              <b>{formatUsd(hovered.usd)}</b> spent
            </span>
            {order
              .filter((p) => (hovered.byProject.get(p) ?? 0) > 0)
              .slice(0, 3)
              .map((p) => (
                <span key={p} className="muted">
                  {names.get(p) ?? p}: {formatUsd(hovered.byProject.get(p) ?? 0)}
                </span>
              ))}
          </>
        ) : (
          <span className="muted">Hover a bar for its values · max {formatUsd(max)} per day</span>
        )}
      </div>
      <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={`Spend per day over the last ${DAYS} days, by project`} className="chart-svg" data-testid="spend-chart" onMouseLeave={() => setHover(null)}>
        <line x1={0} x2={width} y1={height - 0.5} y2={height - 0.5} className="chart-axis" />
        {days.map((d, i) => {
          const x = i * barWidth + 2;
          const w = Math.max(1, barWidth - 4);
          let top = height;
          return (
            <g key={d.day} onMouseEnter={() => setHover(i)} className={hover === i ? 'bar bar-hover' : 'bar'} data-day={d.day} data-usd={d.usd.toFixed(6)}>
              <rect x={i * barWidth} y={0} width={barWidth} height={height} className="bar-hit" />
              {order.map((p, k) => {
                const usd = d.byProject.get(p) ?? 0;
                if (usd <= 0) return null;
                const h = (usd / max) * (height - 4);
                top -= h;
                return <rect key={p} x={x} y={top} width={w} height={h} className={`spend-seg spend-seg-${Math.min(k, SEGMENTS - 1)}`} />;
              })}
              <title>{`${d.day}: ${formatUsd(d.usd)}`}</title>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

/** The overview's spend: the cost ledger of the last 14 days, per day and per project, and the gateway balance. */
export function SpendCard() {
  const range = useMemo(() => {
    const to = new Date(Math.ceil(Date.now() / DAY_MS) * DAY_MS);
    return { from: new Date(to.getTime() - DAYS * DAY_MS).toISOString(), to: to.toISOString() };
  }, []);
  const usage = useQuery({ queryKey: ['usage', range], queryFn: () => usageApi.admin(range.from, range.to), refetchInterval: 15_000 });
  const projects = useQuery({ queryKey: ['projects'], queryFn: projectsApi.list });
  const names = new Map((projects.data?.data ?? []).map((p) => [p.id, p.name]));
  const order = [...(usage.data?.projects ?? [])].sort((a, b) => b.usd - a.usd).map((p) => p.project_id);
  const balance = usage.data?.balance;
  return (
    <Card
      id="spend"
      title="Spend (last 14 days)"
      actions={
        balance && balance.available_usd !== null ? (
          <span className={`small ${balance.is_below_alert ? 'text-failed' : 'muted'}`} data-testid="spend-balance">
            gateway balance {formatUsd(balance.available_usd)}
            {balance.is_below_alert ? ' · under the alert threshold' : ''}
          </span>
        ) : null
      }
    >
      {usage.error ? <ErrorBanner error={usage.error} title="Could not load the spend" /> : null}
      {!usage.data ? (
        <Skeleton height={140} />
      ) : (
        <>
          <div className="kpis">
            <div className="kpi">
              <div className="kpi-label">Spent</div>
              <div className="kpi-value" data-testid="spend-total" data-usd={usage.data.totals.usd}>
                {formatUsd(usage.data.totals.usd)}
              </div>
            </div>
            <div className="kpi">
              <div className="kpi-label">Quota units</div>
              <div className="kpi-value">{formatNumber(usage.data.totals.units)}</div>
            </div>
            <div className="kpi">
              <div className="kpi-label">Refunded</div>
              <div className="kpi-value">{formatUsd(usage.data.totals.refunded_units / 500_000)}</div>
            </div>
            <div className="kpi">
              <div className="kpi-label">Estimated part</div>
              <div className="kpi-value" title="from the gateway balance before and after jobs whose answers show no usage">
                {formatUsd(usage.data.totals.estimated_units / 500_000)}
              </div>
            </div>
          </div>
          <SpendChart days={daysOf(usage.data, order)} order={order} names={names} />
          <div className="chart-legend">
            {order.slice(0, SEGMENTS).map((p, k) => (
              <span key={p}>
                <span className={`dot spend-dot spend-seg-${k}`} /> {k === SEGMENTS - 1 && order.length > SEGMENTS ? 'others' : (names.get(p) ?? p)}
              </span>
            ))}
            <span className="muted">{DAYS} × 1 day (UTC)</span>
          </div>
          {order.length === 0 ? (
            <p className="muted pad">No gateway charges recorded in this range.</p>
          ) : (
            <table className="table table-compact" data-testid="spend-projects">
              <thead>
                <tr>
                  <th>Project</th>
                  <th className="num">Spent</th>
                  <th className="num">Units</th>
                  <th className="num">Refunded</th>
                  <th className="num">Entries</th>
                </tr>
              </thead>
              <tbody>
                {order.map((id, k) => {
                  const p = usage.data.projects.find((x) => x.project_id === id);
                  if (!p) return null;
                  return (
                    <tr key={id} data-project-id={id} data-usd={p.usd}>
                      <td>
                        <span className={`dot spend-dot spend-seg-${Math.min(k, SEGMENTS - 1)}`} aria-hidden="true" /> {names.get(id) ?? id}
                      </td>
                      <td className="num">{formatUsd(p.usd)}</td>
                      <td className="num">{formatNumber(p.units)}</td>
                      <td className="num">{formatUsd(p.refunded_units / 500_000)}</td>
                      <td className="num">{formatNumber(p.entries)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </>
      )}
    </Card>
  );
}
