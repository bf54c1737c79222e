import type { ArtifactsRepository, EmbeddingChunksRepository, FilesRepository, JobsRepository } from '@genqueue/db';
import type { EmbeddingChunkQueue, JobEventBus } from '@genqueue/queue';
import type { ObjectStorage } from '@genqueue/storage';

/** What `embedding.batch` needs beyond a plain handler: chunk rows, chunk files, the chunk queue. */
export type EmbeddingServices = {
  jobs: JobsRepository;
  chunks: EmbeddingChunksRepository;
  files: FilesRepository;
  artifacts: ArtifactsRepository;
  storage: ObjectStorage;
  chunkQueue: EmbeddingChunkQueue;
  events: JobEventBus;
  retry: { maxAttempts: number; baseDelayMs: number };
  /** WORKER_CRASH_LIMIT: a chunk whose worker died under it this often is failed, not run again */
  workerCrashLimit: number;
  /** how long a batch sleeps between checks while its chunks run (the last chunk wakes it earlier) */
  parkMs: number;
  /** the lane's request limit: one chunk is one request, so it tells when a batch's last chunks start */
  requestsPerMinute: number;
};
