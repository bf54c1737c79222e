import { wavFromPcm16, type UpstreamClient } from '@genqueue/upstream';
import { GEMINI_SPEECH_MIME, renderGeminiSpeech, type RunningSimulator } from '../src';
import { armFault, call } from './helpers';
import { rejection, useSimulatorClient } from './upstream-helpers';

const MODEL = 'gemini-2.5-flash-preview-tts';
const goog = { 'x-goog-api-key': 'sk-gemini' };
const speechBody = (text: string, speechConfig: Record<string, unknown> = { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } }, modalities = ['AUDIO']) => ({
  contents: [{ parts: [{ text }] }],
  generationConfig: { responseModalities: modalities, speechConfig },
});

type SpeechAnswer = {
  candidates: { content?: { parts: { inlineData?: { mimeType: string; data: string } }[] }; finishReason: string }[];
  usageMetadata: { promptTokenCount: number; candidatesTokenCount?: number; candidatesTokensDetails?: unknown };
  error?: { message: string; code: unknown };
};

describe('Gemini TTS on the simulator (docs/gateway.md §10.3)', () => {
  let sim: RunningSimulator;
  let client: UpstreamClient;
  useSimulatorClient((started) => ({ sim, client } = started));

  const speak = async (body: unknown) => {
    const res = await call(sim, `/v1beta/models/${MODEL}:generateContent`, { headers: goog, json: body });
    return { status: res.status, body: (await res.json()) as SpeechAnswer };
  };

  it('answers base64 16-bit PCM at 24 kHz in inlineData, the same bytes for the same request', async () => {
    const first = await speak(speechBody('Say cheerfully: Have a wonderful day!'));
    expect(first.status).toBe(200);
    const part = first.body.candidates[0]?.content?.parts[0]?.inlineData;
    expect(part?.mimeType).toBe(GEMINI_SPEECH_MIME);
    const pcm = Buffer.from(part?.data ?? '', 'base64');
    expect(pcm.length % 2).toBe(0);
    expect(pcm.length).toBeGreaterThan(24_000 * 2 * 0.2);
    expect(first.body.usageMetadata).toMatchObject({ candidatesTokensDetails: [{ modality: 'AUDIO' }] });
    const again = await speak(speechBody('Say cheerfully: Have a wonderful day!'));
    expect(again.body.candidates[0]?.content?.parts[0]?.inlineData?.data).toBe(part?.data);
    expect(part?.data).toBe(renderGeminiSpeech(MODEL, 'Say cheerfully: Have a wonderful day!', { voices: ['Kore'], speakers: [] }).data);
  });

  it('another voice or a multi-speaker map changes the audio', async () => {
    const kore = await speak(speechBody('Hello there'));
    const puck = await speak(speechBody('Hello there', { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Puck' } } }));
    const duo = await speak(
      speechBody('Joe: Hello there\nJane: Hi', {
        multiSpeakerVoiceConfig: {
          speakerVoiceConfigs: [
            { speaker: 'Joe', voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } },
            { speaker: 'Jane', voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Puck' } } },
          ],
        },
      }),
    );
    const data = (a: { body: SpeechAnswer }) => a.body.candidates[0]?.content?.parts[0]?.inlineData?.data;
    expect(new Set([data(kore), data(puck), data(duo)]).size).toBe(3);
  });

  it('refuses what Gemini refuses, in the gateway error shape with a numeric code', async () => {
    const noAudio = await speak(speechBody('Hello', undefined, ['TEXT']));
    expect(noAudio.status).toBe(400);
    expect(noAudio.body.error?.code).toBe(400);
    const badVoice = await speak(speechBody('Hello', { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'not-a-voice' } } }));
    expect(badVoice.status).toBe(400);
    const threeSpeakers = await speak(
      speechBody('a', { multiSpeakerVoiceConfig: { speakerVoiceConfigs: ['A', 'B', 'C'].map((speaker) => ({ speaker, voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } })) } }),
    );
    expect(threeSpeakers.status).toBe(400);
    const empty = await speak(speechBody('   '));
    expect(empty.status).toBe(400);
  });

  it('a banned text comes back without audio, finishReason PROHIBITED_CONTENT', async () => {
    const blocked = await speak(speechBody('say something forbidden'));
    expect(blocked.status).toBe(200);
    expect(blocked.body.candidates[0]).toEqual({ finishReason: 'PROHIBITED_CONTENT', index: 0 });
  });

  it('the client returns the PCM and its rate, and a WAV around it plays as 24 kHz mono 16-bit', async () => {
    const speech = await client.gemini.speech(MODEL, { text: 'Have a wonderful day!', voice: 'Kore' });
    expect(speech.sampleRate).toBe(24_000);
    expect(speech.pcm.toString('base64')).toBe(renderGeminiSpeech(MODEL, 'Have a wonderful day!', { voices: ['Kore'], speakers: [] }).data);
    const wav = wavFromPcm16(speech.pcm, speech.sampleRate);
    expect(wav.subarray(0, 4).toString('ascii')).toBe('RIFF');
    expect(wav.subarray(8, 12).toString('ascii')).toBe('WAVE');
    expect(wav.readUInt16LE(22)).toBe(1);
    expect(wav.readUInt32LE(24)).toBe(24_000);
    expect(wav.readUInt16LE(34)).toBe(16);
    expect(wav.readUInt32LE(40)).toBe(speech.pcm.length);
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
  });

  it('the client turns a blocked text into a rejection and a fault into a retryable error', async () => {
    const blocked = await rejection(client.gemini.speech(MODEL, { text: 'forbidden words', voice: 'Kore' }));
    expect(blocked).toMatchObject({ kind: 'rejected', upstreamCode: 'PROHIBITED_CONTENT' });
    await armFault(sim, { route: 'gemini.generate', kind: 'server_error' });
    const failed = await rejection(client.gemini.speech(MODEL, { text: 'hello', voice: 'Kore' }));
    expect(failed.kind).toBe('retryable');
    await armFault(sim, { route: 'gemini.generate', kind: 'rate_limit_empty' });
    expect((await rejection(client.gemini.speech(MODEL, { text: 'hello', voice: 'Kore' }))).kind).toBe('rate_limited');
  });
});
