import { newId } from '@genqueue/core';
import type { Artifact, ArtifactsRepository, Job } from '@genqueue/db';
import { extensionFor, sniffContentType, type ObjectStorage } from '@genqueue/storage';

export type ArtifactInput = {
  kind: string;
  data: Buffer;
  /** what the gateway said; the bytes' own signature wins when it is recognisable */
  contentType?: string;
  sourceUrl?: string | null;
};

/** Copies an output into our storage at once (gateway URLs expire) and records it. */
export class ArtifactWriter {
  constructor(
    private readonly storage: ObjectStorage,
    private readonly artifacts: ArtifactsRepository,
  ) {}

  async save(job: Job, input: ArtifactInput): Promise<Artifact> {
    const id = newId('art');
    const declared = input.contentType?.split(';')[0]?.trim();
    const contentType = sniffContentType(input.data, declared || 'application/octet-stream');
    const storageKey = `artifacts/${job.projectId}/${id}.${extensionFor(contentType)}`;
    const stored = await this.storage.put(storageKey, input.data);
    try {
      return await this.artifacts.create({
        id,
        projectId: job.projectId,
        jobId: job.id,
        kind: input.kind,
        contentType,
        bytes: stored.bytes,
        sha256: stored.sha256,
        storageKey,
        sourceUrl: input.sourceUrl ?? null,
      });
    } catch (err) {
      await this.storage.delete(storageKey).catch(() => undefined);
      throw err;
    }
  }
}
