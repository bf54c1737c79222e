import type { File, PrismaClient } from '../generated/prisma/client';

export type NewFile = {
  id: string;
  projectId: string;
  purpose: string;
  filename: string;
  contentType: string;
  bytes: number;
  sha256: string;
  storageKey: string;
};

export class FilesRepository {
  constructor(private readonly db: PrismaClient) {}

  create(input: NewFile): Promise<File> {
    return this.db.file.create({ data: { ...input, bytes: BigInt(input.bytes) } });
  }

  findForProject(projectId: string, id: string): Promise<File | null> {
    return this.db.file.findFirst({ where: { id, projectId, deletedAt: null } });
  }

  async markDeleted(projectId: string, id: string): Promise<File | null> {
    const [file] = await this.db.file.updateManyAndReturn({
      where: { id, projectId, deletedAt: null },
      data: { deletedAt: new Date() },
    });
    return file ?? null;
  }
}
