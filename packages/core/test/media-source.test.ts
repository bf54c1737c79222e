import { MediaSourceSchema } from '../src';

const FILE = 'file_01JD7Q3V9XK6M2N4P8R0S5T7VW';
const ARTIFACT = 'art_01JD7Q3V9XK6M2N4P8R0S5T7VW';
const messagesOf = (value: unknown): string[] => {
  const result = MediaSourceSchema.safeParse(value);
  if (result.success) throw new Error('expected the media source to be refused');
  return result.error.issues.flatMap((issue) =>
    issue.code === 'invalid_union' ? issue.errors.flatMap((branch) => branch.map((inner) => inner.message)) : [issue.message],
  );
};

describe('MediaSourceSchema', () => {
  it('takes a public http(s) URL, an uploaded file or an earlier artifact, each alone', () => {
    for (const source of [{ url: 'https://cdn.example.org/cat.png' }, { url: 'http://127.0.0.1:8080/x.png' }, { file_id: FILE }, { artifact_id: ARTIFACT }]) {
      expect(MediaSourceSchema.parse(source)).toEqual(source);
    }
  });

  it('refuses a URL of another scheme, with the URL message', () => {
    for (const url of ['ftp://example.org/cat.png', 'file:///etc/passwd', 'data:image/png;base64,AAAA', 'not a url']) {
      expect(messagesOf({ url })).toContain('must be an http(s) URL');
    }
  });

  it('refuses an id of the wrong kind or form, naming the kind it wanted', () => {
    expect(messagesOf({ file_id: ARTIFACT })).toContain('must be a file id (file_…)');
    expect(messagesOf({ file_id: 'file_1' })).toContain('must be a file id (file_…)');
    expect(messagesOf({ artifact_id: FILE })).toContain('must be an artifact id (art_…)');
    expect(messagesOf({ artifact_id: 'art_01JD7Q3V9XK6M2N4P8R0S5T7VU' })).toContain('must be an artifact id (art_…)');
  });

  it('refuses two sources at once, unknown keys and non-objects', () => {
    expect(MediaSourceSchema.safeParse({ file_id: FILE, artifact_id: ARTIFACT }).success).toBe(false);
    expect(MediaSourceSchema.safeParse({ url: 'https://a.example/x.png', note: 'x' }).success).toBe(false);
    expect(MediaSourceSchema.safeParse({ path: '/etc/passwd' }).success).toBe(false);
    for (const value of [null, 'https://a.example/x.png', [{ url: 'https://a.example/x.png' }], {}]) expect(MediaSourceSchema.safeParse(value).success).toBe(false);
  });
});
