import { newId, toEventSnapshot, type JobEventType } from '@genqueue/core';
import type { Job, JobEvent } from '../generated/prisma/client';
import { asJson, type Db } from './types';

/** Writes the event row for a change already applied to `job` (its eventSeq is the new sequence). */
export async function appendEvent(tx: Db, job: Job, type: JobEventType): Promise<JobEvent> {
  const artifacts = await tx.artifact.findMany({ where: { jobId: job.id }, orderBy: { createdAt: 'asc' } });
  return tx.jobEvent.create({
    data: {
      id: newId('evt'),
      jobId: job.id,
      projectId: job.projectId,
      seq: job.eventSeq,
      type,
      data: asJson(toEventSnapshot(job, artifacts)),
    },
  });
}
