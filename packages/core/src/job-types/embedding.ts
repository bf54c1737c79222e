import { z } from 'zod';
import { idSchema } from '../ids';
import { modelSchema, type JobClocks, type JobTypeSpec } from './common';

/** A batch waits for its chunks, which wait for the lane's rate limit: long clocks. */
const EMBEDDING_CLOCKS: JobClocks = { ttlSec: 86_400, inactivitySec: 1_800, deadlineSec: 86_400 };

export const EMBEDDING_MAX_INLINE_INPUTS = 10_000;
export const EMBEDDING_MAX_FILE_LINES = 1_000_000;
export const EMBEDDING_MIN_CHUNK_SIZE = 10;
export const EMBEDDING_MAX_CHUNK_SIZE = 2_048;
/** OpenAI's limit for one input, in estimated tokens. */
export const EMBEDDING_MAX_INPUT_TOKENS = 8_192;
/** Tokens per request we aim below (the gateway refuses over 300 000). */
export const EMBEDDING_REQUEST_TOKEN_BUDGET = 250_000;
/** Gemini's batchEmbedContents takes at most this many requests. */
export const GEMINI_MAX_BATCH = 100;
export const CUSTOM_ID_MAX_CHARS = 256;
/** A batch file line longer than this is refused unread (an 8 192-token input fits many times over). */
export const BATCH_MAX_LINE_BYTES = 1024 * 1024;

/** The gateway's (and the simulator's) estimate: ceil(chars / 4). */
export const estimateEmbeddingTokens = (text: string): number => Math.ceil(text.length / 4);

export const isGeminiModel = (model: string): boolean => model.toLowerCase().startsWith('gemini');

const tooLong = `must be at most ${EMBEDDING_MAX_INPUT_TOKENS} tokens (estimated as characters / 4)`;
const inputTextSchema = z
  .string()
  .min(1, 'must not be empty')
  .refine((text) => estimateEmbeddingTokens(text) <= EMBEDDING_MAX_INPUT_TOKENS, tooLong);

export const EmbeddingBatchInputSchema = z
  .strictObject({
    model: modelSchema.default('text-embedding-3-small'),
    inputs: z.array(inputTextSchema).min(1, 'needs at least one input').max(EMBEDDING_MAX_INLINE_INPUTS).optional(),
    /** a JSONL upload (purpose batch) of `{"custom_id", "input"}` lines */
    file_id: idSchema('file', 'a file id').optional(),
    dimensions: z.int().min(1).max(4_096).optional(),
    /**
     * inputs per gateway request: at least 10, so a 1,000,000-line file cannot become a million
     * chunks (rows and queue entries); at most 2,048, the gateway's per-request input limit
     */
    chunk_size: z.int().min(EMBEDDING_MIN_CHUNK_SIZE).max(EMBEDDING_MAX_CHUNK_SIZE).default(100),
    /** Gemini only: RETRIEVAL_DOCUMENT, SEMANTIC_SIMILARITY, … */
    task_type: z.string().max(64).optional(),
  })
  .superRefine((input, ctx) => {
    if ((input.inputs === undefined) === (input.file_id === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['inputs'], message: 'give either inputs or file_id (exactly one)' });
    }
  });
export type EmbeddingBatchInput = z.infer<typeof EmbeddingBatchInputSchema>;

export type BatchLine = { customId: string; input: string };
export type BatchLineResult = { ok: true; value: BatchLine } | { ok: false; message: string };

/** One line of a batch JSONL file; blank lines are skipped by callers before this. */
export function parseBatchLine(line: string): BatchLineResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, message: 'not valid JSON' };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, message: 'must be a JSON object' };
  const record = value as Record<string, unknown>;
  const customId = record['custom_id'];
  const input = record['input'];
  if (typeof customId !== 'string' || customId.length === 0) return { ok: false, message: 'custom_id must be a non-empty string' };
  if (customId.length > CUSTOM_ID_MAX_CHARS) return { ok: false, message: `custom_id must be at most ${CUSTOM_ID_MAX_CHARS} characters` };
  if (typeof input !== 'string' || input.length === 0) return { ok: false, message: 'input must be a non-empty string' };
  if (estimateEmbeddingTokens(input) > EMBEDDING_MAX_INPUT_TOKENS) return { ok: false, message: `input ${tooLong}` };
  const extra = Object.keys(record).filter((key) => key !== 'custom_id' && key !== 'input');
  if (extra.length > 0) return { ok: false, message: `unknown field ${extra[0]}` };
  return { ok: true, value: { customId, input } };
}

export const isBlankLine = (line: string): boolean => line.trim().length === 0;

export const EMBEDDING_JOB_TYPES = [
  { type: 'embedding.batch', family: 'embedding', input: EmbeddingBatchInputSchema, clocks: EMBEDDING_CLOCKS, isGatewayTask: false },
] as const satisfies readonly JobTypeSpec[];
