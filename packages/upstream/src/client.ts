import { createAccountApi, type AccountApi } from './account';
import { createAudioApi, type AudioApi } from './audio';
import { createChatApi, type ChatApi } from './chat';
import { download, downloadStream, setPublicDispatcher, type DownloadOptions, type DownloadResult, type DownloadStream } from './download';
import { createEmbeddingsApi, type EmbeddingsApi } from './embeddings';
import { createGeminiApi, type GeminiApi } from './gemini';
import { UpstreamHttp, type UpstreamTimeouts } from './http';
import { createImagesApi, type ImagesApi } from './images';
import { createMjApi, type MjApi } from './mj';
import type { RequestGate } from './request-gate';
import type { TaskTimeouts } from './task-common';
import { createVideosApi, type VideosApi } from './videos';
import type { Dispatcher } from 'undici';

export interface UpstreamClientOptions {
  /** Gateway root, e.g. `https://gw.example.com` (a path prefix is kept). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <key>`, only to the gateway's own origin. */
  apiKey?: string;
  timeouts?: Partial<UpstreamTimeouts>;
  /** Cap on any response body read into memory (default 64 MiB). */
  maxResponseBytes?: number;
  userAgent?: string;
  /** Default URL guard for `download` (SSRF protection); a per-call guard replaces it. */
  assertUrlAllowed?: (url: URL) => Promise<void>;
  /** An undici dispatcher to share (proxy, custom pool); by default the client owns an Agent. */
  dispatcher?: Dispatcher;
  /**
   * Downloads off the gateway's origin (CDN links, tenants' URLs, links in model answers) go
   * through this one, never `dispatcher`: pass the connect-time SSRF guard. `close()` closes it too.
   */
  publicDispatcher?: Dispatcher;
  /** Video and MJ call limits (submit 60 s, polls 15 s by default). */
  taskTimeouts?: Partial<TaskTimeouts>;
  /** Paces requests per gateway lane and holds lanes during outages (see RequestGate). */
  gate?: RequestGate;
}

/** The gateway client: one object per API family over one shared connection pool. */
export interface UpstreamClient {
  readonly http: UpstreamHttp;
  readonly images: ImagesApi;
  readonly gemini: GeminiApi;
  readonly chat: ChatApi;
  readonly account: AccountApi;
  readonly audio: AudioApi;
  readonly embeddings: EmbeddingsApi;
  readonly videos: VideosApi;
  readonly mj: MjApi;
  /** Fetches a result URL (http(s) or `data:`); 403/404/410 is an UpstreamError of kind `not_found`. */
  download(url: string, options?: DownloadOptions): Promise<DownloadResult>;
  /** As `download`, the body handed over as it arrives. */
  downloadStream(url: string, options?: DownloadOptions): Promise<DownloadStream>;
  /** Closes the connection pool (when the client owns it). */
  close(): Promise<void>;
}

export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const http = new UpstreamHttp({
    baseUrl: options.baseUrl,
    ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
    ...(options.timeouts !== undefined ? { timeouts: options.timeouts } : {}),
    ...(options.maxResponseBytes !== undefined ? { maxResponseBytes: options.maxResponseBytes } : {}),
    ...(options.userAgent !== undefined ? { userAgent: options.userAgent } : {}),
    ...(options.dispatcher !== undefined ? { dispatcher: options.dispatcher } : {}),
    ...(options.gate !== undefined ? { gate: options.gate } : {}),
  });
  if (options.publicDispatcher !== undefined) setPublicDispatcher(http, options.publicDispatcher);
  const defaultGuard = options.assertUrlAllowed;
  return {
    http,
    images: createImagesApi(http),
    gemini: createGeminiApi(http),
    chat: createChatApi(http),
    account: createAccountApi(http),
    audio: createAudioApi(http),
    embeddings: createEmbeddingsApi(http),
    videos: createVideosApi(http, taskApiOptions(options)),
    mj: createMjApi(http, taskApiOptions(options)),
    download: (url, downloadOptions = {}) => {
      const guard = downloadOptions.assertUrlAllowed ?? defaultGuard;
      return download(http, url, { ...downloadOptions, ...(guard !== undefined ? { assertUrlAllowed: guard } : {}) });
    },
    downloadStream: (url, downloadOptions = {}) => {
      const guard = downloadOptions.assertUrlAllowed ?? defaultGuard;
      return downloadStream(http, url, { ...downloadOptions, ...(guard !== undefined ? { assertUrlAllowed: guard } : {}) });
    },
    close: async () => {
      await http.close();
      await options.publicDispatcher?.close();
    },
  };
}

function taskApiOptions(options: UpstreamClientOptions): { timeouts?: Partial<TaskTimeouts>; assertUrlAllowed?: (url: URL) => Promise<void> } {
  return {
    ...(options.taskTimeouts !== undefined ? { timeouts: options.taskTimeouts } : {}),
    ...(options.assertUrlAllowed !== undefined ? { assertUrlAllowed: options.assertUrlAllowed } : {}),
  };
}
