export function ProgressBar({ value, status }: { value: number; status: string }) {
  const pct = Math.max(0, Math.min(100, value));
  return (
    <div className={`progress progress-${status}`} role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100} aria-label="Progress">
      <div className="progress-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}
