import { parseJobRequest } from '../src';

/** The video models' limits table is looked up by the client's model name. */
describe('video.generate input: the model limits', () => {
  it('checks a known model against its own limits', () => {
    expect(parseJobRequest({ type: 'video.generate', input: { prompt: 'p', model: 'sora-2', seconds: '8' } }).ok).toBe(true);
    expect(parseJobRequest({ type: 'video.generate', input: { prompt: 'p', model: 'sora-2', seconds: '5' } }).ok).toBe(false);
  });

  it('takes a model named like an Object property for an unknown model (1–60 s), and never throws', () => {
    // the fuzzer's find: "constructor" found Object.prototype's function in the table, and the check threw (a 500)
    for (const model of ['constructor', 'toString', '__proto__', 'valueOf']) {
      expect(parseJobRequest({ type: 'video.generate', input: { prompt: 'p', model, seconds: '8' } }).ok).toBe(true);
      expect(parseJobRequest({ type: 'video.generate', input: { prompt: 'p', model, seconds: '814' } }).ok).toBe(false);
    }
  });
});
