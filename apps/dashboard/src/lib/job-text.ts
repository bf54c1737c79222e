import type { Job } from '../api/types';

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function messageText(messages: unknown): string | null {
  if (!Array.isArray(messages)) return null;
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const m = asRecord(messages[i]);
    if (m['role'] !== 'user') continue;
    if (typeof m['content'] === 'string') return m['content'];
    if (Array.isArray(m['content'])) {
      const part = m['content'].map(asRecord).find((p) => typeof p['text'] === 'string');
      if (part) return String(part['text']);
    }
  }
  return null;
}

function describeMedia(source: unknown): string | null {
  const media = asRecord(Array.isArray(source) ? source[0] : source);
  const id = media['artifact_id'] ?? media['file_id'] ?? media['url'];
  if (typeof id !== 'string') return null;
  const more = Array.isArray(source) && source.length > 1 ? ` +${source.length - 1}` : '';
  return `${id}${more}`;
}

/** The job's own words (prompt, speech text, last user message), when it has any. */
export function jobPrompt(job: Pick<Job, 'type' | 'input'>): string | null {
  const input = asRecord(job.input);
  if (typeof input['prompt'] === 'string' && input['prompt']) return input['prompt'];
  if (job.type === 'audio.speech' && typeof input['input'] === 'string') return input['input'];
  if (job.type === 'audio.gemini_speech' && typeof input['text'] === 'string') return input['text'];
  return messageText(input['messages']);
}

/** One line saying what the job is about: its prompt, text, or inputs. */
export function jobSummary(job: Pick<Job, 'type' | 'input'>): string {
  const input = asRecord(job.input);
  const prompt = jobPrompt(job);
  if (prompt) return prompt;
  if (job.type.startsWith('audio.')) {
    const audio = describeMedia(input['audio']);
    if (audio) return `audio ${audio}`;
  }
  const media = describeMedia(input['image'] ?? input['images']);
  if (media) return `image ${media}`;
  if (job.type === 'embedding.batch') {
    if (Array.isArray(input['inputs'])) return `${input['inputs'].length} inputs · ${String(input['model'] ?? 'text-embedding-3-small')}`;
    if (typeof input['file_id'] === 'string') return `file ${input['file_id']}`;
  }
  if (job.type === 'mj.action' && typeof input['custom_id'] === 'string') {
    // MJ::JOB::upsample::1::<hash> → "upsample 1"
    const parts = input['custom_id'].split('::');
    const action = parts.length >= 4 ? `${parts[2]} ${parts[3]}` : input['custom_id'];
    return `${action.replaceAll('_', ' ')} of …${String(input['job_id'] ?? '').slice(-10)}`;
  }
  if (typeof input['model'] === 'string') return input['model'];
  return '';
}

export function jobDurationMs(job: Pick<Job, 'started_at' | 'finished_at' | 'created_at'>, nowMs: number): number | null {
  if (!job.started_at) return null;
  const end = job.finished_at ? Date.parse(job.finished_at) : nowMs;
  return end - Date.parse(job.started_at);
}
