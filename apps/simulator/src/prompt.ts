/** The first banned word `text` contains (case-insensitive), or null. */
export function findBannedWord(text: string, bannedWords: readonly string[]): string | null {
  const lower = text.toLowerCase();
  return bannedWords.find((word) => word !== '' && lower.includes(word.toLowerCase())) ?? null;
}

/** Rough token count for usage figures: deterministic, about 4 characters a token. */
export const estimateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

export const clip = (text: string, max = 80): string => (text.length > max ? `${text.slice(0, max)}…` : text);
