import { z } from 'zod';
import { MediaSourceSchema } from '../media-source';
import { modelSchema, promptSchema, type JobClocks, type JobTypeSpec } from './common';

const IMAGE_CLOCKS: JobClocks = { ttlSec: 86_400, inactivitySec: 300, deadlineSec: 600 };

/** `1024x1024`, `auto`, or a provider's own form such as qwen's `1328*1328`. */
const sizeSchema = z
  .string()
  .regex(/^(auto|\d{2,5}[x*]\d{2,5})$/, 'must look like 1024x1024 or auto');

export const ImageGenerateInputSchema = z.strictObject({
  prompt: promptSchema,
  model: modelSchema.default('gpt-image-1'),
  n: z.int().min(1).max(10).default(1),
  size: sizeSchema.optional(),
  quality: z.enum(['auto', 'low', 'medium', 'high', 'standard', 'hd']).optional(),
  response_format: z.enum(['url', 'b64_json']).optional(),
  background: z.enum(['auto', 'transparent', 'opaque']).optional(),
  output_format: z.enum(['png', 'jpeg', 'webp']).optional(),
});
export type ImageGenerateInput = z.infer<typeof ImageGenerateInputSchema>;

export const ImageEditInputSchema = z.strictObject({
  prompt: promptSchema,
  images: z.array(MediaSourceSchema).min(1, 'needs at least one image').max(16),
  mask: MediaSourceSchema.optional(),
  model: modelSchema.default('gpt-image-1'),
  n: z.int().min(1).max(10).default(1),
  size: sizeSchema.optional(),
  quality: z.enum(['auto', 'low', 'medium', 'high', 'standard', 'hd']).optional(),
});
export type ImageEditInput = z.infer<typeof ImageEditInputSchema>;

export const ImageGeminiInputSchema = z.strictObject({
  prompt: promptSchema,
  images: z.array(MediaSourceSchema).max(14).optional(),
  model: modelSchema.default('gemini-2.5-flash-image'),
  aspect_ratio: z.enum(['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', '21:9']).optional(),
});
export type ImageGeminiInput = z.infer<typeof ImageGeminiInputSchema>;

const ChatMessageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() })).min(1)]),
});

export const MediaChatInputSchema = z.strictObject({
  model: modelSchema,
  messages: z.array(ChatMessageSchema).min(1, 'needs at least one message').max(200),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.int().positive().optional(),
});
export type MediaChatInput = z.infer<typeof MediaChatInputSchema>;

export const IMAGE_JOB_TYPES = [
  { type: 'image.generate', family: 'image', input: ImageGenerateInputSchema, clocks: IMAGE_CLOCKS, isGatewayTask: false },
  { type: 'image.edit', family: 'image', input: ImageEditInputSchema, clocks: IMAGE_CLOCKS, isGatewayTask: false },
  { type: 'image.gemini', family: 'image', input: ImageGeminiInputSchema, clocks: IMAGE_CLOCKS, isGatewayTask: false },
  { type: 'media.chat', family: 'image', input: MediaChatInputSchema, clocks: { ...IMAGE_CLOCKS, deadlineSec: 900 }, isGatewayTask: false },
] as const satisfies readonly JobTypeSpec[];
