export { createSimulatorApp } from './app';
export { startSimulator, type RunningSimulator, type StartSimulatorOptions } from './server';
export { createSimulatorState, SimulatorState, type UploadRecord, type UploadedPart } from './state';
export { resolveOptions, DEFAULT_BANNED_WORDS, type SimulatorOptions, type ResolvedOptions, type WindowLimit } from './options';
export { createClock, type SimClock, type ClockOptions } from './clock';
export { FAULT_KINDS, FaultBook, type Fault, type FaultInput, type FaultKind } from './faults';
export { ROUTE_KEYS, type RouteKey } from './route-keys';
export { CATALOG, findModel, type CatalogModel, type ModelFamily } from './catalog';
export { QUOTA_PER_USD } from './balance';
export { renderPng, encodeRgbPng, PNG_SIGNATURE } from './media/png';
export { renderMp4 } from './media/mp4';
export { crc32 } from './media/crc32';
export { generationSeed, editSeed, mediaSeed } from './media/seeds';
export { formatRequestId } from './ids';
export * as gatewayErrors from './errors';
// audio (§10) and embeddings (§3)
export {
  expectedEmbedding,
  expectedEmbeddingF32,
  encodeEmbeddingBase64,
  decodeEmbeddingBase64,
  estimateEmbeddingTokens,
  tokenArrayText,
  defaultEmbeddingDimensions,
  isGeminiEmbeddingModel,
  EMBEDDING_DIMENSIONS,
  EMBEDDING_FAIL_MARKER,
  EMBEDDING_FAIL_ONCE_MARKER,
  MAX_EMBEDDING_INPUTS,
  MAX_EMBEDDING_INPUT_TOKENS,
  MAX_EMBEDDING_REQUEST_TOKENS,
  MAX_GEMINI_BATCH_REQUESTS,
} from './embeddings/vectors';
export { EmbeddingLog, type EmbeddingRequestRecord, type EmbeddingTotals } from './embeddings/embedding-log';
export { RateWindows, type RateWindowStats } from './rate-window';
export { meteredPerMinuteLimit, meteredRelayRoute } from './middleware/metered-limit';
export {
  expectedTranscript,
  audioDurationMs,
  LANGUAGE_NAMES,
  type Transcript,
  type TranscriptSegment,
  type TranscriptTask,
  type TranscriptWord,
} from './audio/transcript';
export {
  renderTranscript,
  toSrt,
  toVtt,
  toVerboseJson,
  srtTimestamp,
  vttTimestamp,
  TRANSCRIPT_FORMATS,
  type TranscriptFormat,
  type TimestampGranularity,
} from './audio/transcript-formats';
export { renderSpeech, speechSeed, SPEECH_FORMATS, SPEECH_CONTENT_TYPES, MAX_SPEECH_INPUT_CHARS, type SpeechFormat, type SpeechRequest, type RenderedSpeech } from './audio/speech';
export { MAX_AUDIO_FILE_BYTES } from './routes/audio.routes';
export { encodeWav, readWavInfo, type WavInfo } from './media/wav';
export { encodeMp3, MP3_FRAME_HEADER, MP3_FRAME_BYTES, MP3_FRAME_MS } from './media/mp3';
export { encodeOggOpus, oggCrc32 } from './media/ogg-opus';
export { encodeFlac, flacCrc8, flacCrc16 } from './media/flac';
export { encodeAdts } from './media/adts';
export { toneFor, toneSamples, SPEECH_SAMPLE_RATE, type Tone } from './media/tone';
// long-running tasks: video (§8) and Midjourney (§9)
export { DEFAULT_TASK_OPTIONS, resolveTaskOptions, type ResolvedTaskOptions, type TaskOptions } from './tasks/task-options';
export { MARKERS as TASK_MARKERS, markersIn, type Marker as TaskMarker } from './tasks/markers';
export { TaskStore, type MjTask as SimMjTask, type VideoTask as SimVideoTask, type SimTask, type TaskCounters } from './tasks/task-store';
export { videoSeed, videoTimeoutReason, UNRECOGNIZED_MESSAGE } from './tasks/video-model';
export { actionOfCustomId, buttonsFor, mjSeed, MJ_TIMEOUT_REASON, MJ_FAIL_REASON, type MjButton, type MjStatus } from './tasks/mj-model';
export { TASK_SATURATED_MESSAGE, MJ_SATURATED_MESSAGE } from './tasks/task-faults';
export { GEMINI_SPEECH_MIME, readSpeechVoices, renderGeminiSpeech } from './audio/gemini-speech';
