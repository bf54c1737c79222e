import { encodeWav, expectedTranscript, renderSpeech, renderTranscript } from '@genqueue/simulator';
import { TestStack, type Project } from '@genqueue/testing';
import { artifactBytes, sha256 } from './helpers';

/** Audio jobs end to end: upload → audio.transcribe / translate / speech → simulator → artifacts. */
describe('audio jobs end to end', () => {
  let stack: TestStack;
  let project: Project;
  let wav: Buffer;
  let fileId: string;

  beforeAll(async () => {
    stack = await TestStack.start();
    project = await stack.createProject();
    // 14 s of a quiet ramp at 16 kHz: three transcript segments
    const samples = new Int16Array(16_000 * 14).map((_, i) => (i % 200) * 10);
    wav = encodeWav(samples, 16_000);
    const form = new FormData();
    form.append('purpose', 'audio');
    form.append('file', new Blob([new Uint8Array(wav)], { type: 'audio/wav' }), 'speech.wav');
    const res = await stack.api.post('/v1/files', { key: project.key, rawBody: form });
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${res.text}`);
    expect(res.body.content_type).toBe('audio/wav');
    fileId = res.body.id;
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const transcribe = (input: Record<string, unknown>) => stack.runJob(project.key, { type: 'audio.transcribe', input: { audio: { file_id: fileId }, ...input } });
  const expected = () => expectedTranscript(wav, { task: 'transcribe', language: 'en' });

  it('json: the plain text only', async () => {
    const job = await transcribe({ language: 'en' });
    expect(job.status).toBe('succeeded');
    expect(job.output).toEqual({ text: expected().text });
    expect(job.artifacts).toEqual([]);
  });

  it('text: the body trimmed', async () => {
    const job = await transcribe({ language: 'en', response_format: 'text' });
    expect(job.status).toBe('succeeded');
    expect(job.output).toEqual({ text: expected().text });
  });

  it('verbose_json: segments, language, duration and words, in snake_case wire form', async () => {
    const job = await transcribe({ language: 'en', response_format: 'verbose_json', timestamp_granularities: ['word', 'segment'] });
    expect(job.status).toBe('succeeded');
    const t = expected();
    expect(t.segments.length).toBeGreaterThan(1);
    expect(job.output.text).toBe(t.text);
    expect(job.output.language).toBe(t.language);
    expect(job.output.duration).toBeCloseTo(t.durationMs / 1000, 2);
    expect(job.output.segments).toEqual(
      t.segments.map((s) => ({ id: s.id, start: expect.closeTo(s.startMs / 1000, 2), end: expect.closeTo(s.endMs / 1000, 2), text: s.text })),
    );
    expect(job.output.words).toHaveLength(t.segments.reduce((n, s) => n + s.words.length, 0));
    // the form reached the gateway as multipart, granularities repeated
    const uploads = await stack.sim.get('/_sim/uploads');
    const last = uploads.body.uploads.filter((u: any) => u.route === 'audio.transcriptions').at(-1);
    expect(last.fields).toMatchObject({ model: 'whisper-1', language: 'en', response_format: 'verbose_json', 'timestamp_granularities[]': 'word,segment' });
    expect(last.files[0]).toMatchObject({ field: 'file', filename: 'speech.wav', sha256: sha256(wav) });
  });

  it.each([
    ['srt', 'application/x-subrip'],
    ['vtt', 'text/vtt'],
  ] as const)('%s: the gateway file stored byte for byte as the subtitles artifact', async (format, contentType) => {
    const job = await transcribe({ language: 'en', response_format: format });
    expect(job.status).toBe('succeeded');
    const t = expected();
    expect(job.output.text).toBe(t.text);
    expect(job.output.segments.map((s: any) => s.text)).toEqual(t.segments.map((s) => s.text));
    const artifact = job.artifacts.find((a: any) => a.id === job.output.subtitles.artifact_id);
    expect(artifact).toMatchObject({ kind: 'subtitles', content_type: contentType });
    const body = Buffer.from(renderTranscript(t, format).body, 'utf8');
    expect(await artifactBytes(stack, project.key, artifact.id)).toEqual(body);
    expect(artifact.sha256).toBe(sha256(body));
  });

  it('translate: the English text of the translate task', async () => {
    const job = await stack.runJob(project.key, { type: 'audio.translate', input: { audio: { file_id: fileId }, response_format: 'vtt' } });
    expect(job.status).toBe('succeeded');
    expect(job.output.text).toBe(expectedTranscript(wav, { task: 'translate' }).text);
    expect(job.output.subtitles.artifact_id).toMatch(/^art_/);
  });

  it('reads the audio of an earlier job (artifact_id) too', async () => {
    const speech = await stack.runJob(project.key, { type: 'audio.speech', input: { input: 'read this aloud', voice: 'alloy', response_format: 'wav' } });
    const job = await transcribe({ audio: { artifact_id: speech.output.audio.artifact_id } });
    expect(job.status).toBe('succeeded');
    const bytes = await artifactBytes(stack, project.key, speech.output.audio.artifact_id);
    expect(job.output.text).toBe(expectedTranscript(bytes, { task: 'transcribe' }).text);
  });

  it.each([
    ['wav', 'audio/wav'],
    ['mp3', 'audio/mpeg'],
    ['flac', 'audio/flac'],
    ['aac', 'audio/aac'],
  ] as const)('speech %s: the simulator bytes as an artifact of type %s', async (format, contentType) => {
    const request = { model: 'tts-1', input: `hello from genqueue in ${format}`, voice: 'nova', responseFormat: format, speed: 1.25 };
    const job = await stack.runJob(project.key, {
      type: 'audio.speech',
      input: { input: request.input, voice: request.voice, response_format: format, speed: request.speed },
    });
    expect(job.status).toBe('succeeded');
    expect(job.output).toEqual({ audio: { artifact_id: expect.stringMatching(/^art_/) } });
    const [artifact] = job.artifacts;
    expect(artifact).toMatchObject({ id: job.output.audio.artifact_id, kind: 'audio', content_type: contentType });
    const expectedBytes = renderSpeech(request).bytes;
    expect(artifact.sha256).toBe(sha256(expectedBytes));
    expect(await artifactBytes(stack, project.key, artifact.id)).toEqual(expectedBytes);
  });

  it('refuses bad audio inputs at submission', async () => {
    const res = await stack.api.post('/v1/jobs', {
      key: project.key,
      body: { type: 'audio.transcribe', input: { audio: { file_id: fileId }, response_format: 'srt', timestamp_granularities: ['word'] } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'input.timestamp_granularities', message: 'needs response_format verbose_json' }]);
    const speech = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'audio.speech', input: { input: 'x', voice: 'alloy', speed: 9 } } });
    expect(speech.status).toBe(400);
    expect(speech.body.error.details[0].path).toBe('input.speed');
  });
});
