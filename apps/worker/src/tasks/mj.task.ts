import { MJ_MODAL_STATUS, type JobTypesOf, type MjBlendInput, type MjDescribeInput, type MjImagineInput } from '@genqueue/core';
import { classifyMjSubmitRefusal, classifyMjTaskFailure, classifyResultGone, toDataUrl, type MjSubmitResult, type MjTask } from '@genqueue/upstream';
import { JobFailure } from '../handlers/job-failure';
import type { MjPollCoordinator } from './mj-poll-coordinator';
import type { SubmitAnswer, TaskContext, TaskKind, TaskSnapshot } from './task-kind';

type MjJobType = JobTypesOf<'mj'>;

type Prepared =
  | { kind: 'imagine'; body: { prompt: string; base64Array?: string[]; botType?: MjImagineInput['bot_type'] } }
  | { kind: 'action'; body: { taskId: string; customId: string } }
  | { kind: 'modal'; body: { taskId: string; prompt?: string; maskBase64?: string } }
  | { kind: 'blend'; body: { base64Array: string[]; dimensions?: MjBlendInput['dimensions']; botType?: MjBlendInput['bot_type'] } }
  | { kind: 'describe'; body: { base64: string; botType?: MjDescribeInput['bot_type'] } };

const modalNote = (jobId: string) => ({
  status: 'waiting_for_modal',
  message: `The gateway waits for a confirmation window (MODAL): submit an mj.modal job with job_id "${jobId}" (prompt, and mask for Vary Region) to continue.`,
});

async function dataUrls(ctx: TaskContext, sources: readonly Parameters<TaskContext['media']['resolve']>[1][]): Promise<string[]> {
  const out: string[] = [];
  for (const [i, source] of sources.entries()) {
    const media = await ctx.media.resolve(ctx.job.projectId, source, `image-${i}.png`, ctx.signal);
    out.push(toDataUrl(media.contentType, media.data));
  }
  return out;
}

/** The upstream task of the job an `mj.action` / `mj.modal` continues (checked at submission, re-read here). */
async function parentTaskId(ctx: TaskContext): Promise<string> {
  const parent = ctx.job.parentId ? await ctx.findJob(ctx.job.parentId) : null;
  if (!parent?.upstreamTaskId) throw new JobFailure('invalid_input', `the parent job ${ctx.job.parentId ?? '(none)'} has no Midjourney task`);
  return parent.upstreamTaskId;
}

function answerOf(result: MjSubmitResult, jobId: string): SubmitAnswer {
  if (result.outcome === 'retry_later') {
    return { kind: 'retry_later', upstreamStatus: 'QUEUE_FULL', message: `The Midjourney queue is full (code ${result.code}: ${result.description}); nothing was created, trying again later` };
  }
  if (result.outcome === 'modal') {
    return { kind: 'accepted', taskId: result.taskId as string, upstreamStatus: MJ_MODAL_STATUS, waitingNote: modalNote(jobId) };
  }
  return { kind: 'accepted', taskId: result.taskId as string, upstreamStatus: 'SUBMITTED' };
}

/** `mj.imagine` and `mj.action` may ask for the image's seed (`"seed": true`). */
function wantsSeed(ctx: TaskContext<MjJobType>): boolean {
  if (ctx.type !== 'mj.imagine' && ctx.type !== 'mj.action') return false;
  return ctx.input.seed === true;
}

/** The Midjourney job types; status reads go through the process's batch coordinator. */
export function mjTaskKind(coordinator: MjPollCoordinator): TaskKind<MjJobType, Prepared> {
  return {
    async prepare(ctx): Promise<Prepared> {
      switch (ctx.type) {
        case 'mj.imagine': {
          const input = ctx.input;
          const images = input.images?.length ? await dataUrls(ctx, input.images) : undefined;
          return { kind: 'imagine', body: { prompt: input.prompt, ...(images ? { base64Array: images } : {}), ...(input.bot_type ? { botType: input.bot_type } : {}) } };
        }
        case 'mj.action': {
          const input = ctx.input;
          return { kind: 'action', body: { taskId: await parentTaskId(ctx), customId: input.custom_id } };
        }
        case 'mj.modal': {
          const input = ctx.input;
          const [mask] = input.mask ? await dataUrls(ctx, [input.mask]) : [];
          return { kind: 'modal', body: { taskId: await parentTaskId(ctx), ...(input.prompt ? { prompt: input.prompt } : {}), ...(mask ? { maskBase64: mask } : {}) } };
        }
        case 'mj.blend': {
          const input = ctx.input;
          return { kind: 'blend', body: { base64Array: await dataUrls(ctx, input.images), ...(input.dimensions ? { dimensions: input.dimensions } : {}), ...(input.bot_type ? { botType: input.bot_type } : {}) } };
        }
        case 'mj.describe': {
          const input = ctx.input;
          const [image] = await dataUrls(ctx, [input.image]);
          return { kind: 'describe', body: { base64: image as string, ...(input.bot_type ? { botType: input.bot_type } : {}) } };
        }
      }
    },

    async submit(ctx, prepared) {
      const { kind, body } = prepared;
      try {
        // `state` carries the job id: the gateway stores it, so a task can be traced back to its job
        const result = await ctx.upstream.mj.submit(kind, { ...body, state: ctx.job.id } as never);
        const answer = answerOf(result, ctx.job.id);
        if (answer.kind === 'accepted') {
          // charged after an accepted submit at the action's price; an action that opens a MODAL window is free (§9.7)
          const customId = kind === 'action' ? (body as { customId: string }).customId : undefined;
          await ctx.costs?.mjCharged(ctx.job, answer.taskId, kind, customId, result.outcome === 'modal' && kind === 'action');
        }
        return answer;
      } catch (err) {
        // a banned prompt (24) or the proxy's system error (9) fails the job at once
        const refusal = classifyMjSubmitRefusal(err);
        if (refusal) throw new JobFailure(refusal.code, refusal.message, refusal.retryable);
        throw err;
      }
    },

    async poll(ctx, taskId): Promise<TaskSnapshot> {
      const task = await coordinator.status(taskId, ctx.job.id);
      if (!task) return { state: 'missing', rawStatus: 'task_no_found', progress: 0 };
      if (!task.isKnownStatus) ctx.logger.warn({ taskId, rawStatus: task.rawStatus }, 'mj.unknown_status');
      const rawStatus = task.rawStatus || 'NOT_START';
      switch (task.status) {
        case 'succeeded':
          return { state: 'succeeded', rawStatus, progress: 100, data: task };
        case 'failed':
          // the gateway refunds a task that ends in FAILURE (docs/gateway.md §9.7)
          await ctx.costs?.refunded(ctx.job, taskId, `mj task ${rawStatus}`);
          return { state: 'failed', rawStatus, progress: task.progress, error: classifyMjTaskFailure(task), data: task };
        case 'modal':
          // an mj.modal job polls the same task: for it MODAL only means "not yet picked up"
          return ctx.job.type === 'mj.modal'
            ? { state: 'pending', rawStatus, progress: task.progress, data: task }
            : { state: 'waiting', rawStatus, progress: task.progress, waitingNote: modalNote(ctx.job.id), data: task };
        default:
          return { state: 'pending', rawStatus, progress: Math.min(99, task.progress), data: task };
      }
    },

    async collect(ctx, taskId, snapshot) {
      const task = snapshot.data as MjTask;
      if (ctx.job.type === 'mj.describe') {
        return { prompts: task.prompts ?? (task.promptEn ? [task.promptEn] : []), upstream_id: taskId };
      }
      // asked for before the image is stored, so a failed read leaves nothing to clean up
      const seed = wantsSeed(ctx) ? await ctx.upstream.mj.imageSeed(taskId, { signal: ctx.signal }) : undefined;
      let artifact;
      try {
        // through the gateway's /mj/image/{id}: robust to a wrong ServerAddress in imageUrl; streamed
        // into storage within the object cap and the run's media budget
        artifact = await ctx.artifacts.saveDownload(ctx.job, {
          kind: 'image',
          open: (maxBytes) => ctx.upstream.mj.downloadImageStream(taskId, { maxBytes, signal: ctx.signal }),
          sourceUrl: task.imageUrl ?? `mj:${taskId}`,
          signal: ctx.signal,
        });
      } catch (err) {
        const gone = classifyResultGone(err, 'Midjourney image');
        if (gone) throw new JobFailure(gone.code, gone.message, gone.retryable);
        throw err;
      }
      return {
        image: { artifact_id: artifact.id },
        buttons: task.buttons.map((b) => ({ custom_id: b.customId, label: b.label, emoji: b.emoji })),
        upstream_id: taskId,
        ...(task.promptEn ? { prompt_en: task.promptEn } : {}),
        ...(seed !== undefined ? { seed } : {}),
      };
    },

    release(taskId) {
      coordinator.release(taskId);
    },
  };
}
