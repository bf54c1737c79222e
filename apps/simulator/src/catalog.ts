/**
 * Models the simulated gateway has channels for. `family` picks the simulated behaviour; later
 * families (video, mj, audio, embeddings) already have entries so `/v1/models` lists them.
 */
export type ModelFamily =
  | 'chat-text'
  | 'dalle'
  | 'gpt-image'
  | 'gateway-image'
  | 'gemini-text'
  | 'gemini-image'
  | 'chat-image-link'
  | 'chat-video-link'
  | 'video'
  | 'mj'
  | 'embedding'
  | 'rerank'
  | 'audio-stt'
  | 'audio-tts'
  | 'gemini-tts';

export type CatalogModel = { id: string; ownedBy: string; endpointTypes: string[]; family: ModelFamily };

/** The gateway gives models without their own metadata this creation time. */
export const MODEL_CREATED_SEC = 1626777600;

const model = (id: string, family: ModelFamily, ownedBy: string, endpointTypes: string[]): CatalogModel => ({ id, family, ownedBy, endpointTypes });

const MJ_ACTIONS = [
  'mj_imagine', 'mj_variation', 'mj_upscale', 'mj_reroll', 'mj_blend', 'mj_describe', 'mj_modal', 'mj_zoom',
  'mj_custom_zoom', 'mj_shorten', 'mj_high_variation', 'mj_low_variation', 'mj_pan', 'mj_inpaint', 'swap_face',
  'mj_upload', 'mj_video', 'mj_edits',
];

export const CATALOG: readonly CatalogModel[] = [
  model('gpt-4o', 'chat-text', 'openai', ['openai']),
  model('gpt-4o-mini', 'chat-text', 'openai', ['openai']),
  model('gpt-image-1', 'gpt-image', 'openai', ['image-generation']),
  model('gpt-image-1-mini', 'gpt-image', 'openai', ['image-generation']),
  model('dall-e-3', 'dalle', 'openai', ['image-generation']),
  model('dall-e-2', 'dalle', 'openai', ['image-generation']),
  model('dall-e', 'dalle', 'openai', ['image-generation']),
  model('qwen-image', 'gateway-image', 'custom', ['image-generation']),
  model('imagen-4.0-generate-001', 'gateway-image', 'google', ['image-generation']),
  model('gemini-2.5-flash', 'gemini-text', 'google', ['gemini', 'openai']),
  model('gemini-2.5-flash-image', 'gemini-image', 'google', ['gemini', 'openai']),
  model('gemini-2.5-flash-preview-tts', 'gemini-tts', 'google', ['gemini']),
  model('gemini-2.5-pro-preview-tts', 'gemini-tts', 'google', ['gemini']),
  model('gemini-2.5-flash-image-preview', 'gemini-image', 'google', ['gemini', 'openai']),
  model('gemini-3-pro-image-preview', 'gemini-image', 'google', ['gemini', 'openai']),
  model('gpt-4o-image', 'chat-image-link', 'custom', ['openai']),
  model('sora-2-chat', 'chat-video-link', 'custom', ['openai']),
  model('sora-2', 'video', 'custom', ['openai-video']),
  model('sora-2-pro', 'video', 'custom', ['openai-video']),
  model('veo-3.0-generate-001', 'video', 'custom', ['openai-video']),
  model('text-embedding-3-small', 'embedding', 'openai', ['embeddings']),
  model('text-embedding-3-large', 'embedding', 'openai', ['embeddings']),
  model('text-embedding-ada-002', 'embedding', 'openai', ['embeddings']),
  model('gemini-embedding-001', 'embedding', 'google', ['embeddings', 'gemini']),
  model('jina-reranker-v2-base-multilingual', 'rerank', 'custom', ['jina-rerank']),
  model('whisper-1', 'audio-stt', 'openai', ['openai']),
  model('tts-1', 'audio-tts', 'openai', ['openai']),
  model('tts-1-hd', 'audio-tts', 'openai', ['openai']),
  model('gpt-4o-mini-tts', 'audio-tts', 'openai', ['openai']),
  ...MJ_ACTIONS.map((id) => model(id, 'mj', 'custom', ['openai'])),
];

const BY_ID = new Map(CATALOG.map((m) => [m.id, m]));

export const findModel = (id: string): CatalogModel | undefined => BY_ID.get(id);

export const toOpenAIModel = (m: CatalogModel) => ({
  id: m.id,
  object: 'model',
  created: MODEL_CREATED_SEC,
  owned_by: m.ownedBy,
  supported_endpoint_types: m.endpointTypes,
});

/** The gateway's Gemini list entry: `name` without `models/`, almost everything null. */
export const toGeminiModel = (m: CatalogModel) => ({
  name: m.id,
  baseModelId: null,
  version: null,
  displayName: m.id,
  description: null,
  inputTokenLimit: null,
  outputTokenLimit: null,
  supportedGenerationMethods: null,
  thinking: null,
  temperature: null,
  maxTemperature: null,
  topP: null,
  topK: null,
});
