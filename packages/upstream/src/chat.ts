import { classifyUpstreamFailure, detectErrorEnvelope, UpstreamError } from './errors';
import { errorFromHttpResponse, readResponse, type CallOptions, type HttpStream, type UpstreamHttp } from './http';
import { asArray, asNumber, asRecord, asText, compact, type JsonRecord } from './lenient';
import { parseJsonResponse } from './response';
import { SseParser } from './sse';

/**
 * Streaming chat completions (§6): `POST /v1/chat/completions` with `stream: true`. Image and video
 * models answer with markdown media links inside the text; see `extractMediaLinks`.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | (string & {});
  /** Text, or OpenAI content parts (`{type:'text'}`, `{type:'image_url'}`, …). */
  content: string | Array<Record<string, unknown>>;
}

export interface ChatStreamRequest {
  model: string;
  messages: ChatMessage[];
  /** Other body keys (`temperature`, `modalities`, …); `model`, `messages` and `stream` win. */
  extra?: Record<string, unknown>;
}

export interface ChatStreamOptions extends CallOptions {
  /** Called with each text delta as it arrives (may be several MB for an inline image). */
  onText?: (delta: string) => void;
}

export interface ChatUsage {
  promptTokens?: number;
  completionTokens?: number;
  totalTokens?: number;
}

export interface ChatCompletionResult {
  /** All `delta.content` joined (or `message.content` of a non-streamed answer). */
  text: string;
  finishReason?: string;
  usage?: ChatUsage;
  model?: string;
}

export interface ChatApi {
  /**
   * Streams one completion and returns the joined text. Throws UpstreamError for HTTP failures,
   * error envelopes inside the stream, and a stream that ends before `[DONE]` or a finish reason.
   */
  streamCompletion(request: ChatStreamRequest, options?: ChatStreamOptions): Promise<ChatCompletionResult>;
}

export function createChatApi(http: UpstreamHttp): ChatApi {
  return {
    async streamCompletion(request, options = {}) {
      const { onText, ...callOptions } = options;
      const stream = await http.stream({
        ...callOptions,
        method: 'POST',
        path: '/v1/chat/completions',
        json: { ...request.extra, model: request.model, messages: request.messages, stream: true },
        headers: { accept: 'text/event-stream, application/json' },
        profile: 'stream',
      });
      if (stream.status < 200 || stream.status >= 300) throw errorFromHttpResponse(await readResponse(stream));
      return consumeChatStream(stream, onText);
    },
  };
}

type BodyMode = 'sse' | 'json';

function modeFromContentType(contentType: string | undefined): BodyMode | undefined {
  if (contentType === undefined) return undefined;
  if (/text\/event-stream/i.test(contentType)) return 'sse';
  if (/application\/(?:[\w.+-]*\+)?json/i.test(contentType)) return 'json';
  return undefined;
}

/** Some gateways answer plain JSON even with `stream: true`, or SSE with a wrong content type. */
function sniffMode(chunk: Buffer): BodyMode | undefined {
  for (const byte of chunk) {
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09 || byte === 0xef || byte === 0xbb || byte === 0xbf) continue;
    return byte === 0x7b /* { */ || byte === 0x5b /* [ */ ? 'json' : 'sse';
  }
  return undefined;
}

async function consumeChatStream(stream: HttpStream, onText: ChatStreamOptions['onText']): Promise<ChatCompletionResult> {
  const accumulator = new ChatAccumulator(onText, stream.requestId);
  let mode = modeFromContentType(stream.contentType);
  const jsonChunks: Buffer[] = [];
  let isDone = false;
  const parser = new SseParser({
    onEvent: (event) => {
      if (isDone) return;
      if (event.data.length < 32 && event.data.trim() === '[DONE]') {
        isDone = true;
        return;
      }
      accumulator.addEvent(event.data, event.event);
    },
  });

  for await (const chunk of stream.body) {
    if (mode === undefined) mode = sniffMode(chunk);
    if (mode === 'json' || mode === undefined) {
      jsonChunks.push(chunk);
      continue;
    }
    if (jsonChunks.length > 0) {
      for (const pending of jsonChunks.splice(0)) parser.push(pending);
    }
    parser.push(chunk);
    if (isDone) break;
  }

  if (mode !== 'sse') {
    const body = Buffer.concat(jsonChunks);
    const json = parseJsonResponse(
      {
        status: stream.status,
        headers: stream.headers,
        url: stream.url,
        body,
        bodyText: () => body.toString('utf8'),
        ...(stream.contentType !== undefined ? { contentType: stream.contentType } : {}),
        ...(stream.requestId !== undefined ? { requestId: stream.requestId } : {}),
      },
      'chat.completions',
    );
    return parseChatCompletion(json, onText);
  }

  if (!isDone) parser.end();
  const result = accumulator.result();
  if (!isDone && result.finishReason === undefined) {
    throw new UpstreamError({
      kind: 'retryable',
      httpStatus: stream.status,
      ...(stream.requestId !== undefined ? { requestId: stream.requestId } : {}),
      message: 'chat stream ended before [DONE] and without a finish_reason',
    });
  }
  return result;
}

class ChatAccumulator {
  private readonly pieces: string[] = [];
  private finishReason: string | undefined;
  private usage: ChatUsage | undefined;
  private model: string | undefined;

  constructor(
    private readonly onText: ChatStreamOptions['onText'],
    private readonly requestId: string | undefined,
  ) {}

  addEvent(data: string, eventType: string | undefined): void {
    let json: unknown;
    try {
      json = JSON.parse(data) as unknown;
    } catch {
      // Keep-alive noise from proxies ("data: ok"); a real error arrives as JSON.
      return;
    }
    if (eventType === 'error' || detectErrorEnvelope(json)) {
      throw new UpstreamError(
        classifyUpstreamFailure({ status: 200, bodyText: data, ...(this.requestId !== undefined ? { requestId: this.requestId } : {}) }),
      );
    }
    const chunk = asRecord(json);
    if (!chunk) return;
    this.model ??= asText(chunk['model']);
    for (const item of asArray(chunk['choices'])) {
      const choice = asRecord(item);
      if (!choice || (choice['index'] !== undefined && choice['index'] !== 0)) continue;
      const delta = asRecord(choice['delta']) ?? asRecord(choice['message']);
      const text = contentText(delta?.['content']);
      if (text !== '') {
        this.pieces.push(text);
        this.onText?.(text);
      }
      const finish = asText(choice['finish_reason']);
      if (finish !== undefined) this.finishReason = finish;
    }
    const usage = asRecord(chunk['usage']);
    if (usage) this.usage = toUsage(usage);
  }

  result(): ChatCompletionResult {
    return compact<ChatCompletionResult>({ text: this.pieces.join(''), finishReason: this.finishReason, usage: this.usage, model: this.model });
  }
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  let text = '';
  for (const item of asArray(content)) {
    const part = asRecord(item);
    if (part && typeof part['text'] === 'string') text += part['text'];
  }
  return text;
}

function toUsage(usage: JsonRecord): ChatUsage {
  return compact<ChatUsage>({
    promptTokens: asNumber(usage['prompt_tokens']),
    completionTokens: asNumber(usage['completion_tokens']),
    totalTokens: asNumber(usage['total_tokens']),
  });
}

/** Reads a non-streamed `chat.completion` object. */
export function parseChatCompletion(json: unknown, onText?: (delta: string) => void): ChatCompletionResult {
  const body = asRecord(json) ?? {};
  const choice = asRecord(asArray(body['choices'])[0]);
  const message = asRecord(choice?.['message']) ?? asRecord(choice?.['delta']);
  const text = contentText(message?.['content']);
  if (text !== '') onText?.(text);
  const usage = asRecord(body['usage']);
  return compact<ChatCompletionResult>({
    text,
    finishReason: asText(choice?.['finish_reason']),
    usage: usage ? toUsage(usage) : undefined,
    model: asText(body['model']),
  });
}
