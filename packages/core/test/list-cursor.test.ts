import { decodeListCursor, encodeListCursor, listCursorSchema, newId } from '../src';

const AT = new Date('2026-12-05T10:00:00.123Z');
const JOB = 'job_01JD7Q3V9XK6M2N4P8R0S5T7VW';
const base64url = (text: string) => Buffer.from(text).toString('base64url');

describe('list cursors', () => {
  it('give back the position they were made from', () => {
    const id = newId('whd');
    expect(decodeListCursor(encodeListCursor({ createdAt: AT, id }), 'whd')).toEqual({ createdAt: AT, id });
  });

  it('keep the format clients already hold: base64url of "<ISO time>|<id>"', () => {
    expect(encodeListCursor({ createdAt: AT, id: JOB })).toBe(base64url(`2026-12-05T10:00:00.123Z|${JOB}`));
    expect(decodeListCursor(base64url(`2026-12-05T10:00:00.123Z|${JOB}`), 'job')).toEqual({ createdAt: AT, id: JOB });
  });

  it('belong to one list: a job cursor is not a delivery cursor', () => {
    const cursor = encodeListCursor({ createdAt: AT, id: JOB });
    expect(decodeListCursor(cursor, 'job')).not.toBeNull();
    expect(decodeListCursor(cursor, 'whd')).toBeNull();
  });

  it('refuse what this API did not make', () => {
    for (const cursor of [
      '',
      'garbage',
      base64url('2026-01-01T00:00:00.000Z|x'),
      base64url(`|${JOB}`),
      base64url(`yesterday|${JOB}`),
      base64url('2026-01-01T00:00:00.000Z'),
      base64url(`2026-01-01T00:00:00.000Z|${JOB.toLowerCase()}`),
      base64url(`2026-01-01T00:00:00.000Z|job_01JD7Q3V9XK6M2N4P8R0S5T7VU`),
    ]) {
      expect(decodeListCursor(cursor, 'job')).toBeNull();
    }
  });

  it('listCursorSchema: a query parameter that must be a cursor of that list, at most 200 characters', () => {
    const schema = listCursorSchema('job');
    expect(schema.parse(encodeListCursor({ createdAt: AT, id: JOB }))).toBe(encodeListCursor({ createdAt: AT, id: JOB }));
    const refused = schema.safeParse('not-a-cursor');
    expect(refused.success).toBe(false);
    expect(refused.error?.issues.map((issue) => issue.message)).toEqual(['not a cursor from this API']);
    expect(schema.safeParse('A'.repeat(201)).success).toBe(false);
    expect(listCursorSchema('whd').safeParse(encodeListCursor({ createdAt: AT, id: JOB })).success).toBe(false);
  });
});
