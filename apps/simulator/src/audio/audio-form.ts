import { parseMultipartForm, type MultipartForm } from '../multipart';

/** A multipart form whose repeated fields (`timestamp_granularities[]`) keep every value, in order. */
export type AudioForm = MultipartForm;

/** Reads a whole multipart body (the gateway buffers audio uploads too). */
export const parseAudioForm = parseMultipartForm;

/** The last value of a field, or ''. */
export const lastField = (form: AudioForm, name: string): string => form.fields[name]?.at(-1) ?? '';

/** Every value of a repeated field, accepting `name[]`, `name` and `name[N]`. */
export const fieldValues = (form: AudioForm, name: string): string[] =>
  Object.entries(form.fields)
    .filter(([key]) => key === name || key === `${name}[]` || key.startsWith(`${name}[`))
    .flatMap(([, values]) => values);

/** Fields as recorded in `/_sim/uploads`: repeated values joined with `,`. */
export const flatFields = (form: AudioForm): Record<string, string> =>
  Object.fromEntries(Object.entries(form.fields).map(([key, values]) => [key, values.join(',')]));
