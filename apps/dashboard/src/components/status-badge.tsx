export function StatusBadge({ status, progress }: { status: string; progress?: number }) {
  const showProgress = status === 'running' && typeof progress === 'number' && progress > 0;
  return (
    <span className={`badge badge-${status}`} data-status={status}>
      <span className="badge-dot" aria-hidden="true" />
      {status}
      {showProgress ? <span className="badge-progress">{progress}%</span> : null}
    </span>
  );
}
