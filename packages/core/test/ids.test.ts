import { hasPrefix, idPattern, idSchema, isId, newId, ulid, type IdPrefix } from '../src';

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

  it('draw a fresh random part for each new millisecond, across refills of the random pool', () => {
    // 4 KiB of random bytes serve 256 milliseconds: 1,000 of them refill the pool three times
    const randomParts = Array.from({ length: 1_000 }, (_, i) => ulid(Date.UTC(2031, 0, 1) + i).slice(10));
    expect(new Set(randomParts).size).toBe(randomParts.length);
    for (const part of randomParts) expect(part).toMatch(/^[0-9A-HJKMNP-TV-Z]{16}$/);
  });

  it('sort in creation order when made back to back', () => {
    const ids = Array.from({ length: 5_000 }, () => newId('job'));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  describe('isId and idSchema', () => {
    const body = '01JD7Q3V9XK6M2N4P8R0S5T7VW';

    it('accept exactly what newId makes, for every prefix', () => {
      const prefixes: IdPrefix[] = ['job', 'evt', 'art', 'file', 'prj', 'key', 'whd', 'wha', 'msg', 'wep', 'jat', 'ses', 'bulk', 'jco', 'gbs'];
      for (const prefix of prefixes) {
        expect(isId(prefix, newId(prefix))).toBe(true);
        expect(idSchema(prefix, 'an id').safeParse(newId(prefix)).success).toBe(true);
      }
      expect(isId('job', `job_${'0'.repeat(26)}`)).toBe(true);
      expect(isId('job', `job_${'Z'.repeat(26)}`)).toBe(true);
    });

    it('refuse the letters Crockford base32 leaves out (I, L, O, U), lower case, and wrong lengths', () => {
      for (const letter of ['I', 'L', 'O', 'U']) expect(isId('job', `job_${body.slice(0, 25)}${letter}`)).toBe(false);
      expect(isId('job', `job_${body.toLowerCase()}`)).toBe(false);
      expect(isId('job', `job_${body.slice(1)}`)).toBe(false);
      expect(isId('job', `job_${body}0`)).toBe(false);
      expect(isId('job', `job-${body}`)).toBe(false);
      expect(isId('job', ` job_${body}`)).toBe(false);
      expect(isId('job', `job_${body}\n`)).toBe(false);
    });

    it('tell the prefixes apart, even where one starts like another', () => {
      expect(isId('art', `job_${body}`)).toBe(false);
      expect(isId('wha', `whd_${body}`)).toBe(false);
      expect(isId('file', `fil_${body}`)).toBe(false);
      expect(isId('bulk', `bulk_${body}`)).toBe(true);
    });

    it('take any value and refuse what is not a string', () => {
      for (const value of [undefined, null, 42, { id: `job_${body}` }, [`job_${body}`]]) expect(isId('job', value)).toBe(false);
    });

    it('idSchema refuses with "must be <what> (<prefix>_…)"', () => {
      const result = idSchema('job', 'a job id').safeParse('job_123');
      expect(result.success).toBe(false);
      expect(result.error?.issues.map((issue) => issue.message)).toEqual(['must be a job id (job_…)']);
      expect(idSchema('wep', 'an endpoint id').safeParse(`whd_${body}`).error?.issues[0]?.message).toBe('must be an endpoint id (wep_…)');
      expect(idSchema('job', 'a job id').safeParse(7).success).toBe(false);
    });

    it('idPattern is one pattern per prefix, anchored at both ends', () => {
      expect(idPattern('job')).toBe(idPattern('job'));
      expect(idPattern('job').test(`x job_${body}`)).toBe(false);
      expect(idPattern('evt').source).toBe('^evt_[0123456789ABCDEFGHJKMNPQRSTVWXYZ]{26}$');
    });
  });
});
