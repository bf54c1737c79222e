import { VIDEO_REMIXABLE_JOB_TYPES, type JobTypesOf, type VideoGenerateInput } from '@genqueue/core';
import { classifyResultGone, classifyVideoTaskFailure, isUnknownTask, type VideoSubmitResult, type VideoTask } from '@genqueue/upstream';
import { videoBillingBasis, type VideoBillingBasis } from '../costs/video-billing-basis';
import { JobFailure } from '../handlers/job-failure';
import type { ResolvedMedia } from '../media/media-resolver';
import type { SubmitAnswer, TaskContext, TaskKind, TaskSnapshot } from './task-kind';

type VideoJobType = JobTypesOf<'video'>;

type Prepared =
  | { kind: 'generate'; input: VideoGenerateInput; reference?: ResolvedMedia }
  | { kind: 'remix'; parentTaskId: string; prompt: string; basis: VideoBillingBasis | null };

/**
 * The gateway task of the job a `video.remix` continues (checked at submission, re-read here): a
 * succeeded video job of the same project with an upstream task id. Anything else fails the job
 * for good, before anything is submitted.
 */
async function remixParent(ctx: TaskContext<'video.remix'>): Promise<{ taskId: string; basis: VideoBillingBasis | null }> {
  const parentId = ctx.job.parentId ?? ctx.input.parent_id;
  const parent = await ctx.findJob(parentId);
  if (!parent || parent.projectId !== ctx.job.projectId || !VIDEO_REMIXABLE_JOB_TYPES.includes(parent.type)) {
    throw new JobFailure('invalid_input', `the parent job ${parentId} is not a video job of this project`);
  }
  if (parent.status !== 'succeeded' || !parent.upstreamTaskId) {
    throw new JobFailure('invalid_input', `the parent job ${parentId} is ${parent.status}${parent.upstreamTaskId ? '' : ' without a gateway task'}; only a succeeded video job can be remixed`);
  }
  // the remix is billed on its original's model and ratios: those of the parent's own chain
  return { taskId: parent.upstreamTaskId, basis: await videoBillingBasis(parent, ctx.findJob) };
}

const accepted = (created: VideoSubmitResult): SubmitAnswer => ({ kind: 'accepted', taskId: created.id, upstreamStatus: created.rawStatus || 'submitted', progress: created.progress });

/**
 * `video.generate`: POST /v1/videos once; `video.remix`: POST /v1/videos/{parent task}/remix once.
 * Both then poll GET /v1/videos/{id} and stream /content into storage.
 */
export const videoTaskKind: TaskKind<VideoJobType, Prepared> = {
  async prepare(ctx): Promise<Prepared> {
    switch (ctx.type) {
      case 'video.generate': {
        const input = ctx.input;
        const reference = input.input_reference ? await ctx.media.resolve(ctx.job.projectId, input.input_reference, 'reference.png', ctx.signal) : undefined;
        return { kind: 'generate', input, ...(reference ? { reference } : {}) };
      }
      case 'video.remix': {
        const { taskId, basis } = await remixParent(ctx);
        return { kind: 'remix', parentTaskId: taskId, prompt: ctx.input.prompt, basis };
      }
    }
  },

  async submit(ctx, prepared) {
    if (prepared.kind === 'remix') {
      const created = await ctx.upstream.videos.remix(prepared.parentTaskId, { prompt: prepared.prompt });
      // billed at submit like a video submit, on the original's model and ratios (docs/gateway.md §8.4)
      await ctx.costs?.videoCharged(ctx.job, created.id, created.otherRatios, prepared.basis ?? undefined);
      return accepted(created);
    }
    const { input, reference } = prepared;
    const created = await ctx.upstream.videos.create({
      model: input.model,
      prompt: input.prompt,
      seconds: input.seconds,
      size: input.size,
      ...(reference ? { inputReference: { filename: reference.filename, contentType: reference.contentType, data: reference.data } } : {}),
    });
    // billed at submit: X-New-Api-Other-Ratios says by how many seconds and what size ratio
    await ctx.costs?.videoCharged(ctx.job, created.id, created.otherRatios);
    return accepted(created);
  },

  async poll(ctx, taskId): Promise<TaskSnapshot> {
    let task: VideoTask;
    try {
      task = await ctx.upstream.videos.get(taskId, { signal: ctx.signal });
    } catch (err) {
      // 400 task_not_exist: the gateway's insert may lag the submit answer; the runner counts these
      if (isUnknownTask(err)) return { state: 'missing', rawStatus: 'task_not_exist', progress: 0 };
      throw err;
    }
    if (!task.isKnownStatus) ctx.logger.warn({ taskId, rawStatus: task.rawStatus }, 'video.unknown_status');
    const rawStatus = task.rawStatus || 'unknown';
    if (task.status === 'succeeded') return { state: 'succeeded', rawStatus, progress: 100, data: task };
    if (task.status === 'failed') {
      // the gateway refunds a failed task (docs/gateway.md §8.1, §12.1)
      await ctx.costs?.refunded(ctx.job, taskId, `video task ${rawStatus}`);
      return { state: 'failed', rawStatus, progress: task.progress, error: classifyVideoTaskFailure(task), data: task };
    }
    return { state: 'pending', rawStatus, progress: Math.min(99, task.progress), data: task };
  },

  async collect(ctx, taskId, snapshot) {
    const task = snapshot.data as VideoTask | undefined;
    // metadata.url when the gateway gives one (other channels), else /v1/videos/{id}/content (sora)
    const source = task?.url && /^https?:/i.test(task.url) ? task.url : taskId;
    let artifact;
    try {
      // streamed into storage within the object cap and the run's media budget (MEDIA_JOB_MAX_BYTES)
      artifact = await ctx.artifacts.saveDownload(ctx.job, {
        kind: 'video',
        open: (maxBytes) => ctx.upstream.videos.downloadStream(source, { maxBytes, signal: ctx.signal }),
        fallbackContentType: 'video/mp4',
        sourceUrl: source,
        signal: ctx.signal,
      });
    } catch (err) {
      const gone = classifyResultGone(err, 'finished video');
      if (gone) throw new JobFailure(gone.code, gone.message, gone.retryable);
      throw err;
    }
    return { video: { artifact_id: artifact.id }, upstream_id: taskId };
  },
};
