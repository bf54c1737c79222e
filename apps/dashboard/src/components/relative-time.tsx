import { formatAbsolute, formatRelative } from '../lib/time';
import { useNow } from '../lib/use-now';

/** "3 min ago", with the absolute time in the viewer's timezone on hover. */
export function RelativeTime({ at, fallback = '—' }: { at: string | null | undefined; fallback?: string }) {
  const now = useNow();
  if (!at) return <span className="muted">{fallback}</span>;
  return (
    <time dateTime={at} title={formatAbsolute(at)} className="reltime">
      {formatRelative(at, now)}
    </time>
  );
}
