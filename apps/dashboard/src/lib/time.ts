/** Relative times ("3 min ago") and absolute times in the viewer's own timezone. */

const absoluteFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZoneName: 'short',
});

export function formatAbsolute(iso: string | Date): string {
  return absoluteFormat.format(typeof iso === 'string' ? new Date(iso) : iso);
}

export function formatRelative(iso: string | Date, nowMs: number): string {
  const ms = (typeof iso === 'string' ? Date.parse(iso) : iso.getTime()) - nowMs;
  const past = ms <= 0;
  const sec = Math.abs(ms) / 1000;
  let text: string;
  // the shared ticker moves every 15 s, and clocks differ a little: a few seconds either way is "just now"
  if (sec < 5 || (!past && sec < 16)) return 'just now';
  if (sec < 60) text = `${Math.round(sec)} s`;
  else if (sec < 3600) text = `${Math.round(sec / 60)} min`;
  else if (sec < 86_400) text = `${Math.round(sec / 3600)} h`;
  else if (sec < 86_400 * 30) text = `${Math.round(sec / 86_400)} d`;
  else return absoluteFormat.format(new Date(Date.now() + ms));
  return past ? `${text} ago` : `in ${text}`;
}

/** "1.2 s", "340 ms", "3 min 4 s" */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const min = Math.floor(ms / 60_000);
  const sec = Math.round((ms % 60_000) / 1000);
  if (min < 60) return sec ? `${min} min ${sec} s` : `${min} min`;
  const h = Math.floor(min / 60);
  return `${h} h ${min % 60} min`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

export function formatNumber(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return new Intl.NumberFormat().format(n);
}

export function formatPercent(ratio: number): string {
  if (ratio === 0) return '0%';
  if (ratio < 0.001) return '<0.1%';
  return `${(ratio * 100).toFixed(ratio < 0.1 ? 1 : 0)}%`;
}

/** `datetime-local` input value (local time) ↔ ISO string */
export function isoToLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
