import { useState } from 'react';
import type { SeriesPoint } from '../api/types';

type BarChartProps = {
  points: SeriesPoint[];
  /** what one bar covers, for the hover text */
  bucketLabel: (start: Date) => string;
  height?: number;
  ariaLabel: string;
};

/** Finished jobs per bucket as stacked bars (succeeded below, failed on top), with hover values. */
export function BarChart({ points, bucketLabel, height = 120, ariaLabel }: BarChartProps) {
  const [hover, setHover] = useState<number | null>(null);
  const width = 600;
  const max = Math.max(1, ...points.map((p) => p.finished));
  const gap = points.length > 80 ? 1 : 2;
  const barWidth = points.length ? width / points.length : width;
  const hovered = hover === null ? null : points[hover];
  return (
    <div className="chart">
      <div className="chart-readout" aria-live="polite">
        {hovered ? (
          <>
            <span className="chart-when">{bucketLabel(new Date(hovered.start))}</span>
            <span>
              <b>{hovered.finished}</b> finished
            </span>
            <span className={hovered.failed > 0 ? 'text-failed' : 'muted'}>
              <b>{hovered.failed}</b> failed
            </span>
          </>
        ) : (
          <span className="muted">Hover a bar for its values · max {max} per bucket</span>
        )}
      </div>
      <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={ariaLabel} className="chart-svg" onMouseLeave={() => setHover(null)}>
        <line x1={0} x2={width} y1={height - 0.5} y2={height - 0.5} className="chart-axis" />
        {points.map((p, i) => {
          const total = (p.finished / max) * (height - 4);
          const failed = (p.failed / max) * (height - 4);
          const x = i * barWidth + gap / 2;
          const w = Math.max(1, barWidth - gap);
          return (
            <g key={p.start} onMouseEnter={() => setHover(i)} className={hover === i ? 'bar bar-hover' : 'bar'}>
              <rect x={i * barWidth} y={0} width={barWidth} height={height} className="bar-hit" />
              <rect x={x} y={height - total} width={w} height={Math.max(0, total - failed)} className="bar-ok" />
              {failed > 0 ? <rect x={x} y={height - failed} width={w} height={failed} className="bar-failed" /> : null}
              <title>{`${bucketLabel(new Date(p.start))}: ${p.finished} finished, ${p.failed} failed`}</title>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
