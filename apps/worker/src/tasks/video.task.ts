import type { VideoGenerateInput } from '@genqueue/core';
import { classifyResultGone, classifyVideoTaskFailure, isUnknownTask, type VideoTask } from '@genqueue/upstream';
import { JobFailure } from '../handlers/job-failure';
import type { ResolvedMedia } from '../media/media-resolver';
import type { TaskContext, TaskKind, TaskSnapshot } from './task-kind';

type Prepared = { input: VideoGenerateInput; reference?: ResolvedMedia };

/** `video.generate`: POST /v1/videos once, poll GET /v1/videos/{id}, stream /content into storage. */
export const videoTaskKind: TaskKind<'video.generate', Prepared> = {
  async prepare(ctx: TaskContext<'video.generate'>): Promise<Prepared> {
    const input = ctx.input;
    const reference = input.input_reference ? await ctx.media.resolve(ctx.job.projectId, input.input_reference, 'reference.png', ctx.signal) : undefined;
    return { input, ...(reference ? { reference } : {}) };
  },

  async submit(ctx, prepared) {
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
    return { kind: 'accepted', taskId: created.id, upstreamStatus: created.rawStatus || 'submitted', progress: created.progress };
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
