import { AppError, isGatewayTaskType, MJ_IMAGE_JOB_TYPES, MJ_MODAL_STATUS, VIDEO_REMIXABLE_JOB_TYPES } from '@genqueue/core';
import type { Job, JobPatch, JobsRepository } from '@genqueue/db';

const invalid = (path: string, message: string): AppError =>
  new AppError('invalid_request', `The input of this job is invalid: ${message}`, [{ path, message }]);

/**
 * `mj.action` and `mj.modal` continue an earlier MJ job, `video.remix` an earlier video job.
 * Checked before anything is stored: a job of another project (or none) is 404, a job that cannot
 * be continued is 400. Returns the parent's id, to be stored as the new job's `parent_id`.
 */
export async function checkTaskParent(
  type: string,
  input: Record<string, unknown>,
  projectId: string,
  jobs: Pick<JobsRepository, 'findForProject'>,
): Promise<string | null> {
  if (type === 'video.remix') return checkRemixParent(String(input['parent_id']), projectId, jobs);
  if (type !== 'mj.action' && type !== 'mj.modal') return null;
  const parentId = String(input['job_id']);
  const parent = await jobs.findForProject(projectId, parentId);
  if (!parent) throw new AppError('not_found', `job ${parentId} not found`);
  if (!MJ_IMAGE_JOB_TYPES.includes(parent.type)) {
    throw invalid('input.job_id', `job ${parentId} is a ${parent.type} job, not a Midjourney image job`);
  }
  if (type === 'mj.action') checkActionParent(parent, String(input['custom_id']));
  else checkModalParent(parent);
  return parent.id;
}

async function checkRemixParent(parentId: string, projectId: string, jobs: Pick<JobsRepository, 'findForProject'>): Promise<string> {
  const parent = await jobs.findForProject(projectId, parentId);
  if (!parent) throw new AppError('not_found', `job ${parentId} not found`);
  if (!VIDEO_REMIXABLE_JOB_TYPES.includes(parent.type)) {
    throw invalid('input.parent_id', `job ${parentId} is a ${parent.type} job, not a video job`);
  }
  if (parent.status !== 'succeeded' || !parent.upstreamTaskId) {
    throw invalid('input.parent_id', `job ${parentId} is ${parent.status}; only a succeeded video job can be remixed`);
  }
  return parent.id;
}

function checkActionParent(parent: Job, customId: string): void {
  if (parent.status !== 'succeeded' || !parent.upstreamTaskId) {
    throw invalid('input.job_id', `job ${parent.id} is ${parent.status}; only a succeeded Midjourney job can be continued`);
  }
  const buttons = buttonsOf(parent.output);
  if (!buttons.includes(customId)) {
    throw invalid('input.custom_id', buttons.length === 0 ? `job ${parent.id} has no buttons` : `is not one of the buttons of job ${parent.id}`);
  }
}

function checkModalParent(parent: Job): void {
  if (parent.status !== 'running' || parent.upstreamStatus !== MJ_MODAL_STATUS || !parent.upstreamTaskId) {
    throw invalid('input.job_id', `job ${parent.id} is not waiting for a modal confirmation (status ${parent.status}, upstream ${parent.upstreamStatus ?? 'none'})`);
  }
}

function buttonsOf(output: unknown): string[] {
  const buttons = (output as { buttons?: unknown } | null)?.buttons;
  if (!Array.isArray(buttons)) return [];
  return buttons.flatMap((b) => (typeof (b as { custom_id?: unknown })?.custom_id === 'string' ? [(b as { custom_id: string }).custom_id] : []));
}

/**
 * What a cancel writes besides the status: a gateway task (the catalog says which types are) keeps
 * running on the gateway, which has no cancel route for them, and the job says so.
 */
export function cancelPatchFor(job: Pick<Job, 'type' | 'upstreamTaskId'>): JobPatch {
  if (!isGatewayTaskType(job.type)) return {};
  return {
    output: {
      note:
        'Canceled in genqueue: polling stopped. The gateway has no cancel route for video or Midjourney tasks, ' +
        'so an upstream task that was already submitted may still run (and be billed).',
      upstream_id: job.upstreamTaskId,
    },
  };
}
