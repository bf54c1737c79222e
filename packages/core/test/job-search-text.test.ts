import { jobSearchText, SEARCH_TEXT_EMBEDDING_INPUTS, SEARCH_TEXT_MAX_CHARS } from '../src';

describe('jobSearchText', () => {
  it('is the lower-cased words of the prompt of image, video, mj and audio jobs', () => {
    for (const type of ['image.generate', 'image.edit', 'image.gemini', 'video.generate', 'mj.imagine', 'mj.modal', 'audio.transcribe']) {
      expect(jobSearchText(type, { prompt: '  A Red\tFox\n\nin SNOW ', model: 'x' })).toBe('a red fox in snow');
    }
  });

  it('reads the text of audio.gemini_speech, not its speakers or voices', () => {
    expect(jobSearchText('audio.gemini_speech', { text: 'Joe: Ready?', speakers: [{ speaker: 'Joe', voice: 'Kore' }, { speaker: 'Ann', voice: 'Puck' }] })).toBe('joe: ready?');
  });

  it('reads the text to speak of audio.speech, not its voice or model', () => {
    expect(jobSearchText('audio.speech', { input: 'Hello World', voice: 'alloy', model: 'tts-1' })).toBe('hello world');
  });

  it('reads string contents and text parts of chat messages, skipping images', () => {
    const input = {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You draw' },
        { role: 'user', content: [{ type: 'text', text: 'A cat' }, { type: 'image_url', image_url: { url: 'https://x.test/a.png' } }, { type: 'text', text: 'ON a roof' }] },
      ],
    };
    expect(jobSearchText('media.chat', input)).toBe('you draw a cat on a roof');
  });

  it('reads only the first inputs of an inline embedding batch, and nothing of a file-based one', () => {
    const inputs = Array.from({ length: 20 }, (_, i) => `Doc${i}`);
    expect(jobSearchText('embedding.batch', { inputs })).toBe(inputs.slice(0, SEARCH_TEXT_EMBEDDING_INPUTS).join(' ').toLowerCase());
    expect(jobSearchText('embedding.batch', { file_id: 'file_01JD7Q3V9XK6M2N4P8R0S5T7VW' })).toBeNull();
  });

  it('is null when the job has no text', () => {
    expect(jobSearchText('mj.blend', { images: [{ url: 'https://x.test/1.png' }, { url: 'https://x.test/2.png' }] })).toBeNull();
    expect(jobSearchText('mj.describe', { image: { url: 'https://x.test/1.png' } })).toBeNull();
    expect(jobSearchText('image.generate', { prompt: '   ' })).toBeNull();
    expect(jobSearchText('image.generate', null)).toBeNull();
    expect(jobSearchText('media.chat', { messages: 'not a list' })).toBeNull();
  });

  it('is cut to its maximum length at a word boundary', () => {
    const text = jobSearchText('image.generate', { prompt: 'word '.repeat(1_000) })!;
    expect(text.length).toBeLessThanOrEqual(SEARCH_TEXT_MAX_CHARS);
    expect(text.endsWith('word')).toBe(true);
    const unbroken = jobSearchText('image.generate', { prompt: 'x'.repeat(5_000) })!;
    expect(unbroken).toHaveLength(SEARCH_TEXT_MAX_CHARS);
  });
});
