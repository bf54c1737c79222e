export { createUpstreamClient, type UpstreamClient, type UpstreamClientOptions } from './client';
export {
  classifyUpstreamFailure,
  codeToString,
  cutUpstreamMessage,
  detectErrorEnvelope,
  isUpstreamError,
  looksLikeHtml,
  parseErrorBody,
  UpstreamError,
  upstreamErrorFromResponse,
  type ClassifyInput,
  type ErrorBodyShape,
  type ParsedErrorBody,
  type UpstreamErrorKind,
  type UpstreamFailure,
} from './errors';
export {
  abortReason,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_UPSTREAM_TIMEOUTS,
  errorFromHttpResponse,
  readResponse,
  UpstreamHttp,
  type CallOptions,
  type HttpMethod,
  type HttpRequest,
  type HttpResponse,
  type HttpResponseHead,
  type HttpStream,
  type TimeoutProfile,
  type UpstreamHttpOptions,
  type UpstreamTimeouts,
} from './http';
export { parseJsonResponse } from './response';
export {
  createImagesApi,
  parseImageResponse,
  type GeneratedImage,
  type ImageEditRequest,
  type ImageFile,
  type ImageGenerateRequest,
  type ImageResult,
  type ImagesApi,
  type ImageUsage,
} from './images';
export {
  buildGeminiBody,
  createGeminiApi,
  parseGeminiResponse,
  requireGeminiImages,
  type GeminiApi,
  type GeminiGenerateRequest,
  type GeminiInputImage,
  type GeminiPart,
  type GeminiResult,
  type GeminiUsage,
} from './gemini';
export {
  createChatApi,
  parseChatCompletion,
  type ChatApi,
  type ChatCompletionResult,
  type ChatMessage,
  type ChatStreamOptions,
  type ChatStreamRequest,
  type ChatUsage,
} from './chat';
export { extractMediaLinks, type MediaLink } from './media-links';
export { parseSseText, SseParser, type SseEvent, type SseParserOptions } from './sse';
export {
  createAccountApi,
  parseModelList,
  QUOTA_UNITS_PER_USD,
  type AccountApi,
  type Balance,
  type GatewayModel,
} from './account';
export { decodeDataUrl, download, type DownloadOptions, type DownloadResult } from './download';
