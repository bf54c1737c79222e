import type { ChatUsage, GeminiUsage, ImageUsage } from '@genqueue/upstream';

/**
 * Token usage as it goes into a job's output. Outputs are served as stored, so they are built in
 * the wire form (snake_case) here, never from the client's camelCase objects.
 */
type WireUsage = Record<string, number>;

function present(entries: Array<[string, number | undefined]>): WireUsage | undefined {
  const out: WireUsage = {};
  for (const [name, value] of entries) if (value !== undefined) out[name] = value;
  return Object.keys(out).length > 0 ? out : undefined;
}

export const imageUsage = (usage: ImageUsage | undefined): WireUsage | undefined =>
  usage &&
  present([
    ['input_tokens', usage.inputTokens],
    ['output_tokens', usage.outputTokens],
    ['total_tokens', usage.totalTokens],
  ]);

export const geminiUsage = (usage: GeminiUsage | undefined): WireUsage | undefined =>
  usage &&
  present([
    ['prompt_tokens', usage.promptTokens],
    ['candidates_tokens', usage.candidatesTokens],
    ['total_tokens', usage.totalTokens],
  ]);

export const chatUsage = (usage: ChatUsage | undefined): WireUsage | undefined =>
  usage &&
  present([
    ['prompt_tokens', usage.promptTokens],
    ['completion_tokens', usage.completionTokens],
    ['total_tokens', usage.totalTokens],
  ]);

/** `{usage}` when there is any, else nothing: spread into an output object. */
export const usageField = (usage: WireUsage | undefined): { usage?: WireUsage } => (usage ? { usage } : {});
