import { UpstreamError, type UpstreamClient } from '@genqueue/upstream';
import { expectedEmbedding, expectedTranscript, renderSpeech, type RunningSimulator } from '../src';
import { armFault, call } from './helpers';
import { rejection, useSimulatorClient } from './upstream-helpers';

/** The gateway client (`@genqueue/upstream`) against the simulator, over real HTTP. */

const AUDIO = Buffer.from(Array.from({ length: 16_000 * 14 }, (_, i) => (i * 7 + 3) % 256)); // 14 s → 3 segments
const FILE = { filename: 'talk.mp3', contentType: 'audio/mpeg', data: AUDIO };

/** Indexes whose vector differs from `expected(i)` (exact float equality; cheaper than a deep toEqual). */
function mismatches(vectors: number[][], expected: (i: number) => number[]): number[] {
  return vectors.flatMap((v, i) => {
    const e = expected(i);
    return v.length === e.length && v.every((x, k) => x === e[k]) ? [] : [i];
  });
}

describe('@genqueue/upstream against the simulator: audio', () => {
  let sim: RunningSimulator;
  let client: UpstreamClient;
  useSimulatorClient((started) => ({ sim, client } = started));

  const transcript = expectedTranscript(AUDIO);
  const seconds = (ms: number): number => ms / 1000;
  const expectedSegments = transcript.segments.map((s) => ({ id: s.id, start: seconds(s.startMs), end: seconds(s.endMs), text: s.text }));

  it('transcribe: every response format gives the same text', async () => {
    for (const responseFormat of ['json', 'text', 'srt', 'vtt', 'verbose_json'] as const) {
      const result = await client.audio.transcribe({ file: FILE, model: 'whisper-1', responseFormat });
      expect([responseFormat, result.format, result.text]).toEqual([responseFormat, responseFormat, transcript.text]);
    }
    expect(transcript.segments).toHaveLength(3);
  });

  it('srt / vtt: raw bodies kept and cues read back as the simulator’s segments', async () => {
    for (const responseFormat of ['srt', 'vtt'] as const) {
      const result = await client.audio.transcribe({ file: FILE, model: 'whisper-1', responseFormat });
      expect(result.raw?.startsWith(responseFormat === 'vtt' ? 'WEBVTT\n\n' : '1\n00:00:00,000 --> ')).toBe(true);
      expect(result.segments).toEqual(expectedSegments);
    }
  });

  it('verbose_json: language, duration, segments and words; the form arrived as sent', async () => {
    const result = await client.audio.transcribe({
      file: FILE,
      model: 'whisper-1',
      language: 'fr',
      prompt: 'Bonjour',
      responseFormat: 'verbose_json',
      timestampGranularities: ['word', 'segment'],
      temperature: 0,
    });
    expect(result).toMatchObject({ task: 'transcribe', language: 'french', duration: 14, usage: { seconds: 14 } });
    expect(result.segments?.map((s) => ({ id: s.id, start: s.start, end: s.end, text: s.text }))).toEqual(expectedSegments);
    expect(result.words?.map((w) => w.word)).toEqual(transcript.segments.flatMap((s) => s.words.map((w) => w.word)));
    expect(sim.state.uploads[0]).toMatchObject({
      routeKey: 'audio.transcriptions',
      fields: { model: 'whisper-1', language: 'fr', prompt: 'Bonjour', response_format: 'verbose_json', 'timestamp_granularities[]': 'word,segment', temperature: '0' },
      files: [{ field: 'file', filename: 'talk.mp3', contentType: 'audio/mpeg', bytes: AUDIO.length }],
    });
  });

  it('translate: English text of the translate task', async () => {
    const result = await client.audio.translate({ file: FILE, model: 'whisper-1', responseFormat: 'verbose_json' });
    expect(result).toMatchObject({ task: 'translate', language: 'english', text: expectedTranscript(AUDIO, { task: 'translate' }).text });
  });

  it('speech: the simulator’s bytes and content type for every format', async () => {
    for (const responseFormat of ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] as const) {
      const result = await client.audio.speech({ model: 'tts-1', input: 'The quick brown fox.', voice: 'echo', responseFormat, speed: 1.25 });
      const expected = renderSpeech({ model: 'tts-1', input: 'The quick brown fox.', voice: 'echo', responseFormat, speed: 1.25 });
      expect([responseFormat, result.contentType, result.bytes.equals(expected.bytes)]).toEqual([responseFormat, expected.contentType, true]);
    }
    expect((await client.audio.speech({ model: 'tts-1', input: 'x', voice: 'alloy' })).contentType).toBe('audio/mpeg');
  });

  it('errors are classified: 429 empty body, 503 unknown model, 400 over-long input, 413 too large, 5xx fault', async () => {
    await armFault(sim, { route: 'audio.transcriptions', kind: 'rate_limit_empty' });
    expect((await rejection(client.audio.transcribe({ file: FILE, model: 'whisper-1', responseFormat: 'srt' }))).kind).toBe('rate_limited');
    const unknown = await rejection(client.audio.transcribe({ file: FILE, model: 'whisper-9' }));
    expect([unknown.kind, unknown.httpStatus, unknown.upstreamCode]).toEqual(['rejected', 503, 'model_not_found']);
    const long = await rejection(client.audio.speech({ model: 'tts-1', input: 'a'.repeat(4097), voice: 'alloy' }));
    expect([long.kind, long.upstreamCode]).toEqual(['rejected', 'string_above_max_length']);
    const huge = await rejection(client.audio.transcribe({ file: { ...FILE, data: Buffer.alloc(25 * 1024 * 1024 + 10) }, model: 'whisper-1' }));
    expect([huge.kind, huge.httpStatus]).toEqual(['rejected', 413]);
    await armFault(sim, { route: 'audio.speech', kind: 'server_error', status: 503 });
    expect((await rejection(client.audio.speech({ model: 'tts-1', input: 'x', voice: 'alloy' }))).kind).toBe('retryable');
  });
});

describe('@genqueue/upstream against the simulator: embeddings', () => {
  let sim: RunningSimulator;
  let client: UpstreamClient;
  useSimulatorClient((started) => ({ sim, client } = started));

  const inputs = Array.from({ length: 250 }, (_, i) => `input line ${i}: ${'x'.repeat(i % 17)}`);

  it('create (base64 by default): every vector is the simulator’s vector for its own text', async () => {
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: inputs });
    expect(result.vectors).toHaveLength(inputs.length);
    expect(mismatches(result.vectors, (i) => expectedEmbedding('text-embedding-3-small', inputs[i] as string))).toEqual([]);
    const tokens = inputs.reduce((s, t) => s + Math.ceil(t.length / 4), 0);
    expect(result.usage).toEqual({ promptTokens: tokens, totalTokens: tokens });
    expect(result.model).toBe('text-embedding-3-small');
    const { recent } = (await (await call(sim, '/_sim/embeddings')).json()) as { recent: Array<{ encoding: string }> };
    expect(recent.map((r) => r.encoding)).toEqual(['base64']);
  });

  it('create with float and dimensions gives the same numbers as base64', async () => {
    const floats = await client.embeddings.create({ model: 'text-embedding-3-large', input: inputs.slice(0, 10), dimensions: 32, encodingFormat: 'float' });
    const b64 = await client.embeddings.create({ model: 'text-embedding-3-large', input: inputs.slice(0, 10), dimensions: 32 });
    expect(floats.vectors).toEqual(b64.vectors);
    expect(floats.vectors[3]).toEqual(expectedEmbedding('text-embedding-3-large', inputs[3] as string, 32));
  });

  it('gemini: batchEmbedContents vectors in order, usage estimated', async () => {
    const batch = inputs.slice(0, 100);
    const result = await client.embeddings.gemini({ model: 'gemini-embedding-001', inputs: batch, dimensions: 64, taskType: 'RETRIEVAL_DOCUMENT' });
    expect(mismatches(result.vectors, (i) => expectedEmbedding('gemini-embedding-001', batch[i] as string, 64))).toEqual([]);
    expect(result.usage.estimated).toBe(true);
    const tooMany = await rejection(client.embeddings.gemini({ model: 'gemini-embedding-001', inputs: inputs.slice(0, 101) }));
    expect([tooMany.kind, tooMany.upstreamCode]).toEqual(['rejected', '400']);
  });

  it('errors: FAIL_CHUNK retryable, an empty item and an unknown model rejected, the rate limit rate_limited', async () => {
    const failed = await rejection(client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'FAIL_CHUNK'] }));
    expect([failed.kind, failed.httpStatus]).toEqual(['retryable', 500]);
    const empty = await rejection(client.embeddings.create({ model: 'text-embedding-3-small', input: ['ok', ''] }));
    expect([empty.kind, empty.httpStatus]).toEqual(['rejected', 400]);
    const noChannel = await rejection(client.embeddings.create({ model: 'text-embedding-9', input: ['ok'] }));
    expect([noChannel.kind, noChannel.httpStatus, noChannel.upstreamCode]).toEqual(['rejected', 503, 'model_not_found']);

    await call(sim, '/_sim/config', { json: { requests_per_minute: { embeddings: 2 } } });
    try {
      await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a'], dimensions: 2 });
      await client.embeddings.create({ model: 'text-embedding-3-small', input: ['b'], dimensions: 2 });
      const limited = await rejection(client.embeddings.create({ model: 'text-embedding-3-small', input: ['c'], dimensions: 2 }));
      expect([limited.kind, limited.httpStatus]).toEqual(['rate_limited', 429]);
      sim.state.clock.advance(1000);
      expect((await client.embeddings.create({ model: 'text-embedding-3-small', input: ['c'], dimensions: 2 })).vectors).toHaveLength(1);
    } finally {
      await call(sim, '/_sim/config', { json: { requests_per_minute: { embeddings: null } } });
    }
  });

  it('a chunked batch lands every vector in its place, FAIL_CHUNK chunks fail alone', async () => {
    const texts = Array.from({ length: 1000 }, (_, i) => (i === 437 ? `row ${i} FAIL_CHUNK` : `row ${i}`));
    const chunkSize = 100;
    const results = await Promise.all(
      Array.from({ length: texts.length / chunkSize }, (_, c) =>
        client.embeddings.create({ model: 'text-embedding-3-small', input: texts.slice(c * chunkSize, (c + 1) * chunkSize), dimensions: 8 }).then(
          (r) => r.vectors,
          (err: unknown) => err as UpstreamError,
        ),
      ),
    );
    results.forEach((chunk, c) => {
      if (c === 4) {
        expect(chunk).toBeInstanceOf(UpstreamError);
        return;
      }
      expect(mismatches(chunk as number[][], (j) => expectedEmbedding('text-embedding-3-small', texts[c * chunkSize + j] as string, 8))).toEqual([]);
    });
    const stats = (await (await call(sim, '/_sim/embeddings')).json()) as { totals: Record<string, number> };
    expect(stats.totals).toMatchObject({ requests: 10, succeeded: 9, failed: 1, embedded: 900 });
  });
});
