import { z } from 'zod';

/** A media input: a public URL, an uploaded file, or an artifact of an earlier job. */
export const MediaSourceSchema = z.union([
  z.strictObject({ url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }) }),
  z.strictObject({ file_id: z.string().regex(/^file_[0-9A-Z]{26}$/, 'must be a file id (file_…)') }),
  z.strictObject({ artifact_id: z.string().regex(/^art_[0-9A-Z]{26}$/, 'must be an artifact id (art_…)') }),
]);
export type MediaSource = z.infer<typeof MediaSourceSchema>;
