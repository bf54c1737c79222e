import { z } from 'zod';
import { idSchema } from './ids';

/** A media input: a public URL, an uploaded file, or an artifact of an earlier job. */
export const MediaSourceSchema = z.union([
  z.strictObject({ url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }) }),
  z.strictObject({ file_id: idSchema('file', 'a file id') }),
  z.strictObject({ artifact_id: idSchema('art', 'an artifact id') }),
]);
export type MediaSource = z.infer<typeof MediaSourceSchema>;
