import { MetadataSchema, parseJobRequest, type ErrorDetail } from '../src';

const detailsOf = (body: unknown): ErrorDetail[] => {
  const result = parseJobRequest(body);
  if (result.ok) throw new Error('expected the request to be refused');
  return result.details;
};
const pathsOf = (body: unknown): string[] => detailsOf(body).map((d) => d.path);

describe('parseJobRequest', () => {
  it('accepts a minimal request and fills in the input defaults', () => {
    const result = parseJobRequest({ type: 'image.generate', input: { prompt: '  a fox  ' } });
    expect(result).toEqual({ ok: true, value: { type: 'image.generate', input: { prompt: 'a fox', model: 'gpt-image-1', n: 1 } } });
  });

  it('keeps the envelope fields', () => {
    const result = parseJobRequest({
      type: 'image.gemini',
      input: { prompt: 'a cat', aspect_ratio: '16:9' },
      webhook_url: 'https://example.org/hook',
      webhook_events: ['job.succeeded'],
      metadata: { order: 'A-1' },
      priority: 1,
      ttl_seconds: 60,
      deadline_seconds: 120,
    });
    expect(result.ok && result.value).toMatchObject({
      webhook_url: 'https://example.org/hook',
      webhook_events: ['job.succeeded'],
      metadata: { order: 'A-1' },
      priority: 1,
      ttl_seconds: 60,
      deadline_seconds: 120,
      input: { prompt: 'a cat', aspect_ratio: '16:9', model: 'gemini-2.5-flash-image' },
    });
  });

  it('names the failing envelope fields', () => {
    expect(pathsOf({ type: 'image.generate', input: {}, priority: 0, ttl_seconds: 1.5, webhook_url: 'ftp://x' }).sort()).toEqual(
      ['priority', 'ttl_seconds', 'webhook_url'].sort(),
    );
    expect(pathsOf({ input: { prompt: 'x' } })).toEqual(['type']);
    expect(pathsOf({ type: 'image.generate', input: { prompt: 'x' }, surprise: true })).toEqual(['surprise']);
    expect(pathsOf({ type: 'image.generate', input: 'not an object' })).toEqual(['input']);
    expect(pathsOf({ type: 'image.generate', input: { prompt: 'x' }, webhook_events: ['job.created'] })).toEqual(['webhook_events.0']);
  });

  it('refuses a body that is not an object', () => {
    for (const body of [null, 'text', 42, []]) expect(pathsOf(body)).toEqual(['(body)']);
  });

  it('lists the known types for an unknown one', () => {
    const result = parseJobRequest({ type: 'image.teleport', input: {} });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toContain('image.teleport');
    expect(result.details).toEqual([{ path: 'type', message: expect.stringContaining('image.generate') }]);
  });

  it('prefixes input failures with input., down to nested paths', () => {
    expect(pathsOf({ type: 'image.generate', input: { prompt: 'x', n: 11 } })).toEqual(['input.n']);
    expect(pathsOf({ type: 'image.generate', input: { prompt: '   ' } })).toEqual(['input.prompt']);
    expect(pathsOf({ type: 'image.generate', input: { prompt: 'x', size: '1024×1024' } })).toEqual(['input.size']);
    expect(pathsOf({ type: 'image.generate', input: { prompt: 'x', extra_field: 1 } })).toEqual(['input.extra_field']);
    expect(pathsOf({ type: 'image.edit', input: { prompt: 'x', images: [] } })).toEqual(['input.images']);
    expect(pathsOf({ type: 'image.edit', input: { prompt: 'x', images: [{ file_id: 'file_1' }] } })).toEqual(['input.images.0.file_id']);
    expect(pathsOf({ type: 'image.edit', input: { prompt: 'x', images: [{ url: 'https://a.example/x.png' }], mask: { artifact_id: 'nope' } } })).toEqual([
      'input.mask.artifact_id',
    ]);
    expect(detailsOf({ type: 'image.edit', input: { prompt: 'x', images: [{ file_id: 'file_1' }] } })[0]!.message).toContain('file id');
    expect(pathsOf({ type: 'image.edit', input: { prompt: 'x', images: [{ path: '/etc/passwd' }] } })).toEqual(['input.images.0']);
    expect(pathsOf({ type: 'media.chat', input: { model: 'gpt-4o', messages: [{ role: 'robot', content: 'hi' }] } })).toEqual([
      'input.messages.0.role',
    ]);
  });

  it('reports every failing input field at once, each with a message', () => {
    const details = detailsOf({ type: 'image.generate', input: { n: 0, quality: 'ultra' } });
    expect(details.map((d) => d.path).sort()).toEqual(['input.n', 'input.prompt', 'input.quality']);
    for (const detail of details) expect(detail.message.length).toBeGreaterThan(0);
  });

  it('accepts each kind of media source', () => {
    const result = parseJobRequest({
      type: 'image.edit',
      input: {
        prompt: 'x',
        images: [{ url: 'https://a.example/x.png' }, { file_id: 'file_01JD7Q3V9XK6M2N4P8R0S5T7VW' }, { artifact_id: 'art_01JD7Q3V9XK6M2N4P8R0S5T7VW' }],
      },
    });
    expect(result.ok).toBe(true);
  });

  it('says which part failed: the envelope, or the input of the named type', () => {
    const envelope = parseJobRequest({ type: 'image.generate', input: { prompt: 'x' }, priority: 11 });
    expect(envelope).toEqual({ ok: false, message: 'The job request is invalid', details: [{ path: 'priority', message: expect.any(String) }] });
    const input = parseJobRequest({ type: 'image.generate', input: { prompt: 'x', n: 0 } });
    expect(input).toEqual({ ok: false, message: 'The input of image.generate is invalid', details: [{ path: 'input.n', message: expect.any(String) }] });
  });

  it('takes priority 1 to 10 as an integer', () => {
    const base = { type: 'image.generate', input: { prompt: 'x' } };
    for (const priority of [1, 10]) expect(parseJobRequest({ ...base, priority }).ok).toBe(true);
    for (const priority of [0, 11, 2.5, '5', null]) expect(pathsOf({ ...base, priority })).toEqual(['priority']);
  });

  it('bounds the clocks a client may ask for at seven days', () => {
    const base = { type: 'image.generate', input: { prompt: 'x' } };
    expect(parseJobRequest({ ...base, ttl_seconds: 7 * 86_400, deadline_seconds: 7 * 86_400 }).ok).toBe(true);
    expect(pathsOf({ ...base, ttl_seconds: 7 * 86_400 + 1, deadline_seconds: 0 }).sort()).toEqual(['deadline_seconds', 'ttl_seconds']);
  });

  it('takes an http(s) webhook_url up to 2048 characters and says why it refuses one', () => {
    const base = { type: 'image.generate', input: { prompt: 'x' } };
    const long = `https://example.org/${'a'.repeat(2048 - 'https://example.org/'.length)}`;
    expect(parseJobRequest({ ...base, webhook_url: long }).ok).toBe(true);
    expect(pathsOf({ ...base, webhook_url: `${long}a` })).toEqual(['webhook_url']);
    for (const webhook_url of ['ftp://example.org/hook', 'javascript:alert(1)', 'example.org/hook']) {
      expect(detailsOf({ ...base, webhook_url })).toEqual([{ path: 'webhook_url', message: 'must be an http(s) URL' }]);
    }
  });

  it('webhook_events names job events a webhook carries, never job.created or job.retried', () => {
    const base = { type: 'image.generate', input: { prompt: 'x' } };
    const every = ['job.started', 'job.progress', 'job.succeeded', 'job.failed', 'job.canceled', 'job.expired'];
    expect(parseJobRequest({ ...base, webhook_events: every }).ok).toBe(true);
    expect(parseJobRequest({ ...base, webhook_events: [] }).ok).toBe(true);
    expect(pathsOf({ ...base, webhook_events: ['job.succeeded', 'job.retried'] })).toEqual(['webhook_events.1']);
    expect(new Set(pathsOf({ ...base, webhook_events: 'job.succeeded' }))).toEqual(new Set(['webhook_events']));
  });

  it('takes string metadata: at most 50 keys of 1-64 characters, values up to 512', () => {
    const base = { type: 'image.generate', input: { prompt: 'x' } };
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    expect(parseJobRequest({ ...base, metadata: { ...fifty } }).ok).toBe(true);
    expect(detailsOf({ ...base, metadata: { ...fifty, k50: 'v' } })).toEqual([{ path: 'metadata', message: 'at most 50 keys' }]);
    expect(pathsOf({ ...base, metadata: { order: 7 } })).toEqual(['metadata.order']);
    expect(pathsOf({ ...base, metadata: { order: 'v'.repeat(513) } })).toEqual(['metadata.order']);
    expect(parseJobRequest({ ...base, metadata: { ['k'.repeat(64)]: 'v'.repeat(512) } }).ok).toBe(true);
    expect(MetadataSchema.safeParse({ ['k'.repeat(65)]: 'v' }).success).toBe(false);
    expect(MetadataSchema.safeParse({ '': 'v' }).success).toBe(false);
    expect(pathsOf({ ...base, metadata: ['a'] })).toEqual(['metadata']);
  });

  it('refuses a type name that is empty or longer than 64 characters before looking it up', () => {
    expect(detailsOf({ type: '', input: {} }).map((d) => d.path)).toEqual(['type']);
    const long = parseJobRequest({ type: 'x'.repeat(65), input: {} });
    expect(long.ok === false && long.message).toBe('The job request is invalid');
  });
});
