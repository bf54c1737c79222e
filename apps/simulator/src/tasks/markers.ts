/**
 * Prompt markers that steer a simulated task (case-insensitive, anywhere in the prompt):
 *
 * | Marker | Video | Midjourney |
 * | --- | --- | --- |
 * | `sim:fail` | `failed` halfway, `error.code` `internal_error` | `FAILURE` halfway, `failReason` set, progress `100%` |
 * | `sim:moderation` | `failed` halfway, `error.code` `moderation_blocked` | — |
 * | `sim:fail-raw` | — | `FAILURE` with progress `""` (the proxy's raw failure) |
 * | `sim:cancel` | sora `cancelled` | `CANCEL` |
 * | `sim:expired` | sora `expired` (unrecognised; the gateway fails it) | — |
 * | `sim:timeout` | never finishes (progress stops at 50): the gateway's 24 h sweep fails it | never finishes: the 1 h MJ timeout fails it |
 * | `sim:queued` | — | submit answers code 22 (rewritten to 1) |
 * | `sim:queue-full` | — | submit answers code 23 |
 * | `sim:system-error` | — | submit answers code 9 (TAI's "queue full, retry later") |
 * | `sim:invalid` | — | submit answers code 4 (validation) |
 * | `sim:mib=N` | `/content` serves an mp4 of N MiB (1–4095), streamed, never held whole | — |
 */
export const MARKERS = [
  'sim:fail-raw',
  'sim:fail',
  'sim:moderation',
  'sim:cancel',
  'sim:expired',
  'sim:timeout',
  'sim:queued',
  'sim:queue-full',
  'sim:system-error',
  'sim:invalid',
] as const;

export type Marker = (typeof MARKERS)[number];

/** Markers present in `text`; `sim:fail-raw` does not also count as `sim:fail`. */
export function markersIn(text: string): Set<Marker> {
  const lower = text.toLowerCase();
  const found = new Set<Marker>();
  for (const marker of MARKERS) {
    const pattern = new RegExp(`${marker.replace(/[-:]/g, (c) => `\\${c}`)}(?![\\w-])`);
    if (pattern.test(lower)) found.add(marker);
  }
  return found;
}

/** N of a `sim:mib=N` marker (a video whose content is N MiB), or null. */
export function contentMibIn(text: string): number | null {
  const match = /sim:mib=(\d{1,4})(?![\w-])/.exec(text.toLowerCase());
  const mib = match ? Number(match[1]) : 0;
  return mib >= 1 && mib <= 4095 ? mib : null;
}
