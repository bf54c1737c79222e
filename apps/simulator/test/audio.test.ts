import { createHash } from 'node:crypto';
import {
  encodeWav,
  expectedTranscript,
  flacCrc16,
  flacCrc8,
  MP3_FRAME_BYTES,
  oggCrc32,
  readWavInfo,
  renderSpeech,
  toneFor,
  toneSamples,
  type RunningSimulator,
} from '../src';
import { AUTH, armFault, authed, boot, call } from './helpers';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Deterministic non-WAV "audio": 40 000 bytes = 2.5 s at the assumed 16 000 bytes/s. */
const MP3_UPLOAD = Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 31 + 7) % 251));

type FormInput = { file?: { data: Buffer; name?: string; type?: string }; fields?: Array<[string, string]> };

function audioForm(input: FormInput): FormData {
  const form = new FormData();
  for (const [name, value] of input.fields ?? []) form.append(name, value);
  if (input.file) form.append('file', new Blob([input.file.data], { type: input.file.type ?? 'audio/mpeg' }), input.file.name ?? 'clip.mp3');
  return form;
}

const stt = (sim: RunningSimulator, path: string, input: FormInput, headers: Record<string, string> = AUTH) =>
  call(sim, path, { method: 'POST', headers, body: audioForm(input) });

const transcribe = (sim: RunningSimulator, format: string, extra: Array<[string, string]> = [], data: Buffer = MP3_UPLOAD) =>
  stt(sim, '/v1/audio/transcriptions', { file: { data }, fields: [['model', 'whisper-1'], ['response_format', format], ...extra] });

// Independent, strict readers of the subtitle formats (RFC-like grammar, no leniency).
type Cue = { number?: number; start: string; end: string; text: string };
const SRT_TIME = /^(\d{2}):(\d{2}):(\d{2}),(\d{3})$/;
const VTT_TIME = /^(\d{2}):(\d{2}):(\d{2})\.(\d{3})$/;
const ms = (stamp: string, pattern: RegExp): number => {
  const m = pattern.exec(stamp);
  if (!m) throw new Error(`bad timestamp ${stamp}`);
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]);
};

function strictSrt(body: string): Cue[] {
  expect(body.endsWith('\n\n')).toBe(true);
  return body
    .slice(0, -2)
    .split('\n\n')
    .map((block) => {
      const [num, timing, ...text] = block.split('\n');
      const [start, arrow, end, ...rest] = (timing ?? '').split(' ');
      expect(arrow).toBe('-->');
      expect(rest).toEqual([]);
      expect(start).toMatch(SRT_TIME);
      expect(end).toMatch(SRT_TIME);
      return { number: Number(num), start: start as string, end: end as string, text: text.join('\n') };
    });
}

function strictVtt(body: string): Cue[] {
  expect(body.startsWith('WEBVTT\n\n')).toBe(true);
  expect(body.endsWith('\n\n')).toBe(true);
  return body
    .slice('WEBVTT\n\n'.length, -2)
    .split('\n\n')
    .map((block) => {
      const [timing, ...text] = block.split('\n');
      const [start, arrow, end] = (timing ?? '').split(' ');
      expect(arrow).toBe('-->');
      expect(start).toMatch(VTT_TIME);
      expect(end).toMatch(VTT_TIME);
      return { start: start as string, end: end as string, text: text.join('\n') };
    });
}

describe('POST /v1/audio/transcriptions and /translations', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await boot();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.state.reset());

  const expected = expectedTranscript(MP3_UPLOAD);

  it('json: {text, usage} derived from the bytes; the duration comes from the byte length', async () => {
    const res = await transcribe(sim, 'json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ text: expected.text, usage: { type: 'duration', seconds: 3 } });
    expect(expected.durationMs).toBe(2500);
    expect(expected.text).toMatch(/^[A-Z][a-z ]+\.( [A-Z][a-z ]+\.)*$/);
  });

  it('defaults to json when response_format is absent, and to whisper-1 when model is absent', async () => {
    const res = await stt(sim, '/v1/audio/transcriptions', { file: { data: MP3_UPLOAD } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { text: string }).text).toBe(expected.text);
  });

  it('text: text/plain with a trailing newline', async () => {
    const res = await transcribe(sim, 'text');
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe(`${expected.text}\n`);
  });

  it('srt: numbered cues with HH:MM:SS,mmm times that tile the duration', async () => {
    const long = Buffer.alloc(16_000 * 20, 3); // 20 s → 4 segments
    const transcript = expectedTranscript(long);
    const res = await transcribe(sim, 'srt', [], long);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const cues = strictSrt(await res.text());
    expect(cues).toHaveLength(4);
    expect(cues.map((c) => c.number)).toEqual([1, 2, 3, 4]);
    expect(cues[0]?.start).toBe('00:00:00,000');
    expect(cues[3]?.end).toBe('00:00:20,000');
    for (const [i, cue] of cues.entries()) {
      expect(ms(cue.end, SRT_TIME)).toBeGreaterThan(ms(cue.start, SRT_TIME));
      if (i > 0) expect(cue.start).toBe(cues[i - 1]?.end);
      expect(cue.text).toBe(transcript.segments[i]?.text);
    }
    expect(cues.map((c) => c.text).join(' ')).toBe(transcript.text);
  });

  it('vtt: WEBVTT header and HH:MM:SS.mmm cues with the same texts and times', async () => {
    const long = Buffer.alloc(16_000 * 20, 3);
    const srt = strictSrt(await (await transcribe(sim, 'srt', [], long)).text());
    const vtt = strictVtt(await (await transcribe(sim, 'vtt', [], long)).text());
    expect(vtt.map((c) => [ms(c.start, VTT_TIME), ms(c.end, VTT_TIME), c.text])).toEqual(srt.map((c) => [ms(c.start, SRT_TIME), ms(c.end, SRT_TIME), c.text]));
  });

  it('verbose_json: task, language, duration, text and Whisper-shaped segments', async () => {
    const res = await transcribe(sim, 'verbose_json', [['language', 'de'], ['temperature', '0.2']]);
    const body = (await res.json()) as Record<string, unknown> & { segments: Array<Record<string, unknown>> };
    expect(body).toMatchObject({ task: 'transcribe', language: 'german', duration: 2.5, text: expected.text, usage: { type: 'duration', seconds: 3 } });
    expect(body).not.toHaveProperty('words');
    expect(body.segments).toHaveLength(1);
    expect(body.segments[0]).toEqual({
      id: 0,
      seek: 0,
      start: 0,
      end: 2.5,
      text: ` ${expected.text}`,
      tokens: expect.arrayContaining([50364]),
      temperature: 0.2,
      avg_logprob: expect.any(Number),
      compression_ratio: expect.any(Number),
      no_speech_prob: expect.any(Number),
    });
  });

  it('verbose_json with timestamp_granularities[]: word adds words, word alone drops segments', async () => {
    const both = (await (await transcribe(sim, 'verbose_json', [['timestamp_granularities[]', 'word'], ['timestamp_granularities[]', 'segment']])).json()) as {
      words: Array<{ word: string; start: number; end: number }>;
      segments: unknown[];
    };
    expect(both.segments).toHaveLength(1);
    expect(both.words.map((w) => w.word).join(' ')).toBe(expected.text.replace(/\.$/, ''));
    expect(both.words[0]?.start).toBe(0);
    expect(both.words.at(-1)?.end).toBe(2.5);
    for (const [i, w] of both.words.entries()) {
      expect(w.end).toBeGreaterThanOrEqual(w.start);
      if (i > 0) expect(w.start).toBe(both.words[i - 1]?.end);
    }
    const wordsOnly = (await (await transcribe(sim, 'verbose_json', [['timestamp_granularities[]', 'word']])).json()) as Record<string, unknown>;
    expect(wordsOnly).toHaveProperty('words');
    expect(wordsOnly).not.toHaveProperty('segments');
  });

  it('is deterministic: same bytes, same transcript; other bytes, another one', async () => {
    const first = await (await transcribe(sim, 'json')).text();
    const again = await (await transcribe(sim, 'json')).text();
    const other = await (await transcribe(sim, 'json', [], Buffer.concat([MP3_UPLOAD, Buffer.from([1])]))).text();
    expect(again).toBe(first);
    expect(other).not.toBe(first);
  });

  it('reads the duration of a WAV upload from its header', async () => {
    const tone = toneFor('wav-upload', 100, 1); // 2.5 s
    const wav = encodeWav(toneSamples(tone), tone.sampleRate);
    const body = (await (await transcribe(sim, 'verbose_json', [], wav)).json()) as { duration: number };
    expect(body.duration).toBe(2.5);
    expect(readWavInfo(wav)?.durationMs).toBe(2500);
  });

  it('translations answer English with task translate, ignoring language', async () => {
    const res = await stt(sim, '/v1/audio/translations', {
      file: { data: MP3_UPLOAD },
      fields: [['model', 'whisper-1'], ['response_format', 'verbose_json'], ['language', 'fr']],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { task: string; language: string; text: string };
    const translation = expectedTranscript(MP3_UPLOAD, { task: 'translate' });
    expect(body).toMatchObject({ task: 'translate', language: 'english', text: translation.text });
    expect(translation.text).not.toBe(expected.text);
  });

  it('records the received parts, repeated fields joined with a comma', async () => {
    await transcribe(sim, 'verbose_json', [['prompt', 'names: Ada'], ['timestamp_granularities[]', 'word'], ['timestamp_granularities[]', 'segment']]);
    const [upload] = sim.state.uploads;
    expect(upload).toMatchObject({
      routeKey: 'audio.transcriptions',
      fields: { model: 'whisper-1', response_format: 'verbose_json', prompt: 'names: Ada', 'timestamp_granularities[]': 'word,segment' },
      files: [{ field: 'file', filename: 'clip.mp3', contentType: 'audio/mpeg', bytes: MP3_UPLOAD.length, sha256: sha256(MP3_UPLOAD) }],
    });
    const overHttp = (await (await call(sim, '/_sim/uploads')).json()) as { uploads: Array<{ route: string }> };
    expect(overHttp.uploads[0]?.route).toBe('audio.transcriptions');
  });

  it('reproduces the errors: missing file 400, unknown model 503, refused parameters 400, too large 413', async () => {
    const noFile = await stt(sim, '/v1/audio/transcriptions', { fields: [['model', 'whisper-1']] });
    expect(noFile.status).toBe(400);
    expect(await noFile.json()).toEqual({ error: { message: expect.stringContaining('file'), type: 'invalid_request_error', param: '', code: null } });
    expect(sim.state.uploads).toHaveLength(1); // still recorded

    const unknown = await stt(sim, '/v1/audio/transcriptions', { file: { data: MP3_UPLOAD }, fields: [['model', 'whisper-9']] });
    expect(unknown.status).toBe(503);
    const unknownBody = (await unknown.json()) as { error: { code: string; message: string } };
    expect(unknownBody.error.code).toBe('model_not_found');
    expect(unknownBody.error.message).toMatch(/^No available channel for model whisper-9 under group default \(distributor\) \(request id: /);

    const wrongFamily = await stt(sim, '/v1/audio/transcriptions', { file: { data: MP3_UPLOAD }, fields: [['model', 'gpt-4o']] });
    expect(wrongFamily.status).toBe(400);

    expect((await transcribe(sim, 'docx')).status).toBe(400);
    expect((await transcribe(sim, 'json', [['timestamp_granularities[]', 'word']])).status).toBe(400);
    expect((await transcribe(sim, 'verbose_json', [['timestamp_granularities[]', 'letter']])).status).toBe(400);
    const badLanguage = await transcribe(sim, 'json', [['language', 'english']]);
    expect(badLanguage.status).toBe(400);
    expect(((await badLanguage.json()) as { error: { code: string } }).error.code).toBe('invalid_language_format');
    expect((await transcribe(sim, 'json', [['temperature', '3']])).status).toBe(400);

    const huge = await transcribe(sim, 'json', [], Buffer.alloc(25 * 1024 * 1024 + 1));
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: { message: string } }).error.message).toMatch(/^Maximum content size limit \(26214400\) exceeded/);

    const notMultipart = await authed(sim, '/v1/audio/transcriptions', { model: 'whisper-1' });
    expect(notMultipart.status).toBe(500);
    expect(((await notMultipart.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });

  it('needs a valid key (401 E1)', async () => {
    const res = await stt(sim, '/v1/audio/transcriptions', { file: { data: MP3_UPLOAD } }, { authorization: 'Bearer sk-expired' });
    expect(res.status).toBe(401);
  });
});

// ---------------------------------------------------------------------------------------------

type Chunk = { id: string; size: number; body: Buffer };

function riffChunks(bytes: Buffer): Chunk[] {
  const chunks: Chunk[] = [];
  for (let offset = 12; offset < bytes.length; ) {
    const size = bytes.readUInt32LE(offset + 4);
    chunks.push({ id: bytes.toString('latin1', offset, offset + 4), size, body: bytes.subarray(offset + 8, offset + 8 + size) });
    offset += 8 + size + (size % 2);
  }
  return chunks;
}

describe('POST /v1/audio/speech', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await boot();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.state.reset());

  const speak = (body: Record<string, unknown>) => authed(sim, '/v1/audio/speech', { model: 'tts-1', voice: 'alloy', input: 'Hello there, friend.', ...body });
  const bytesOf = async (res: Response): Promise<Buffer> => Buffer.from(await res.arrayBuffer());

  it('wav: a valid RIFF/WAVE PCM file with a tone whose length follows the input', async () => {
    const res = await speak({ response_format: 'wav' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    const wav = await bytesOf(res);
    expect(wav.toString('latin1', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    expect(wav.toString('latin1', 8, 12)).toBe('WAVE');
    const chunks = riffChunks(wav);
    expect(chunks.map((c) => c.id)).toEqual(['fmt ', 'data']);
    const fmt = chunks[0]?.body as Buffer;
    expect({
      format: fmt.readUInt16LE(0),
      channels: fmt.readUInt16LE(2),
      rate: fmt.readUInt32LE(4),
      byteRate: fmt.readUInt32LE(8),
      align: fmt.readUInt16LE(12),
      bits: fmt.readUInt16LE(14),
    }).toEqual({ format: 1, channels: 1, rate: 24_000, byteRate: 48_000, align: 2, bits: 16 });
    const data = chunks[1]?.body as Buffer;
    expect(data.length).toBe(20 * 25 * 48); // 20 chars × 25 ms × 48 bytes/ms
    // A tone, not silence: it crosses zero about 2 × frequency times a second.
    const samples = Array.from({ length: data.length / 2 }, (_, i) => data.readInt16LE(i * 2));
    const crossings = samples.slice(1).filter((s, i) => Math.sign(s) !== Math.sign(samples[i] as number) && s !== 0).length;
    const { frequencyHz } = toneFor('tts-1|alloy|Hello there, friend.', 20);
    expect(Math.abs(crossings / 0.5 - 2 * frequencyHz)).toBeLessThan(0.1 * 2 * frequencyHz);
    expect(Math.max(...samples)).toBeGreaterThan(4000);
  });

  it('is deterministic, and the pitch and length change with the input, voice and speed', async () => {
    const a = await bytesOf(await speak({ response_format: 'wav' }));
    const b = await bytesOf(await speak({ response_format: 'wav' }));
    expect(sha256(a)).toBe(sha256(b));
    expect(sha256(a)).toBe(sha256(renderSpeech({ model: 'tts-1', voice: 'alloy', input: 'Hello there, friend.', responseFormat: 'wav' }).bytes));
    expect(sha256(await bytesOf(await speak({ response_format: 'wav', voice: 'nova' })))).not.toBe(sha256(a));
    const fast = await bytesOf(await speak({ response_format: 'wav', speed: 2 }));
    expect(readWavInfo(fast)?.durationMs).toBe(250);
  });

  it('mp3 (default): an ID3v2 tag, then constant 192-byte MPEG-2 Layer III frames', async () => {
    const res = await authed(sim, '/v1/audio/speech', { model: 'tts-1', voice: 'alloy', input: 'x'.repeat(40) });
    expect(res.headers.get('content-type')).toBe('audio/mpeg');
    const mp3 = await bytesOf(res);
    expect(mp3.toString('latin1', 0, 3)).toBe('ID3');
    expect(mp3[3]).toBe(3);
    const tagSize = ((mp3[6] as number) << 21) | ((mp3[7] as number) << 14) | ((mp3[8] as number) << 7) | (mp3[9] as number);
    expect(mp3.toString('latin1', 10, 14)).toBe('TSSE');
    let frames = 0;
    for (let offset = 10 + tagSize; offset < mp3.length; offset += MP3_FRAME_BYTES) {
      const header = mp3.readUInt32BE(offset);
      expect(header >>> 21).toBe(0x7ff); // frame sync
      expect((header >>> 19) & 0b11).toBe(0b10); // MPEG-2
      expect((header >>> 17) & 0b11).toBe(0b01); // Layer III
      expect((header >>> 12) & 0xf).toBe(8); // 64 kbit/s
      expect((header >>> 10) & 0b11).toBe(1); // 24 kHz
      expect((header >>> 6) & 0b11).toBe(0b11); // mono
      frames += 1;
    }
    expect(frames).toBe(Math.ceil(1000 / 24)); // 40 chars → 1 s
    expect((mp3.length - 10 - tagSize) % MP3_FRAME_BYTES).toBe(0);
  });

  it('opus: Ogg pages with valid CRCs, OpusHead then OpusTags', async () => {
    expect(oggCrc32(Buffer.from('123456789'))).toBe(0x89a1897f); // CRC-32 (0x04C11DB7, init 0, no xor) check value
    const res = await speak({ response_format: 'opus' });
    expect(res.headers.get('content-type')).toBe('audio/opus');
    const ogg = await bytesOf(res);
    const packets: Buffer[] = [];
    let offset = 0;
    let pages = 0;
    while (offset < ogg.length) {
      expect(ogg.toString('latin1', offset, offset + 4)).toBe('OggS');
      const segments = ogg[offset + 26] as number;
      const lacing = ogg.subarray(offset + 27, offset + 27 + segments);
      const size = 27 + segments + lacing.reduce((a, b) => a + b, 0);
      const page = Buffer.from(ogg.subarray(offset, offset + size));
      const crc = page.readUInt32LE(22);
      page.writeUInt32LE(0, 22);
      expect(oggCrc32(page)).toBe(crc);
      expect(page[5]).toBe(pages === 0 ? 0x02 : offset + size === ogg.length ? 0x04 : 0);
      let at = 27 + segments;
      for (const lace of lacing) {
        packets.push(page.subarray(at, at + lace));
        at += lace;
      }
      offset += size;
      pages += 1;
    }
    expect(packets[0]?.toString('latin1', 0, 8)).toBe('OpusHead');
    expect(packets[0]?.readUInt32LE(12)).toBe(24_000);
    expect(packets[1]?.toString('latin1', 0, 8)).toBe('OpusTags');
    expect(packets.slice(2).every((p) => p[0] === 0xf8)).toBe(true);
  });

  it('flac: STREAMINFO with the MD5 of the tone, VERBATIM frames with valid CRC-8/CRC-16', async () => {
    expect(flacCrc8(Buffer.from('123456789'))).toBe(0xf4);
    expect(flacCrc16(Buffer.from('123456789'))).toBe(0xfee8);
    const res = await speak({ response_format: 'flac' });
    expect(res.headers.get('content-type')).toBe('audio/flac');
    const flac = await bytesOf(res);
    expect(flac.toString('latin1', 0, 4)).toBe('fLaC');
    expect(flac[4]).toBe(0x80); // last metadata block, STREAMINFO
    const info = flac.subarray(8, 42);
    const packed = info.readBigUInt64BE(10);
    const tone = toneFor('tts-1|alloy|Hello there, friend.', 20);
    const expectedSamples = toneSamples(tone);
    expect(Number(packed >> 44n)).toBe(24_000);
    expect(Number((packed >> 36n) & 0x1fn) + 1).toBe(16);
    expect(Number(packed & 0xfffffffffn)).toBe(expectedSamples.length);
    const pcm = Buffer.alloc(expectedSamples.length * 2);
    expectedSamples.forEach((s, i) => pcm.writeInt16LE(s, i * 2));
    expect(info.subarray(18, 34).toString('hex')).toBe(createHash('md5').update(pcm).digest('hex'));
    // 12 000 samples: two 4096-sample frames and a short last one, all VERBATIM.
    const decoded: number[] = [];
    for (let offset = 42; offset < flac.length; ) {
      expect(flac.readUInt16BE(offset)).toBe(0xfff8);
      const sizeCode = (flac[offset + 2] as number) >> 4;
      let headerEnd = offset + 5; // sync(2) + codes(2) + 1-byte frame number
      let blockSize = 4096;
      if (sizeCode === 0b0111) {
        blockSize = flac.readUInt16BE(headerEnd) + 1;
        headerEnd += 2;
      }
      expect(flacCrc8(flac.subarray(offset, headerEnd))).toBe(flac[headerEnd]);
      const subframe = headerEnd + 1;
      expect(flac[subframe]).toBe(0x02);
      for (let i = 0; i < blockSize; i += 1) decoded.push(flac.readInt16BE(subframe + 1 + i * 2));
      const end = subframe + 1 + blockSize * 2;
      expect(flacCrc16(flac.subarray(offset, end))).toBe(flac.readUInt16BE(end));
      offset = end + 2;
    }
    expect(decoded).toEqual(Array.from(expectedSamples));
  });

  it('aac: ADTS frames (sync, AAC-LC, 24 kHz, mono) whose lengths chain; pcm: the raw samples', async () => {
    const aacRes = await speak({ response_format: 'aac' });
    expect(aacRes.headers.get('content-type')).toBe('audio/aac');
    const aac = await bytesOf(aacRes);
    let frames = 0;
    for (let offset = 0; offset < aac.length; frames += 1) {
      expect(aac.readUInt16BE(offset) & 0xfff6).toBe(0xfff0);
      expect(((aac[offset + 2] as number) >> 6) + 1).toBe(2); // AAC LC
      expect(((aac[offset + 2] as number) >> 2) & 0xf).toBe(6); // 24 kHz
      const length = (((aac[offset + 3] as number) & 0x3) << 11) | ((aac[offset + 4] as number) << 3) | ((aac[offset + 5] as number) >> 5);
      offset += length;
      expect(offset).toBeLessThanOrEqual(aac.length);
    }
    expect(frames).toBe(Math.ceil((0.5 * 24_000) / 1024));

    const pcmRes = await speak({ response_format: 'pcm' });
    expect(pcmRes.headers.get('content-type')).toBe('audio/pcm');
    const wav = await bytesOf(await speak({ response_format: 'wav' }));
    expect((await bytesOf(pcmRes)).equals(wav.subarray(44))).toBe(true);
  });

  it('refuses input over 4096 characters, a missing voice, bad formats and speeds; unknown model 503', async () => {
    const long = await speak({ input: 'a'.repeat(4097) });
    expect(long.status).toBe(400);
    expect(await long.json()).toMatchObject({ error: { type: 'invalid_request_error', param: 'input', code: 'string_above_max_length' } });
    expect((await speak({ input: 'a'.repeat(4096), response_format: 'pcm' })).status).toBe(200);
    expect((await speak({ voice: undefined })).status).toBe(400);
    expect((await speak({ response_format: 'ogg' })).status).toBe(400);
    expect((await speak({ speed: 5 })).status).toBe(400);
    expect((await speak({ input: '' })).status).toBe(500);
    const unknown = await speak({ model: 'tts-9' });
    expect(unknown.status).toBe(503);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
    expect((await speak({ model: 'whisper-1' })).status).toBe(400);
    expect((await authed(sim, '/v1/audio/speech', { voice: 'alloy', input: 'no model → tts-1' })).status).toBe(200);
    expect(sim.state.uploads.at(-1)).toMatchObject({ routeKey: 'audio.speech', fields: { voice: 'alloy', input: 'no model → tts-1' } });
  });
});

describe('audio faults', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await boot({ fastTime: true });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.state.reset());

  it('answers the armed fault on audio.transcriptions, audio.translations and audio.speech (and the `audio` prefix)', async () => {
    await armFault(sim, { route: 'audio.transcriptions', kind: 'rate_limit_empty' });
    await armFault(sim, { route: 'audio.translations', kind: 'server_error', status: 502 });
    await armFault(sim, { route: 'audio', kind: 'rejected' });
    const limited = await transcribe(sim, 'json');
    expect(limited.status).toBe(429);
    expect(await limited.text()).toBe('');
    const translated = await stt(sim, '/v1/audio/translations', { file: { data: MP3_UPLOAD } });
    expect(translated.status).toBe(502);
    const speech = await authed(sim, '/v1/audio/speech', { model: 'tts-1', voice: 'alloy', input: 'x' });
    expect(speech.status).toBe(400);
    expect(((await speech.json()) as { error: { code: string } }).error.code).toBe('content_policy_violation');
    expect((await transcribe(sim, 'json')).status).toBe(200);
    const counters = (await (await call(sim, '/_sim/counters')).json()) as { routes: Record<string, { received: number; statuses: Record<string, number> }> };
    expect(counters.routes['audio.transcriptions']).toEqual({ received: 2, statuses: { '200': 1, '429': 1 } });
  });

  it('applies requests_per_minute to audio routes too', async () => {
    expect((await call(sim, '/_sim/config', { json: { requests_per_minute: { 'audio.speech': 1 } } })).status).toBe(200);
    const speak = () => authed(sim, '/v1/audio/speech', { model: 'tts-1', voice: 'alloy', input: 'x', response_format: 'pcm' });
    expect((await speak()).status).toBe(200);
    expect((await speak()).status).toBe(429);
    sim.state.clock.advance(1000); // one simulated minute in fast time
    expect((await speak()).status).toBe(200);
    await call(sim, '/_sim/config', { json: { requests_per_minute: { 'audio.speech': null } } });
  });
});
