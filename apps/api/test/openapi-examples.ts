/**
 * One real input per job type (api.md, Job types), for the OpenAPI tests: each is accepted by its
 * type's zod schema, and submitted through the client types generated from `/openapi.json`.
 * Ids have the right form; only the client test uses the ones naming earlier jobs, files or artifacts.
 */
export const EXAMPLE_JOB_ID = 'job_01JD7Q3V9XK6M2N4P8R0S5T7VW';
export const EXAMPLE_FILE_ID = 'file_01JD7Q3V9XK6M2N4P8R0S5T7VW';
export const EXAMPLE_ARTIFACT_ID = 'art_01JD7Q3V9XK6M2N4P8R0S5T7VW';

export const EXAMPLE_INPUTS: Record<string, Record<string, unknown>> = {
  'image.generate': { prompt: 'a red fox in the snow', size: '1024x1024', quality: 'high' },
  'image.edit': { prompt: 'give the fox a scarf', images: [{ artifact_id: EXAMPLE_ARTIFACT_ID }], n: 1 },
  'image.gemini': { prompt: 'a lighthouse at dusk', aspect_ratio: '16:9' },
  'media.chat': { model: 'gpt-4o-image', messages: [{ role: 'user', content: 'draw a cat' }] },
  'video.generate': { prompt: 'a red fox running through snow', model: 'sora-2', seconds: '4', size: '720x1280' },
  'video.remix': { parent_id: EXAMPLE_JOB_ID, prompt: 'the same fox, at night' },
  'mj.imagine': { prompt: 'a castle on a hill', bot_type: 'MID_JOURNEY' },
  'mj.action': { job_id: EXAMPLE_JOB_ID, custom_id: 'MJ::JOB::upsample::1::abc' },
  'mj.modal': { job_id: EXAMPLE_JOB_ID, prompt: 'more clouds' },
  'mj.blend': { images: [{ artifact_id: EXAMPLE_ARTIFACT_ID }, { url: 'https://example.org/b.png' }], dimensions: 'SQUARE' },
  'mj.describe': { image: { url: 'https://example.org/cat.png' } },
  'audio.transcribe': { audio: { file_id: EXAMPLE_FILE_ID }, language: 'en', response_format: 'srt' },
  'audio.translate': { audio: { file_id: EXAMPLE_FILE_ID } },
  'audio.speech': { input: 'Hello from genqueue', voice: 'alloy', speed: 1.25 },
  'audio.gemini_speech': { text: 'Hello there', voice: 'Kore' },
  'embedding.batch': { inputs: ['first text', 'second text'], dimensions: 256, chunk_size: 10 },
};
