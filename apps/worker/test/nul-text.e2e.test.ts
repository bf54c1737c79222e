import { encodeWav, expectedTranscript } from '@genqueue/simulator';
import { counterDelta, routeCounter, useStack, type StackFixture } from './helpers';

/**
 * Issue 11: gateway text carrying U+0000 (which Postgres refuses in jsonb) is made storable: the
 * job succeeds on its first run, says what was removed, and the gateway is called once.
 * The simulator puts a NUL in a chat reply when the prompt says NUL_TEXT, and in the first segment
 * of a transcript when the audio bytes contain NUL_TEXT.
 */
describe('NUL in gateway text', () => {
  let fx: StackFixture;
  useStack((ready) => (fx = ready));

  async function run(route: string, body: unknown): Promise<{ job: any; calls: number }> {
    const before = await routeCounter(fx.stack, route);
    const job = await fx.stack.runJob(fx.project.key, body);
    return { job, calls: counterDelta(before, await routeCounter(fx.stack, route)).received };
  }

  it('a chat reply with U+0000: stored without it, noted in the output, one gateway call', async () => {
    const { job, calls } = await run('chat.completions', {
      type: 'media.chat',
      input: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'NUL_TEXT please' }] },
    });
    expect(job.status).toBe('succeeded');
    expect(calls).toBe(1);
    expect(job.attempts).toBe(1);
    expect(job.output.text).toBe('This is a simulated reply to: NUL_TEXT please');
    expect(job.output.sanitized).toEqual({ nul_characters_removed: 1 });
    expect(JSON.stringify(job.output)).not.toContain('\\u0000');
  });

  it('a transcript with U+0000 in its text, segments and words: stored without it, one gateway call', async () => {
    const samples = new Int16Array(16_000 * 7).map((_, i) => (i % 300) * 7);
    const wav = Buffer.concat([encodeWav(samples, 16_000), Buffer.from('NUL_TEXT')]);
    const expected = expectedTranscript(wav);
    // the switch works: the gateway's transcript does carry a NUL
    expect(expected.text).toContain('\u0000');
    const form = new FormData();
    form.append('purpose', 'audio');
    form.append('file', new Blob([new Uint8Array(wav)], { type: 'audio/wav' }), 'nul.wav');
    const uploaded = await fx.stack.api.post('/v1/files', { key: fx.project.key, rawBody: form });
    expect(uploaded.status).toBe(201);

    const { job, calls } = await run('audio.transcriptions', {
      type: 'audio.transcribe',
      input: { audio: { file_id: uploaded.body.id }, response_format: 'verbose_json', timestamp_granularities: ['word', 'segment'] },
    });
    expect(job.status).toBe('succeeded');
    expect(calls).toBe(1);
    expect(job.attempts).toBe(1);
    expect(job.output.text).toBe(expected.text.replace(/\u0000/g, ''));
    expect(job.output.segments[0].text).toBe(expected.segments[0]!.text.replace(/\u0000/g, ''));
    expect(job.output.words[0].word).toBe(expected.segments[0]!.words[0]!.word.replace(/\u0000/g, ''));
    // in the text, the first segment's text and its first word
    expect(job.output.sanitized).toEqual({ nul_characters_removed: 3 });
    expect(JSON.stringify(job.output)).not.toContain('\\u0000');
  });

  it('text without NUL gets no note', async () => {
    const { job } = await run('chat.completions', { type: 'media.chat', input: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'plain' }] } });
    expect(job.status).toBe('succeeded');
    expect(job.output).not.toHaveProperty('sanitized');
  });
});
