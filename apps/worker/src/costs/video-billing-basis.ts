import type { Job } from '@genqueue/db';

/** What the gateway bills a video task by (docs/gateway.md §8.1): the model, the seconds and the size ratio. */
export type VideoBillingBasis = { model: string; seconds: number; sizeRatio: number };

/** A remix chain longer than this is not followed (each hop is one read). */
const MAX_REMIX_HOPS = 32;

const BIG_SIZES = new Set(['1792x1024', '1024x1792']);

const inputOf = (job: Pick<Job, 'input'>): Record<string, unknown> =>
  job.input !== null && typeof job.input === 'object' && !Array.isArray(job.input) ? (job.input as Record<string, unknown>) : {};

/**
 * The basis of a video job's charge. A `video.generate` carries it in its input; a `video.remix`
 * runs on its original's channel and ratios (§8.4), so its basis is that of the `video.generate` its
 * chain of parents starts from. Null when the chain is broken.
 */
export async function videoBillingBasis(job: Pick<Job, 'type' | 'input' | 'parentId'>, findJob: (id: string) => Promise<Job | null>): Promise<VideoBillingBasis | null> {
  let current: Pick<Job, 'type' | 'input' | 'parentId'> | null = job;
  for (let hop = 0; current && hop <= MAX_REMIX_HOPS; hop += 1) {
    const input = inputOf(current);
    if (current.type === 'video.generate') {
      const size = typeof input['size'] === 'string' ? input['size'] : '';
      return { model: typeof input['model'] === 'string' ? input['model'] : '', seconds: Number(input['seconds'] ?? 4), sizeRatio: BIG_SIZES.has(size) ? 1.666667 : 1 };
    }
    if (current.type !== 'video.remix') return null;
    const parentId: string | null = current.parentId ?? (typeof input['parent_id'] === 'string' ? input['parent_id'] : null);
    current = parentId ? await findJob(parentId) : null;
  }
  return null;
}
