import { z } from 'zod';
import { isId, type IdPrefix } from './ids';

/** Where a keyset page ended: the last row's creation time and id (lists sort by both, newest first). */
export type ListCursor = { createdAt: Date; id: string };

/**
 * The `next_cursor` of a list (jobs, webhook deliveries): `<ISO time>|<id>` in base64url.
 * WARNING: clients keep cursors between requests; changing the format breaks their next page.
 */
export function encodeListCursor(row: ListCursor): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

/** The cursor's position, or null when it is not a cursor of a list of `prefix` ids made by this API. */
export function decodeListCursor(cursor: string, prefix: IdPrefix): ListCursor | null {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!iso || !isId(prefix, id)) return null;
  const createdAt = new Date(iso);
  return Number.isNaN(createdAt.getTime()) ? null : { createdAt, id };
}

/** A `cursor` query parameter: a `next_cursor` this API handed out for a list of `prefix` ids. */
export function listCursorSchema(prefix: IdPrefix) {
  return z
    .string()
    .max(200)
    .refine((cursor) => decodeListCursor(cursor, prefix) !== null, 'not a cursor from this API');
}
