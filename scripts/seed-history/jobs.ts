/**
 * One seeded job and everything it leaves behind: its row, its events (created, started, final;
 * seq and event_seq agreeing), its artifacts, the job_attempts of its failed runs, and its webhook
 * deliveries with their attempts. Shapes follow what the API and worker write.
 */
import { findJobType, jobSearchText, toPublicJob, ulid, type JobRecord } from '@genqueue/core';
import type { Random } from './random';
import type { SeedBatch } from './tables';
import { chatAsk, embeddingDoc, imagePrompt, speechText } from './vocabulary';

export type SeedProject = { id: string; weight: number; endpoint: { id: string; url: string; eventTypes: string[] } | null };

type Outcome = 'succeeded' | 'failed' | 'canceled' | 'expired';

const TYPE_WEIGHTS = {
  'image.generate': 34,
  'image.edit': 5,
  'image.gemini': 8,
  'media.chat': 7,
  'video.generate': 10,
  'mj.imagine': 12,
  'mj.action': 5,
  'mj.modal': 1,
  'mj.blend': 2,
  'mj.describe': 2,
  'audio.transcribe': 4,
  'audio.translate': 1,
  'audio.speech': 6,
  'embedding.batch': 3,
} as const;
type JobType = keyof typeof TYPE_WEIGHTS;

/** Mean upstream run time per type, in seconds (video and MJ are tasks polled for minutes). */
const RUN_MEAN_SEC: Record<JobType, number> = {
  'image.generate': 14,
  'image.edit': 18,
  'image.gemini': 9,
  'media.chat': 22,
  'video.generate': 240,
  'mj.imagine': 75,
  'mj.action': 50,
  'mj.modal': 80,
  'mj.blend': 70,
  'mj.describe': 15,
  'audio.transcribe': 12,
  'audio.translate': 12,
  'audio.speech': 4,
  'embedding.batch': 90,
};

const ERRORS = {
  upstream_rejected: { retryable: false, messages: ['The prompt was refused by the content policy', '提示词包含敏感内容，请修改后重试', 'Invalid size for this model'] },
  upstream_error: { retryable: true, messages: ['Upstream answered 502 Bad Gateway', 'Upstream answered 500: 当前分组上游负载已饱和，请稍后再试', 'Connection reset by the upstream'] },
  upstream_timeout: { retryable: true, messages: ['No upstream progress for 600 s', 'The job passed its deadline'] },
  invalid_input: { retryable: false, messages: ['The input image could not be read', 'The audio file is not a supported format'] },
} as const;
type ErrorCode = keyof typeof ERRORS;

const USERS = 5_000;
const MODELS: Partial<Record<JobType, string[]>> = {
  'image.generate': ['gpt-image-1', 'gpt-image-1', 'dall-e-3', 'flux-1.1-pro', 'qwen-image'],
  'image.edit': ['gpt-image-1'],
  'video.generate': ['sora-2', 'sora-2', 'sora-2-pro'],
  'media.chat': ['gpt-4o', 'gemini-2.5-flash-image-preview'],
  'audio.speech': ['tts-1', 'tts-1-hd', 'gpt-4o-mini-tts'],
};

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const mediaUrl = (random: Random, ext: string) => ({ url: `https://cdn.example.com/uploads/${random.hex(16)}.${ext}` });

function inputOf(type: JobType, random: Random, parentId: string | null): Record<string, unknown> {
  const model = MODELS[type] ? random.pick(MODELS[type]!) : undefined;
  switch (type) {
    case 'image.generate':
      return { prompt: imagePrompt(random), model, n: random.chance(0.1) ? random.int(2, 4) : 1, size: random.pick(['1024x1024', '1024x1536', '1536x1024', 'auto']), quality: random.pick(['auto', 'high', 'medium']) };
    case 'image.edit':
      return { prompt: imagePrompt(random), images: [mediaUrl(random, 'png')], model, n: 1 };
    case 'image.gemini':
      return { prompt: imagePrompt(random), model: 'gemini-2.5-flash-image', aspect_ratio: random.pick(['1:1', '16:9', '9:16', '4:3']) };
    case 'media.chat':
      return {
        model,
        messages: [
          ...(random.chance(0.3) ? [{ role: 'system', content: 'You are an illustrator. Answer with images.' }] : []),
          random.chance(0.7)
            ? { role: 'user', content: chatAsk(random) }
            : { role: 'user', content: [{ type: 'text', text: chatAsk(random) }, { type: 'image_url', image_url: mediaUrl(random, 'jpg') }] },
        ],
      };
    case 'video.generate':
      return { prompt: imagePrompt(random), model, seconds: random.pick(['4', '8', '12']), size: random.pick(['720x1280', '1280x720']) };
    case 'mj.imagine':
      return { prompt: `${imagePrompt(random)} --ar ${random.pick(['1:1', '16:9', '2:3'])} --v 7`, ...(random.chance(0.2) ? { bot_type: 'NIJI_JOURNEY' } : {}) };
    case 'mj.action':
      return { job_id: parentId, custom_id: `MJ::JOB::${random.pick(['upsample', 'variation', 'reroll'])}::${random.int(1, 4)}::${random.hex(32)}` };
    case 'mj.modal':
      return { job_id: parentId, prompt: imagePrompt(random) };
    case 'mj.blend':
      return { images: [mediaUrl(random, 'png'), mediaUrl(random, 'png')], dimensions: random.pick(['SQUARE', 'PORTRAIT', 'LANDSCAPE']) };
    case 'mj.describe':
      return { image: mediaUrl(random, 'png') };
    case 'audio.transcribe':
    case 'audio.translate':
      return { audio: mediaUrl(random, 'mp3'), model: 'whisper-1', response_format: random.pick(['json', 'json', 'srt', 'text']), ...(random.chance(0.2) ? { prompt: speechText(random) } : {}) };
    case 'audio.speech':
      return { input: speechText(random), voice: random.pick(['alloy', 'nova', 'echo', 'shimmer']), model, response_format: 'mp3' };
    case 'embedding.batch':
      return random.chance(0.6)
        ? { model: 'text-embedding-3-small', inputs: Array.from({ length: random.int(1, 40) }, () => embeddingDoc(random)), chunk_size: 100 }
        : { model: 'text-embedding-3-small', file_id: `file_${ulid()}`, chunk_size: 100 };
  }
}

type ArtifactSpec = { kind: string; contentType: string; bytes: number };

function artifactsOf(type: JobType, input: Record<string, unknown>, random: Random): ArtifactSpec[] {
  const image = (): ArtifactSpec => ({ kind: 'image', contentType: 'image/png', bytes: random.int(400_000, 2_800_000) });
  switch (type) {
    case 'image.generate':
      return Array.from({ length: Number(input['n'] ?? 1) }, image);
    case 'image.edit':
    case 'image.gemini':
    case 'mj.imagine':
    case 'mj.action':
    case 'mj.modal':
    case 'mj.blend':
      return [image()];
    case 'media.chat':
      return random.chance(0.7) ? [image()] : [];
    case 'video.generate':
      return [{ kind: 'video', contentType: 'video/mp4', bytes: random.int(1_500_000, 25_000_000) }];
    case 'audio.speech':
      return [{ kind: 'audio', contentType: 'audio/mpeg', bytes: random.int(20_000, 900_000) }];
    case 'audio.transcribe':
      return input['response_format'] === 'srt' ? [{ kind: 'subtitles', contentType: 'application/x-subrip', bytes: random.int(500, 40_000) }] : [];
    case 'embedding.batch':
      return [{ kind: 'result', contentType: 'application/jsonl', bytes: random.int(50_000, 60_000_000) }];
    default:
      return [];
  }
}

function outputOf(type: JobType, artifactIds: string[], upstreamTaskId: string | null, random: Random): unknown {
  const first = artifactIds[0] ?? null;
  if (type.startsWith('image.')) return { images: artifactIds.map((id) => ({ artifact_id: id })) };
  if (type === 'media.chat') return { text: 'Here is your picture.', media: artifactIds.map((id) => ({ artifact_id: id })) };
  if (type === 'video.generate') return { video: { artifact_id: first }, upstream_id: upstreamTaskId };
  if (type === 'mj.describe') return { prompts: [imagePrompt(random), imagePrompt(random)] };
  if (type.startsWith('mj.')) {
    const buttons = ['U1', 'U2', 'U3', 'U4', 'V1', 'V2', 'V3', 'V4', '🔄'].map((label) => ({ custom_id: `MJ::JOB::${label}::${random.hex(8)}`, label, emoji: '' }));
    return { image: { artifact_id: first }, buttons, upstream_id: upstreamTaskId };
  }
  if (type === 'audio.speech') return { audio: { artifact_id: first } };
  if (type === 'embedding.batch') {
    const count = random.int(1, 2_000);
    return { count, succeeded: count, failed: 0, usage: { prompt_tokens: count * 12, total_tokens: count * 12 }, result: { artifact_id: first } };
  }
  return { text: speechText(random), language: 'en', ...(first ? { subtitles: { artifact_id: first } } : {}) };
}

/** Task kinds carry the gateway's task id: `video_…` for videos, a numeric id for MJ. */
function upstreamTaskIdOf(type: JobType, random: Random): string | null {
  if (type === 'video.generate') return `video_${random.hex(32)}`;
  if (type.startsWith('mj.')) return `${random.int(1_700_000_000, 1_799_999_999)}${String(random.int(0, 999_999)).padStart(6, '0')}`;
  return null;
}

function outcomeOf(type: JobType, random: Random): Outcome {
  const risky = type.startsWith('mj.') || type === 'video.generate';
  return random.weighted({ succeeded: risky ? 84 : 90, failed: risky ? 10 : 5, canceled: 3, expired: 2 });
}

function errorCodeOf(random: Random): ErrorCode {
  return random.weighted({ upstream_rejected: 40, upstream_error: 35, upstream_timeout: 20, invalid_input: 5 });
}

const jobError = (code: ErrorCode, random: Random) => ({ code, message: random.pick(ERRORS[code].messages), retryable: ERRORS[code].retryable });

/** The retry schedule of api.md after the first attempt, in ms. */
const WEBHOOK_RETRY_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

/** Makes the jobs of a project history; keeps recent MJ jobs as parents for follow-ups. */
export class JobHistoryGenerator {
  private readonly mjParents = new Map<string, string[]>();
  /** MJ jobs of the batches that may still be uncommitted: not yet usable as parents (foreign key) */
  private readonly unsettledParents: Array<Array<{ projectId: string; id: string }>> = [[]];

  constructor(
    private readonly random: Random,
    private readonly projects: readonly SeedProject[],
    private readonly nowMs: number,
  ) {}

  /**
   * Starts a new batch. MJ jobs become parents once `batchesInFlight` newer batches were started,
   * so a follow-up never points at a row of a transaction that is still open.
   */
  nextBatch(batchesInFlight: number): void {
    this.unsettledParents.push([]);
    while (this.unsettledParents.length > batchesInFlight + 1) {
      for (const { projectId, id } of this.unsettledParents.shift()!) {
        const parents = this.mjParents.get(projectId) ?? [];
        parents.push(id);
        if (parents.length > 200) parents.shift();
        this.mjParents.set(projectId, parents);
      }
    }
  }

  private pickProject(): SeedProject {
    let target = this.random.next() * this.projects.reduce((sum, p) => sum + p.weight, 0);
    for (const project of this.projects) if ((target -= project.weight) < 0) return project;
    return this.projects[this.projects.length - 1]!;
  }

  /** Adds one job created at `createdMs`, with everything it left behind, to `batch`. */
  add(batch: SeedBatch, createdMs: number): void {
    const random = this.random;
    const project = this.pickProject();
    const parents = this.mjParents.get(project.id) ?? [];
    let type = random.weighted(TYPE_WEIGHTS) as JobType;
    if ((type === 'mj.action' || type === 'mj.modal') && parents.length === 0) type = 'mj.imagine';
    const spec = findJobType(type)!;
    const parentId = type === 'mj.action' || type === 'mj.modal' ? random.pick(parents) : null;
    const id = `job_${ulid(createdMs)}`;
    const input = inputOf(type, random, parentId);
    const ttlSec = random.chance(0.1) ? random.pick([600, 1_800, 3_600]) : spec.clocks.ttlSec;

    // when it would have started and ended; later than now means it is still queued or running
    const outcome = outcomeOf(type, random);
    const queueWaitMs = random.exponential(random.chance(0.03) ? 240_000 : 2_500) + 20;
    const runMs = random.exponential(RUN_MEAN_SEC[type] * 1_000) + 800;
    let startedMs: number | null = createdMs + queueWaitMs;
    let finishedMs: number | null = startedMs + runMs;
    if (outcome === 'expired') {
      startedMs = null;
      finishedMs = createdMs + ttlSec * 1_000;
    } else if (outcome === 'canceled' && random.chance(0.5)) {
      startedMs = null;
      finishedMs = createdMs + random.exponential(60_000) + 500;
    } else if (outcome === 'canceled') {
      finishedMs = startedMs + runMs * random.next();
    }
    let status: string = outcome;
    if (finishedMs > this.nowMs) {
      status = startedMs !== null && startedMs <= this.nowMs ? 'running' : 'queued';
      finishedMs = null;
      if (status === 'queued') startedMs = null;
    }

    const errorCode = status === 'failed' ? errorCodeOf(random) : null;
    // a retryable failure ran up to three times; some successes needed a second run after a rate limit
    const runs = status === 'queued' ? 0 : errorCode && ERRORS[errorCode].retryable ? 3 : status === 'succeeded' && random.chance(0.05) ? 2 : 1;
    const upstreamTaskId = startedMs !== null ? upstreamTaskIdOf(type, random) : null;
    const artifactSpecs = status === 'succeeded' ? artifactsOf(type, input, random) : [];
    const artifactRows = artifactSpecs.map((a) => ({ ...a, id: `art_${ulid(finishedMs!)}`, createdAt: finishedMs! }));
    const output = status === 'succeeded' ? outputOf(type, artifactRows.map((a) => a.id), upstreamTaskId, random) : null;
    const error = errorCode ? jobError(errorCode, random) : status === 'expired' ? { code: 'expired', message: 'The job was not started within its queue TTL', retryable: false } : null;
    const progress = status === 'succeeded' ? 100 : status === 'running' ? random.int(0, 90) : status === 'failed' || status === 'canceled' ? random.int(0, 60) : 0;
    const metadata: Record<string, string> = { user: `u_${Math.floor(Math.pow(random.next(), 2) * USERS)}`, source: random.pick(['web', 'web', 'api', 'batch']) };
    if (random.chance(0.3)) metadata['order'] = `A-${random.int(100_000, 999_999)}`;
    if (random.chance(0.5)) metadata['env'] = random.chance(0.85) ? 'prod' : 'staging';
    const webhookUrl = random.chance(0.25) ? `https://hooks.example.com/genqueue/${project.id.slice(-6).toLowerCase()}` : null;
    const upstreamStatus = upstreamTaskId === null ? null : status === 'succeeded' ? (type.startsWith('mj.') ? 'SUCCESS' : 'completed') : status === 'running' ? (type.startsWith('mj.') ? 'IN_PROGRESS' : 'in_progress') : 'failed';
    const events = eventTimeline(status, createdMs, startedMs, finishedMs);
    const updatedMs = finishedMs ?? startedMs ?? createdMs;

    const record: JobRecord = {
      id, projectId: project.id, type, status, input, output, error, progress, attempts: runs, metadata, priority: random.chance(0.9) ? 5 : random.pick([1, 10]),
      webhookUrl, webhookEvents: [], upstreamTaskId, upstreamStatus, parentId, createdAt: new Date(createdMs), startedAt: startedMs === null ? null : new Date(startedMs), finishedAt: finishedMs === null ? null : new Date(finishedMs),
    };
    batch.jobs.push({
      id, project_id: project.id, type, status, input: JSON.stringify(input), output: output === null ? null : JSON.stringify(output), error: error === null ? null : JSON.stringify(error),
      progress, attempts: runs, metadata: JSON.stringify(metadata), priority: record.priority, webhook_url: webhookUrl, upstream_task_id: upstreamTaskId, upstream_status: upstreamStatus,
      parent_id: parentId, event_seq: events.length, queue_expires_at: iso(createdMs + ttlSec * 1_000), ttl_sec: ttlSec, inactivity_timeout_sec: spec.clocks.inactivitySec,
      deadline_sec: spec.clocks.deadlineSec, deadline_at: iso(startedMs === null ? null : startedMs + spec.clocks.deadlineSec * 1_000), last_progress_at: iso(startedMs === null ? null : updatedMs),
      search_text: jobSearchText(type, input), created_at: iso(createdMs), updated_at: iso(updatedMs), started_at: iso(startedMs), finished_at: iso(finishedMs),
    });

    for (const a of artifactRows) {
      batch.artifacts.push({
        id: a.id, project_id: project.id, job_id: id, kind: a.kind, content_type: a.contentType, bytes: a.bytes, sha256: random.hex(64),
        storage_key: `${project.id}/${a.id}`, source_url: `https://upstream.example.com/files/${random.hex(24)}`, created_at: iso(a.createdAt),
      });
    }

    const publicArtifacts = artifactRows.map((a) => ({ id: a.id, jobId: id, kind: a.kind, contentType: a.contentType, bytes: a.bytes, sha256: '', createdAt: new Date(a.createdAt) }));
    events.forEach((event, i) => {
      const snapshot: JobRecord = {
        ...record,
        status: event.status,
        progress: event.status === status ? progress : 0,
        output: event.status === status ? output : null,
        error: event.status === status ? error : null,
        attempts: event.status === 'queued' ? 0 : Math.max(1, runs),
        startedAt: event.status === 'queued' ? null : record.startedAt,
        finishedAt: event.status === status ? record.finishedAt : null,
      };
      const eventId = `evt_${ulid(event.atMs)}`;
      const data = JSON.stringify(toPublicJob(snapshot, event.status === 'succeeded' ? publicArtifacts : []));
      batch.events.push({ id: eventId, job_id: id, project_id: project.id, seq: i + 1, type: event.type, data, created_at: iso(event.atMs) });
      if (event.type === 'job.created') return;
      if (webhookUrl) this.addDelivery(batch, project.id, id, eventId, event.type, event.atMs, null, webhookUrl, data);
      const endpoint = project.endpoint;
      if (endpoint && endpoint.eventTypes.includes(event.type)) this.addDelivery(batch, project.id, id, eventId, event.type, event.atMs, endpoint.id, endpoint.url, data);
    });

    if (runs > 1 || status === 'failed') {
      const runGapMs = (finishedMs ?? this.nowMs) - (startedMs ?? createdMs);
      for (let attempt = 1; attempt <= runs; attempt++) {
        const last = attempt === runs;
        if (last && status !== 'failed') break;
        const outcome = last ? 'failed' : status === 'succeeded' ? 'rate_limited' : 'retried';
        const attemptError = last && error ? error : outcome === 'rate_limited' ? { code: 'upstream_error', message: 'Upstream answered 429', retryable: true } : jobError(errorCode ?? 'upstream_error', random);
        const at = (startedMs ?? createdMs) + (runGapMs * attempt) / runs;
        batch.jobAttempts.push({ id: `jat_${ulid(at)}`, job_id: id, attempt, outcome, error: JSON.stringify(attemptError), created_at: iso(at) });
      }
    }

    if (status === 'succeeded' && type === 'mj.imagine') this.unsettledParents[this.unsettledParents.length - 1]!.push({ projectId: project.id, id });
  }

  /** A delivery of one event: most succeed at once, some after retries, a few fail every attempt. */
  private addDelivery(batch: SeedBatch, projectId: string, jobId: string, eventId: string, eventType: string, atMs: number, endpointId: string | null, url: string, data: string): void {
    const random = this.random;
    const id = `whd_${ulid(atMs)}`;
    const receiverDown = random.chance(0.01);
    const failuresBeforeSuccess = receiverDown ? Infinity : random.chance(0.05) ? random.int(1, 3) : 0;
    let attemptAt = atMs + random.int(30, 400);
    let attempts = 0;
    let status = 'pending';
    let nextAttemptAt: number | null = attemptAt;
    let lastAttemptAt = atMs;
    while (attemptAt <= this.nowMs) {
      attempts += 1;
      lastAttemptAt = attemptAt;
      const ok = attempts > failuresBeforeSuccess;
      const durationMs = ok ? random.int(15, 400) : random.int(10, 10_000);
      const timedOut = !ok && durationMs >= 10_000;
      batch.webhookAttempts.push({
        id: `wha_${ulid(attemptAt)}`, delivery_id: id, at: iso(attemptAt), status_code: ok ? 200 : timedOut ? null : random.pick([500, 502, 503, 404]),
        duration_ms: durationMs, error: ok ? null : timedOut ? 'timeout after 10000 ms' : 'non-2xx answer', response_body: ok ? 'ok' : timedOut ? null : '<html><body>Bad Gateway</body></html>',
      });
      if (ok) {
        status = 'succeeded';
        nextAttemptAt = null;
        break;
      }
      const delay = WEBHOOK_RETRY_MS[attempts - 1];
      if (delay === undefined) {
        status = 'failed';
        nextAttemptAt = null;
        break;
      }
      attemptAt += delay;
      nextAttemptAt = attemptAt;
    }
    batch.deliveries.push({
      id, project_id: projectId, job_id: jobId, event_id: eventId, endpoint_id: endpointId, webhook_id: `msg_${ulid(atMs)}`, event_type: eventType, url,
      payload: `{"type":${JSON.stringify(eventType)},"timestamp":${JSON.stringify(iso(atMs))},"data":${data}}`, status, attempt_count: attempts,
      next_attempt_at: iso(nextAttemptAt), created_at: iso(atMs), updated_at: iso(lastAttemptAt),
    });
  }
}

type TimelineEvent = { type: string; status: string; atMs: number };

/** The events a job of this history wrote, in order: seq is the position, event_seq the count. */
function eventTimeline(status: string, createdMs: number, startedMs: number | null, finishedMs: number | null): TimelineEvent[] {
  const events: TimelineEvent[] = [{ type: 'job.created', status: 'queued', atMs: createdMs }];
  if (startedMs !== null) events.push({ type: 'job.started', status: 'running', atMs: startedMs });
  if (finishedMs !== null) events.push({ type: `job.${status}`, status, atMs: finishedMs });
  return events;
}
