import { publicBlobUrl } from '../blob-url';
import type { CatalogModel } from '../catalog';
import { mediaSeed } from '../media/seeds';
import { createImageBlob, createVideoBlob, pngBase64 } from '../media/produce';
import { clip, estimateTokens, findBannedWord } from '../prompt';
import type { SimulatorState } from '../state';

/** What a chat answer will say, step by step; streamed as deltas or joined for a plain answer. */
export type ChatScript = {
  /** Each entry is one delta; `isPaced` entries are preceded by a pause of `streamStepMs`. */
  steps: { content: string; isPaced: boolean }[];
  finishReason: 'stop' | 'content_filter';
  completionTokens: number;
  mediaCount: number;
};

export type ChatPrompt = { text: string; inputSha256s: string[] };

const step = (content: string, isPaced = false) => ({ content, isPaced });

/** Families that can answer on `/v1/chat/completions`. */
export const CHAT_FAMILIES = new Set(['chat-text', 'gemini-text', 'gemini-image', 'chat-image-link', 'chat-video-link']);

/**
 * The simulated CDN: the same server under the other loopback name, so its links are not on the
 * gateway's origin (providers' CDNs never are, and genqueue refuses to fetch a printed link there).
 */
export function cdnBaseUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  if (url.hostname === '127.0.0.1') url.hostname = 'localhost';
  else if (url.hostname === 'localhost') url.hostname = '127.0.0.1';
  return url.href.replace(/\/+$/, '');
}

// "print these links: URL URL …" makes a chat model answer with each URL as a markdown image, as a
// model can be talked into printing any link (tests of what genqueue does with hostile links).
const PRINT_LINKS = /print (?:these|the) links?:\s*([^\n]+)/i;
const MAX_PRINTED_LINKS = 40;

function printedLinks(text: string): string[] {
  const list = PRINT_LINKS.exec(text)?.[1];
  if (!list) return [];
  return list
    .split(/\s+/)
    .filter((word) => /^https?:\/\/\S+$/.test(word))
    .slice(0, MAX_PRINTED_LINKS);
}

/**
 * Gemini image models put the image inline as a data URL in one delta (docs/gateway.md §6);
 * reverse-proxied image/video models print progress, then a link to the simulator's blobs.
 */
export function buildChatScript(state: SimulatorState, model: CatalogModel, prompt: ChatPrompt, baseUrl: string): ChatScript {
  const seed = mediaSeed(model.id, prompt.text, 0, prompt.inputSha256s);
  const isBanned = findBannedWord(prompt.text, state.options.bannedWords) !== null;

  if (model.family === 'gemini-image' && !prompt.text.toLowerCase().includes('text only')) {
    if (isBanned) return textScript("I can't generate that image.", 'content_filter');
    const content = `Here is your image:\n![image](data:image/png;base64,${pngBase64(state, seed)})`;
    return { steps: [step(content)], finishReason: 'stop', completionTokens: 1290 + 5, mediaCount: 1 };
  }
  if (model.family === 'chat-image-link' || model.family === 'chat-video-link') {
    const isVideo = model.family === 'chat-video-link';
    const link = isVideo
      ? `[video](${publicBlobUrl(cdnBaseUrl(baseUrl), createVideoBlob(state, seed))})`
      : `![image](${publicBlobUrl(cdnBaseUrl(baseUrl), createImageBlob(state, seed, false))})`;
    const steps = [
      step(`\`\`\`json\n${JSON.stringify({ prompt: prompt.text, ratio: '1:1', n: 1 }, null, 2)}\n\`\`\`\n\n`),
      step('> 🕐 排队中.\n\n', true),
      step('> ⚡ 生成中', true),
      ...[25, 50, 75, 100].map((pct) => step(`\n> 🏃 进度 ${pct}%`, true)),
      step(`\n\n> ✅ ${isVideo ? '视频' : '图片'}生成完成\n\n`, true),
      step(`${link}\n\n`),
    ];
    return { steps, finishReason: 'stop', completionTokens: estimateTokens(steps.map((s) => s.content).join('')), mediaCount: 1 };
  }
  if (isBanned) return textScript('I cannot help with that request.', 'content_filter');
  const links = printedLinks(prompt.text);
  if (links.length > 0) {
    const text = `Here you are:\n\n${links.map((link, i) => `![image ${i + 1}](${link})`).join('\n')}\n`;
    return { steps: [step(text)], finishReason: 'stop', completionTokens: estimateTokens(text), mediaCount: links.length };
  }
  const reply = `This is a simulated reply to: ${clip(prompt.text)}`;
  // models do print U+0000 now and then, and gateways relay it: a prompt saying NUL_TEXT gets one
  return textScript(prompt.text.includes(NUL_TEXT) ? reply.replace('simulated ', 'simulated\u0000 ') : reply, 'stop');
}

/** A prompt containing this gets a text reply with U+0000 in it (`\u0000` in the JSON); for tests of what stores gateway text. */
export const NUL_TEXT = 'NUL_TEXT';

function textScript(text: string, finishReason: ChatScript['finishReason']): ChatScript {
  const words = text.split(/(?<= )/);
  const third = Math.max(1, Math.ceil(words.length / 3));
  const steps = [0, 1, 2]
    .map((i) => words.slice(i * third, (i + 1) * third).join(''))
    .filter(Boolean)
    .map((content, i) => step(content, i > 0));
  return { steps, finishReason, completionTokens: estimateTokens(text), mediaCount: 0 };
}
