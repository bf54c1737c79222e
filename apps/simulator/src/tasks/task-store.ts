import { sha256Hex } from '../hash';
import type { PollGrid } from './schedule';

export type TaskFamily = 'video' | 'mj';

/** Per-task request counters, exposed at `/_sim/tasks`. */
export type TaskCounters = {
  /** Submit requests that created this task (always 1). */
  submissions: number;
  /** `/mj/submit/modal` requests accepted for this task. */
  modalSubmissions: number;
  /** Status reads of any kind: video GETs, MJ fetches, and MJ list-by-condition items. */
  statusRequests: number;
  fetchRequests: number;
  listRequests: number;
  contentRequests: number;
  imageRequests: number;
};

type TaskBase = {
  id: string;
  family: TaskFamily;
  /** 1-based creation order. */
  seq: number;
  /** What submissions are counted under (`by_key`): the prompt, or a key for prompt-less MJ submits. */
  key: string;
  prompt: string;
  /** MJ `state` field (free text the caller chose), `''` for video. */
  state: string;
  submittedAtMs: number;
  grid: PollGrid;
  /** Upstream run time, already scaled for fast time. */
  durationMs: number;
  /** The gateway's timeout for this task, scaled. */
  timeoutMs: number;
  costQuota: number;
  isRefunded: boolean;
  /** sha256 (hex) of input images. */
  inputSha256s: string[];
  /** Seed of the result media. */
  mediaSeed: string;
  counters: TaskCounters;
};

export type VideoOutcome = 'success' | 'failed' | 'moderation' | 'cancelled' | 'expired' | 'stall';

export type VideoTask = TaskBase & {
  family: 'video';
  model: string;
  isSora: boolean;
  seconds: string;
  size: string;
  /** `remix`: made by `POST /v1/videos/{id}/remix` from an earlier task */
  action: 'textGenerate' | 'generate' | 'remix';
  /** the task a remix was made from (sora's `remixed_from_video_id`) */
  remixedFromId?: string;
  outcome: VideoOutcome;
  /** `created_at` as the task reports it (seconds or milliseconds). */
  createdAt: number;
  /** How long `/content` works after completion, scaled. */
  contentTtlMs: number;
  isStaleAfterTimeout: boolean;
};

export type MjAction =
  | 'IMAGINE'
  | 'UPSCALE'
  | 'VARIATION'
  | 'LOW_VARIATION'
  | 'HIGH_VARIATION'
  | 'REROLL'
  | 'PAN'
  | 'ZOOM'
  | 'CUSTOM_ZOOM'
  | 'INPAINT'
  | 'BLEND'
  | 'DESCRIBE';

export type MjOutcome = 'success' | 'failed' | 'failed_raw' | 'cancelled' | 'stall';

export type MjTask = TaskBase & {
  family: 'mj';
  action: MjAction;
  promptEn: string;
  /** The submit description, frozen (`提交成功`, `Waiting for window confirm`, …). */
  description: string;
  botType: string;
  parentId: string | null;
  customId: string;
  outcome: MjOutcome;
  /**
   * `visible`: MODAL from insert (INPAINT/CUSTOM_ZOOM answered 21); `after_poll`: a remix action
   * answered 21 that the gateway rewrote to 1, MODAL from the first poll; `null`: no modal step.
   */
  modal: 'visible' | 'after_poll' | null;
  /** When `/submit/modal` was accepted; the run restarts from there. */
  modalSubmittedAtMs: number | null;
  /** Button hash (the uuid inside customIds). */
  hash: string;
  imageTtlMs: number;
  hasButtons: boolean;
};

export type SimTask = VideoTask | MjTask;

export type SubmissionKeyCounter = { attempts: number; accepted: number; taskIds: string[] };

const newCounters = (): TaskCounters => ({
  submissions: 1,
  modalSubmissions: 0,
  statusRequests: 0,
  fetchRequests: 0,
  listRequests: 0,
  contentRequests: 0,
  imageRequests: 0,
});

/** Every simulated task plus submission counters; no timers, state is computed on read. */
export class TaskStore {
  private tasks = new Map<string, SimTask>();
  private byKey = new Map<string, SubmissionKeyCounter>();
  private byState = new Map<string, SubmissionKeyCounter>();
  private seq = 0;
  private attempts = 0;
  private lastMjId = 0n;

  /** `anchorMs` is the origin of the gateway's poll grid (the simulator's start). */
  constructor(readonly anchorMs: number, private readonly seed: string) {}

  /** Counts a submit request that reached the upstream logic, accepted or not. */
  countAttempt(key: string, state = ''): void {
    this.attempts += 1;
    this.keyCounter(this.byKey, key).attempts += 1;
    if (state !== '') this.keyCounter(this.byState, state).attempts += 1;
  }

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  /** Grid of a task: the common tick grid, shifted by the per-task spacing. */
  gridFor(seq: number, tickMs: number, spacingMs: number): PollGrid {
    const offset = spacingMs > 0 ? ((seq - 1) * spacingMs) % tickMs : 0;
    return { originMs: this.anchorMs + offset, tickMs };
  }

  add<T extends Omit<SimTask, 'counters' | 'isRefunded'>>(task: T): T & { counters: TaskCounters; isRefunded: boolean } {
    const stored = { ...task, counters: newCounters(), isRefunded: false } as T & { counters: TaskCounters; isRefunded: boolean };
    this.tasks.set(task.id, stored as unknown as SimTask);
    const counter = this.keyCounter(this.byKey, task.key);
    counter.accepted += 1;
    counter.taskIds.push(task.id);
    if (task.state !== '') {
      const stateCounter = this.keyCounter(this.byState, task.state);
      stateCounter.accepted += 1;
      stateCounter.taskIds.push(task.id);
    }
    return stored;
  }

  /** Counts an accepted `/submit/modal` under the modal's own key (and its `state`, when given). */
  countModal(task: MjTask, key: string, state = ''): void {
    task.counters.modalSubmissions += 1;
    for (const counter of [this.keyCounter(this.byKey, key), ...(state === '' ? [] : [this.keyCounter(this.byState, state)])]) {
      counter.accepted += 1;
      counter.taskIds.push(task.id);
    }
  }

  get(id: string): SimTask | undefined {
    return this.tasks.get(id);
  }

  video(id: string): VideoTask | undefined {
    const task = this.tasks.get(id);
    return task?.family === 'video' ? task : undefined;
  }

  mj(id: string): MjTask | undefined {
    const task = this.tasks.get(id);
    return task?.family === 'mj' ? task : undefined;
  }

  has(id: string): boolean {
    return this.tasks.has(id);
  }

  all(): IterableIterator<SimTask> {
    return this.tasks.values();
  }

  get size(): number {
    return this.tasks.size;
  }

  get submitAttempts(): number {
    return this.attempts;
  }

  keys(): Map<string, SubmissionKeyCounter> {
    return this.byKey;
  }

  states(): Map<string, SubmissionKeyCounter> {
    return this.byState;
  }

  /** A deterministic uuid-looking hash for MJ buttons. */
  uuidFor(id: string): string {
    const hex = sha256Hex(`${this.seed}|uuid|${id}`);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  /**
   * A 16-digit numeric MJ id: epoch milliseconds + 3 digits (MJP). Strictly increasing, so ids
   * stay unique even when thousands of tasks share one millisecond (frozen test clocks).
   */
  mjId(nowMs: number): string {
    const candidate = BigInt(Math.floor(nowMs)) * 1000n + BigInt(this.seq % 1000);
    this.lastMjId = candidate > this.lastMjId ? candidate : this.lastMjId + 1n;
    return this.lastMjId.toString().padStart(16, '0');
  }

  reset(): void {
    this.tasks.clear();
    this.byKey.clear();
    this.byState.clear();
    this.seq = 0;
    this.attempts = 0;
    this.lastMjId = 0n;
  }

  private keyCounter(map: Map<string, SubmissionKeyCounter>, key: string): SubmissionKeyCounter {
    let counter = map.get(key);
    if (!counter) {
      counter = { attempts: 0, accepted: 0, taskIds: [] };
      map.set(key, counter);
    }
    return counter;
  }
}
