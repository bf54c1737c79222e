import { isJobType, JOB_TYPE_NAMES, type GatewayTaskType, type JobType } from '@genqueue/core';
import type { GatewayLane } from '@genqueue/upstream';
import { embeddingBatchHandler } from '../embeddings/embedding-batch.handler';
import type { MjPollCoordinator } from '../tasks/mj-poll-coordinator';
import { mjTaskKind } from '../tasks/mj.task';
import type { TaskKind } from '../tasks/task-kind';
import { videoTaskKind } from '../tasks/video.task';
import { audioGeminiSpeechHandler } from './audio-gemini-speech.handler';
import { audioSpeechHandler } from './audio-speech.handler';
import { audioTranscribeHandler, audioTranslateHandler } from './audio-transcribe.handler';
import type { JobHandler } from './handler';
import { imageEditHandler } from './image-edit.handler';
import { imageGeminiHandler } from './image-gemini.handler';
import { imageGenerateHandler } from './image-generate.handler';
import { mediaChatHandler } from './media-chat.handler';

/**
 * A synchronous type: its handler, and the gateway lane (gatewayLaneOf of its route) the runner
 * takes a place in before the job starts; null when the job calls the gateway through other jobs
 * (an embedding batch through its chunks).
 */
export type SyncRunner<T extends JobType> = { kind: 'sync'; lane: GatewayLane | null; handle: JobHandler<T> };
/** What task kinds are made with, once per worker process. */
export type TaskKindDeps = { mjPoll: MjPollCoordinator };
/** A gateway task type: its task kind, made once per process (`createTask` shared by a family gives one kind). */
export type GatewayTaskRunner<T extends JobType> = { kind: 'task'; createTask: (deps: TaskKindDeps) => TaskKind<T> };
export type Runner<T extends JobType> = SyncRunner<T> | GatewayTaskRunner<T>;
/** The catalog says which types are gateway tasks; a runner of the other kind does not compile. */
type RunnerFor<T extends JobType> = T extends GatewayTaskType ? GatewayTaskRunner<T> : SyncRunner<T>;
export type JobRunners = { readonly [T in JobType]: RunnerFor<T> };

const createMjTask = ({ mjPoll }: TaskKindDeps) => mjTaskKind(mjPoll);
const createVideoTask = () => videoTaskKind;

/**
 * How the worker runs each job type: one entry per catalog type, checked by the compiler (a
 * missing type, a handler of another type or the wrong kind of runner fails `npm run typecheck`).
 */
export const RUNNERS: JobRunners = {
  'image.generate': { kind: 'sync', lane: 'image', handle: imageGenerateHandler },
  'image.edit': { kind: 'sync', lane: 'image', handle: imageEditHandler },
  'image.gemini': { kind: 'sync', lane: 'image', handle: imageGeminiHandler },
  'media.chat': { kind: 'sync', lane: 'image', handle: mediaChatHandler },
  'video.generate': { kind: 'task', createTask: createVideoTask },
  'video.remix': { kind: 'task', createTask: createVideoTask },
  'mj.imagine': { kind: 'task', createTask: createMjTask },
  'mj.action': { kind: 'task', createTask: createMjTask },
  'mj.modal': { kind: 'task', createTask: createMjTask },
  'mj.blend': { kind: 'task', createTask: createMjTask },
  'mj.describe': { kind: 'task', createTask: createMjTask },
  'audio.transcribe': { kind: 'sync', lane: 'audio', handle: audioTranscribeHandler },
  'audio.translate': { kind: 'sync', lane: 'audio', handle: audioTranslateHandler },
  'audio.speech': { kind: 'sync', lane: 'audio', handle: audioSpeechHandler },
  // Gemini TTS is a generateContent call
  'audio.gemini_speech': { kind: 'sync', lane: 'image', handle: audioGeminiSpeechHandler },
  'embedding.batch': { kind: 'sync', lane: null, handle: embeddingBatchHandler },
};

const BY_TYPE: { readonly [T in JobType]: Runner<T> } = RUNNERS;

/**
 * The runner of one type. Called with a `JobType` union it answers `Runner<JobType>`, whose handler
 * takes any job's context: the context is built from the same job (typedJob), so they match.
 */
function runnerOf<T extends JobType>(type: T): Runner<T> {
  return BY_TYPE[type];
}

/** The gateway lane a job of `type` takes a place in before it starts; undefined for task kinds and unknown types. */
export function laneOfJobType(type: string): GatewayLane | undefined {
  if (!isJobType(type)) return undefined;
  const runner = runnerOf(type);
  return runner.kind === 'sync' ? (runner.lane ?? undefined) : undefined;
}

/** The handler of a synchronous type; undefined for task kinds and unknown types. */
export function handlerOf(type: string): JobHandler<JobType> | undefined {
  if (!isJobType(type)) return undefined;
  const runner = runnerOf(type);
  return runner.kind === 'sync' ? runner.handle : undefined;
}

/** The task kind of each gateway task type, one per family (the MJ types share theirs). */
export function createTaskKinds(deps: TaskKindDeps): ReadonlyMap<string, TaskKind> {
  const made = new Map<GatewayTaskRunner<JobType>['createTask'], TaskKind>();
  const kinds = new Map<string, TaskKind>();
  for (const type of JOB_TYPE_NAMES) {
    const runner = runnerOf(type);
    if (runner.kind !== 'task') continue;
    const kind = made.get(runner.createTask) ?? runner.createTask(deps);
    made.set(runner.createTask, kind);
    kinds.set(type, kind);
  }
  return kinds;
}
