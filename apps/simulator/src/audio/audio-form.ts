import busboy from 'busboy';
import type { Request } from 'express';
import type { MultipartFile } from '../multipart';

/** A multipart form whose repeated fields (`timestamp_granularities[]`) keep every value, in order. */
export type AudioForm = { fields: Record<string, string[]>; files: MultipartFile[] };

/** Reads a whole multipart body (the gateway buffers audio uploads too). */
export function parseAudioForm(req: Request, maxFileBytes = 128 * 1024 * 1024): Promise<AudioForm> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, string[]> = {};
    const files: MultipartFile[] = [];
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fileSize: maxFileBytes } });
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    parser.on('field', (name, value) => {
      (fields[name] ??= []).push(value);
    });
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => files.push({ field, filename: info.filename ?? '', contentType: info.mimeType, data: Buffer.concat(chunks) }));
    });
    parser.on('error', (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))));
    parser.on('close', () => resolve({ fields, files }));
    req.pipe(parser);
  });
}

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
