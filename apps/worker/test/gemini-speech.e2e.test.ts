import { readWavInfo, renderGeminiSpeech } from '@genqueue/simulator';
import { TestStack, type Project } from '@genqueue/testing';
import { artifactBytes } from './helpers';

const MODEL = 'gemini-2.5-flash-preview-tts';

/** audio.gemini_speech end to end: API → worker → the simulator's Gemini TTS → a stored WAV. */
describe('Gemini speech jobs end to end', () => {
  let stack: TestStack;
  let project: Project;

  beforeAll(async () => {
    stack = await TestStack.start();
    project = await stack.createProject();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const speak = (input: Record<string, unknown>) => stack.runJob(project.key, { type: 'audio.gemini_speech', input });

  it('one voice: a playable 24 kHz mono WAV whose samples are the gateway PCM', async () => {
    const job = await speak({ text: 'Say cheerfully: Have a wonderful day!', voice: 'Kore' });
    expect(job.status).toBe('succeeded');
    expect(job.artifacts).toHaveLength(1);
    expect(job.artifacts[0]).toMatchObject({ kind: 'audio', content_type: 'audio/wav' });
    const wav = await artifactBytes(stack, project.key, job.output.audio.artifact_id);
    const info = readWavInfo(wav);
    expect(info).toMatchObject({ sampleRate: 24_000, channels: 1, bitsPerSample: 16 });
    const pcm = Buffer.from(renderGeminiSpeech(MODEL, 'Say cheerfully: Have a wonderful day!', { voices: ['Kore'], speakers: [] }).data, 'base64');
    expect(wav.subarray(44).equals(pcm)).toBe(true);
    expect(job.output.duration_ms).toBe(Math.round((pcm.length / 2 / 24_000) * 1000));
    expect(job.output.usage.total_tokens).toBeGreaterThan(0);
  });

  it('two speakers reach the gateway as a multi-speaker map', async () => {
    const text = 'Joe: Is the report ready?\nJane: Almost.';
    const speakers = [
      { speaker: 'Joe', voice: 'Kore' },
      { speaker: 'Jane', voice: 'Puck' },
    ];
    const job = await speak({ text, speakers });
    expect(job.status).toBe('succeeded');
    const wav = await artifactBytes(stack, project.key, job.output.audio.artifact_id);
    const expected = renderGeminiSpeech(MODEL, text, { voices: ['Kore', 'Puck'], speakers: ['Joe', 'Jane'] }).data;
    expect(wav.subarray(44).toString('base64')).toBe(expected);
  });

  it('a blocked text fails the job as upstream_rejected', async () => {
    const job = await speak({ text: 'a forbidden announcement', voice: 'Kore' });
    expect(job.status).toBe('failed');
    expect(job.error.code).toBe('upstream_rejected');
  });

  it('bad inputs are a 400 naming the field, and nothing is stored', async () => {
    const cases = [
      [{ text: '' }, 'input.text'],
      [{ text: 'hi', voice: 'kore!' }, 'input.voice'],
      [{ text: 'hi', voice: 'Kore', speakers: [{ speaker: 'A', voice: 'Kore' }, { speaker: 'B', voice: 'Puck' }] }, 'input.voice'],
      [{ text: 'hi', speakers: [{ speaker: 'A', voice: 'Kore' }] }, 'input.speakers'],
      [{ text: 'hi', speakers: [{ speaker: 'A', voice: 'Kore' }, { speaker: 'A', voice: 'Puck' }] }, 'input.speakers'],
      [{ text: 'hi', pitch: 3 }, 'input'],
    ] as const;
    const before = await stack.api.get('/v1/jobs?type=audio.gemini_speech&limit=100', { key: project.key });
    for (const [input, path] of cases) {
      const res = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'audio.gemini_speech', input } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.details.map((d: { path: string }) => d.path).some((p: string) => p.startsWith(path))).toBe(true);
    }
    const after = await stack.api.get('/v1/jobs?type=audio.gemini_speech&limit=100', { key: project.key });
    expect(after.body.data).toHaveLength(before.body.data.length);
  });
});
