import type { ServerResponse } from 'node:http';
import { parseSubtitles, parseSubtitleTimestamp, subtitlesToText } from '../src';
import { closeGateways, gateway, upstreamRejection } from './helpers/gateway-fixture';
import { REQUEST_ID, sendJson, type LocalServer } from './helpers/local-server';

afterEach(closeGateways);

const FILE = { filename: 'clip.mp3', contentType: 'audio/mpeg', data: Buffer.from('ID3-fake-audio-bytes') };

function sendText(res: ServerResponse, status: number, body: string | Buffer, contentType?: string): void {
  res.writeHead(status, {
    ...(contentType !== undefined ? { 'content-type': contentType } : {}),
    'x-oneapi-request-id': REQUEST_ID,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** The multipart form the client sent, read back with the platform's own parser. */
async function sentForm(server: LocalServer, index = 0): Promise<FormData> {
  const req = server.requests[index];
  if (!req) throw new Error('no request recorded');
  return new Response(req.body, { headers: { 'content-type': String(req.headers['content-type']) } }).formData();
}

const SRT = '1\n00:00:00,000 --> 00:00:02,500\nHello world.\n\n2\n00:00:02,500 --> 00:00:05,120\nSecond line\nwraps here.\n\n';
const VTT = 'WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello world.\n\n00:00:02.500 --> 00:00:05.120\nSecond line\nwraps here.\n\n';

describe('audio.transcribe / translate', () => {
  it('sends a multipart form: fields, repeated timestamp_granularities[], the file last', async () => {
    const { server, client } = await gateway((_req, res) => sendJson(res, 200, { text: 'Hello world.' }));
    const result = await client.audio.transcribe({
      file: FILE,
      model: 'whisper-1',
      language: 'en',
      prompt: 'names: Ada',
      responseFormat: 'verbose_json',
      timestampGranularities: ['word', 'segment'],
      temperature: 0.2,
      extra: { chunking_strategy: 'auto' },
    });
    expect(result).toEqual({ format: 'verbose_json', text: 'Hello world.' });
    const req = server.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/v1/audio/transcriptions');
    expect(req?.headers['authorization']).toBe('Bearer sk-test-key');
    expect(String(req?.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/);
    const form = await sentForm(server);
    expect([...form.keys()]).toEqual(['model', 'language', 'prompt', 'response_format', 'timestamp_granularities[]', 'timestamp_granularities[]', 'temperature', 'chunking_strategy', 'file']);
    expect(form.getAll('timestamp_granularities[]')).toEqual(['word', 'segment']);
    expect(form.get('temperature')).toBe('0.2');
    const file = form.get('file') as File;
    expect(file.name).toBe('clip.mp3');
    expect(file.type).toBe('audio/mpeg');
    expect(Buffer.from(await file.arrayBuffer()).equals(FILE.data)).toBe(true);
  });

  it('json (the default): {text} and whisper usage', async () => {
    const { server, client } = await gateway((_req, res) => sendJson(res, 200, { text: ' Hello world. ', usage: { type: 'duration', seconds: 3 } }));
    expect(await client.audio.transcribe({ file: FILE, model: 'whisper-1' })).toEqual({ format: 'json', text: 'Hello world.', usage: { seconds: 3 } });
    expect((await sentForm(server)).get('response_format')).toBe('json');
  });

  it('verbose_json: task, language, duration, segments (trimmed text) and words', async () => {
    const { client } = await gateway((_req, res) =>
      sendJson(res, 200, {
        task: 'transcribe',
        language: 'english',
        duration: 2.95,
        text: 'Hello world.',
        segments: [
          { id: 0, seek: 0, start: 0.0, end: 2.9, text: ' Hello world.', tokens: [50364, 2425, 1002, 13], temperature: 0.0, avg_logprob: -0.28, compression_ratio: 0.8, no_speech_prob: 0.01 },
        ],
        words: [
          { word: 'Hello', start: 0, end: 0.5 },
          { word: 'world', start: 0.5, end: 1.1 },
        ],
      }),
    );
    const result = await client.audio.transcribe({ file: FILE, model: 'whisper-1', responseFormat: 'verbose_json', timestampGranularities: ['word'] });
    expect(result).toEqual({
      format: 'verbose_json',
      text: 'Hello world.',
      task: 'transcribe',
      language: 'english',
      duration: 2.95,
      segments: [{ id: 0, seek: 0, start: 0, end: 2.9, text: 'Hello world.', tokens: [50364, 2425, 1002, 13], temperature: 0, avgLogprob: -0.28, compressionRatio: 0.8, noSpeechProb: 0.01 }],
      words: [
        { word: 'Hello', start: 0, end: 0.5 },
        { word: 'world', start: 0.5, end: 1.1 },
      ],
    });
  });

  it('text: the body trimmed as text, the body as raw', async () => {
    const { client } = await gateway((_req, res) => sendText(res, 200, 'Hello world.\n', 'text/plain; charset=utf-8'));
    expect(await client.audio.transcribe({ file: FILE, model: 'whisper-1', responseFormat: 'text' })).toEqual({ format: 'text', text: 'Hello world.', raw: 'Hello world.\n' });
  });

  it('srt and vtt: raw kept, cues as segments, plain text from the cues', async () => {
    for (const [format, body] of [['srt', SRT], ['vtt', VTT]] as const) {
      const { client } = await gateway((_req, res) => sendText(res, 200, body, 'text/plain; charset=utf-8'));
      const result = await client.audio.transcribe({ file: FILE, model: 'whisper-1', responseFormat: format });
      expect(result).toEqual({
        format,
        text: 'Hello world. Second line wraps here.',
        raw: body,
        segments: [
          { id: 0, start: 0, end: 2.5, text: 'Hello world.' },
          { id: 1, start: 2.5, end: 5.12, text: 'Second line wraps here.' },
        ],
      });
    }
  });

  it('accepts a gateway that wraps text formats as {"text": …}', async () => {
    const { client } = await gateway((_req, res) => sendJson(res, 200, { text: SRT }));
    const result = await client.audio.transcribe({ file: FILE, model: 'whisper-1', responseFormat: 'srt' });
    expect(result.raw).toBe(SRT);
    expect(result.segments).toHaveLength(2);
  });

  it('translate posts to /v1/audio/translations without language', async () => {
    const { server, client } = await gateway((_req, res) => sendJson(res, 200, { text: 'Hello.' }));
    expect((await client.audio.translate({ file: FILE, model: 'whisper-1', prompt: 'p' })).text).toBe('Hello.');
    expect(server.requests[0]?.path).toBe('/v1/audio/translations');
    expect([...(await sentForm(server)).keys()]).toEqual(['model', 'prompt', 'response_format', 'file']);
  });

  it('classifies failures: 400 rejected, 503 model_not_found rejected, 429 empty rate_limited, 413 rejected, 2xx envelope and HTML', async () => {
    const cases: Array<[(res: ServerResponse) => void, string, string]> = [
      [(res) => sendJson(res, 400, { error: { message: '1 validation error for Request\nbody -> file\n  field required', type: 'invalid_request_error', param: '', code: null } }), 'rejected', 'text'],
      [(res) => sendJson(res, 503, { error: { message: `No available channel (request id: ${REQUEST_ID})`, type: 'new_api_error', code: 'model_not_found' } }), 'rejected', 'srt'],
      [(res) => sendText(res, 429, ''), 'rate_limited', 'vtt'],
      [(res) => sendJson(res, 413, { error: { message: 'Maximum content size limit (26214400) exceeded', type: 'server_error', param: '', code: null } }), 'rejected', 'json'],
      [(res) => sendJson(res, 200, { error: { message: 'bad', type: 'upstream_error', code: 'invalid_request' } }), 'rejected', 'text'],
      [(res) => sendText(res, 200, '<html><body>oops</body></html>', 'text/html'), 'retryable', 'srt'],
      [(res) => sendText(res, 200, 'no cues here', 'text/plain'), 'retryable', 'vtt'],
      [(res) => sendJson(res, 200, { task: 'transcribe' }), 'retryable', 'verbose_json'],
    ];
    for (const [answer, kind, format] of cases) {
      const { client } = await gateway((_req, res) => answer(res));
      const err = await upstreamRejection(client.audio.transcribe({ file: FILE, model: 'whisper-1', responseFormat: format as 'json' }));
      expect([format, err.kind]).toEqual([format, kind]);
      expect(err.requestId).toBe(REQUEST_ID);
    }
  });
});

describe('audio.speech', () => {
  it('posts JSON and returns the bytes with their content type', async () => {
    const audio = Buffer.from([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 0, 0xff, 0xf3]);
    const { server, client } = await gateway((_req, res) => sendText(res, 200, audio, 'audio/mpeg'));
    const result = await client.audio.speech({ model: 'tts-1', input: 'Hello', voice: 'alloy', speed: 1.5, extra: { stream_format: 'audio', voice: 'ignored' } });
    expect(result).toEqual({ format: 'mp3', contentType: 'audio/mpeg', bytes: audio });
    expect(server.requests[0]?.path).toBe('/v1/audio/speech');
    expect(JSON.parse(server.requests[0]?.body.toString('utf8') ?? '')).toEqual({ stream_format: 'audio', model: 'tts-1', input: 'Hello', voice: 'alloy', response_format: 'mp3', speed: 1.5 });
  });

  it('uses the format’s content type when the gateway sends none or application/octet-stream', async () => {
    for (const declared of [undefined, 'application/octet-stream', 'audio/wav; codecs=1']) {
      const { client } = await gateway((_req, res) => sendText(res, 200, Buffer.from('RIFF....WAVE'), declared));
      expect((await client.audio.speech({ model: 'tts-1', input: 'x', voice: 'nova', responseFormat: 'wav' })).contentType).toBe('audio/wav');
    }
  });

  it('classifies failures: 400 rejected, 429 rate_limited, 200 JSON envelope, 200 JSON without audio, empty body, HTML', async () => {
    const cases: Array<[(res: ServerResponse) => void, string]> = [
      [(res) => sendJson(res, 400, { error: { message: 'String should have at most 4096 characters', type: 'invalid_request_error', param: 'input', code: 'string_above_max_length' } }), 'rejected'],
      [(res) => sendText(res, 429, ''), 'rate_limited'],
      [(res) => sendJson(res, 200, { error: { message: 'quota', type: 'new_api_error', code: 'insufficient_user_quota' } }), 'auth'],
      [(res) => sendJson(res, 200, { audio: null }), 'rejected'],
      [(res) => sendText(res, 200, '', 'audio/mpeg'), 'retryable'],
      [(res) => sendText(res, 200, '<!DOCTYPE html><html></html>', 'text/html; charset=utf-8'), 'retryable'],
      [(res) => sendText(res, 502, '<html>502 Bad Gateway</html>', 'text/html'), 'retryable'],
    ];
    for (const [answer, kind] of cases) {
      const { client } = await gateway((_req, res) => answer(res));
      const err = await upstreamRejection(client.audio.speech({ model: 'tts-1', input: 'x', voice: 'alloy' }));
      expect(err.kind).toBe(kind);
    }
  });
});

describe('parseSubtitles', () => {
  it('reads SRT with CRLF, a BOM and odd numbering; VTT without hours, with ids, NOTE blocks, settings and tags', () => {
    const srt = '\uFEFF7\r\n01:02:03,456 --> 01:02:04,000\r\nOne\r\n\r\n\r\n8\r\n01:02:04,000 --> 01:02:05,5\r\nTwo\r\n';
    expect(parseSubtitles(srt)).toEqual([
      { index: 0, start: 3723.456, end: 3724, text: 'One' },
      { index: 1, start: 3724, end: 3725.5, text: 'Two' },
    ]);
    const vtt = 'WEBVTT - title\n\nNOTE a comment\nspanning lines\n\ncue-1\n00:01.000 --> 00:02.250 align:start position:10%\n<v Bob>Hi</v> <b>there</b>\n\n00:00:02.250 --> 00:00:03.000\n\n';
    const cues = parseSubtitles(vtt);
    expect(cues).toEqual([
      { index: 0, start: 1, end: 2.25, text: 'Hi there' },
      { index: 1, start: 2.25, end: 3, text: '' },
    ]);
    expect(subtitlesToText(cues)).toBe('Hi there');
    expect(parseSubtitleTimestamp('00:00:05.12')).toBe(5.12);
    expect(parseSubtitles('WEBVTT\n\n')).toEqual([]);
  });
});
