import busboy from 'busboy';
import type { Request } from 'express';

export type MultipartFile = { field: string; filename: string; contentType: string; data: Buffer };
export type ParsedMultipart = { fields: Record<string, string>; files: MultipartFile[] };

export const isMultipart = (req: Request): boolean => (req.get('content-type') ?? '').toLowerCase().startsWith('multipart/form-data');

/** A multipart form whose repeated fields (`timestamp_granularities[]`) keep every value, in order. */
export type MultipartForm = { fields: Record<string, string[]>; files: MultipartFile[] };

/** Reads a whole multipart body (the gateway buffers uploads too, up to 128 MB). */
export function parseMultipartForm(req: Request, maxFileBytes = 128 * 1024 * 1024): Promise<MultipartForm> {
  return new Promise((resolve, reject) => {
    // no prototype: a field named `constructor` or `__proto__` is a field like any other
    const fields: Record<string, string[]> = Object.create(null);
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

/** `parseMultipartForm` where a repeated field keeps only its last value. */
export async function parseMultipart(req: Request, maxFileBytes?: number): Promise<ParsedMultipart> {
  const { fields, files } = await parseMultipartForm(req, maxFileBytes);
  return { fields: Object.fromEntries(Object.entries(fields).map(([name, values]) => [name, values.at(-1) ?? ''])), files };
}

/** `image`, `image[]` and `image[N]` parts are input images; `mask` is not. */
export const isImageField = (field: string): boolean => field === 'image' || field.startsWith('image[');
