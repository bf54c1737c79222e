import type { GatewayLane } from '@genqueue/upstream';
import type { JobHandler } from './handler';
import { audioGeminiSpeechHandler } from './audio-gemini-speech.handler';
import { audioSpeechHandler } from './audio-speech.handler';
import { audioTranscribeHandler, audioTranslateHandler } from './audio-transcribe.handler';
import { embeddingBatchHandler } from '../embeddings/embedding-batch.handler';
import { imageEditHandler } from './image-edit.handler';
import { imageGeminiHandler } from './image-gemini.handler';
import { imageGenerateHandler } from './image-generate.handler';
import { mediaChatHandler } from './media-chat.handler';

/** Job type → handler. A type accepted by the API without a handler here fails its jobs clearly. */
export const HANDLERS: Record<string, JobHandler> = {
  'image.generate': imageGenerateHandler,
  'image.edit': imageEditHandler,
  'image.gemini': imageGeminiHandler,
  'media.chat': mediaChatHandler,
  'audio.transcribe': audioTranscribeHandler,
  'audio.translate': audioTranslateHandler,
  'audio.speech': audioSpeechHandler,
  'audio.gemini_speech': audioGeminiSpeechHandler,
  'embedding.batch': embeddingBatchHandler,
};

/**
 * The gateway lane of each synchronous handler's call (gatewayLaneOf of its route): the runner takes
 * the lane's place before it starts the job. Embedding batches send through their chunks instead.
 */
export const HANDLER_LANES: Readonly<Record<string, GatewayLane>> = {
  'image.generate': 'image',
  'image.edit': 'image',
  'image.gemini': 'image',
  'media.chat': 'image',
  'audio.transcribe': 'audio',
  'audio.translate': 'audio',
  'audio.speech': 'audio',
  // Gemini TTS is a generateContent call
  'audio.gemini_speech': 'image',
};
