import { hasPrefix, newId, ulid, type IdPrefix } from '../src';

const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe('ids', () => {
  it('are a prefix and a 26-character Crockford ULID', () => {
    for (const prefix of ['job', 'evt', 'art', 'file', 'prj', 'key', 'whd', 'msg', 'wep'] as IdPrefix[]) {
      const id = newId(prefix);
      expect(id.startsWith(`${prefix}_`)).toBe(true);
      expect(id.slice(prefix.length + 1)).toMatch(CROCKFORD);
      expect(hasPrefix(id, prefix)).toBe(true);
    }
  });

  it('hasPrefix refuses other prefixes and malformed bodies', () => {
    const id = newId('job');
    expect(hasPrefix(id, 'art')).toBe(false);
    expect(hasPrefix(`${id}X`, 'job')).toBe(false);
    expect(hasPrefix('job_01JD7Q3V9XK6M2N4P8R0S5T7VU', 'job')).toBe(false); // U is not Crockford
    expect(hasPrefix(id.toLowerCase(), 'job')).toBe(false);
  });

  it('encode the time first, so ids sort by creation time', () => {
    expect(ulid(0).slice(0, 10)).toBe('0000000000');
    expect(ulid(1).slice(0, 10)).toBe('0000000001');
    expect(ulid(32).slice(0, 10)).toBe('0000000010');
    const earlier = ulid(Date.UTC(2026, 0, 1));
    const later = ulid(Date.UTC(2026, 0, 1, 0, 0, 0, 1));
    expect(earlier < later).toBe(true);
  });

  it('stay monotonic within one millisecond', () => {
    const at = Date.UTC(2030, 5, 1);
    const ids = Array.from({ length: 1_000 }, () => ulid(at));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id.slice(0, 10)).toBe(ids[0]!.slice(0, 10));
  });

  it('sort in creation order when made back to back', () => {
    const ids = Array.from({ length: 5_000 }, () => newId('job'));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
