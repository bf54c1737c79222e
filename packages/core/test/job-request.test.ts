import { parseJobRequest, type ErrorDetail } from '../src';

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
});
