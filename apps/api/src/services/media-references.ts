import type { ErrorDetail } from '@genqueue/core';
import type { ArtifactsRepository, FilesRepository } from '@genqueue/db';

type Reference = { path: string; kind: 'file_id' | 'artifact_id'; id: string };

/** Every `{file_id}` / `{artifact_id}` MediaSource inside a job input, with its path. */
export function findMediaReferences(value: unknown, path = 'input'): Reference[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => findMediaReferences(item, `${path}.${i}`));
  if (!value || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && typeof record['file_id'] === 'string') return [{ path, kind: 'file_id', id: record['file_id'] }];
  if (keys.length === 1 && typeof record['artifact_id'] === 'string') {
    return [{ path, kind: 'artifact_id', id: record['artifact_id'] }];
  }
  return keys.flatMap((key) => findMediaReferences(record[key], `${path}.${key}`));
}

/** Checks that every referenced file and artifact exists in the project; one detail per dangling reference. */
export async function checkMediaReferences(
  input: unknown,
  projectId: string,
  repos: { files: FilesRepository; artifacts: ArtifactsRepository },
): Promise<ErrorDetail[]> {
  const details: ErrorDetail[] = [];
  for (const ref of findMediaReferences(input)) {
    const found =
      ref.kind === 'file_id'
        ? await repos.files.findForProject(projectId, ref.id)
        : await repos.artifacts.findForProject(projectId, ref.id);
    if (!found) details.push({ path: `${ref.path}.${ref.kind}`, message: `no ${ref.kind === 'file_id' ? 'file' : 'artifact'} ${ref.id} in this project` });
  }
  return details;
}
