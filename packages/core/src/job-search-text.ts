/** search_text is for finding a job by words of its input, not a copy of it: long inputs are cut. */
export const SEARCH_TEXT_MAX_CHARS = 2_000;
/** An embedding batch can hold 10,000 inputs; the first few say what it is about. */
export const SEARCH_TEXT_EMBEDDING_INPUTS = 5;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const stringOf = (value: unknown): string[] => (typeof value === 'string' ? [value] : []);

/** The text of one chat message: string content, or the `text` of its text parts. */
function messageText(message: unknown): string[] {
  if (!isRecord(message)) return [];
  const content = message['content'];
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [];
  return content.flatMap((part) => (isRecord(part) && part['type'] === 'text' ? stringOf(part['text']) : []));
}

/** The free text a job of `type` was given, by where each type keeps it. */
function textsOf(type: string, input: Record<string, unknown>): string[] {
  if (type === 'audio.speech') return stringOf(input['input']);
  if (type === 'audio.gemini_speech') return stringOf(input['text']);
  if (type === 'media.chat') return Array.isArray(input['messages']) ? input['messages'].flatMap(messageText) : [];
  if (type === 'embedding.batch') {
    return Array.isArray(input['inputs']) ? input['inputs'].slice(0, SEARCH_TEXT_EMBEDDING_INPUTS).flatMap(stringOf) : [];
  }
  // image.*, video.generate, mj.imagine/modal, audio transcription hints: the prompt
  return stringOf(input['prompt']);
}

/**
 * What `jobs.search_text` holds for a job: the lower-cased words of its text input, one space
 * between words, at most SEARCH_TEXT_MAX_CHARS characters (cut at a word boundary when one is
 * near), or null when the job has no text (mj.blend, mj.describe, a file-based batch, …).
 * Searches match words case-insensitively inside this text.
 */
export function jobSearchText(type: string, input: unknown): string | null {
  if (!isRecord(input)) return null;
  const words = textsOf(type, input)
    .join(' ')
    .toLowerCase()
    .split(/\s+/)
    .filter((word) => word.length > 0);
  if (words.length === 0) return null;
  let text = words.join(' ');
  if (text.length > SEARCH_TEXT_MAX_CHARS) {
    const cut = text.slice(0, SEARCH_TEXT_MAX_CHARS);
    const lastSpace = cut.lastIndexOf(' ');
    text = lastSpace > SEARCH_TEXT_MAX_CHARS * 0.8 ? cut.slice(0, lastSpace) : cut;
  }
  return text;
}
