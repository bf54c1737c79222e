import type { PrismaClient } from '../generated/prisma/client';

/** Instance-wide values; the first process to start decides, every other one reads the same. */
export class SystemSettingsRepository {
  constructor(private readonly db: PrismaClient) {}

  async getOrCreate(key: string, make: () => string): Promise<string> {
    const existing = await this.db.systemSetting.findUnique({ where: { key } });
    if (existing) return existing.value;
    await this.db.systemSetting.createMany({ data: [{ key, value: make() }], skipDuplicates: true });
    const stored = await this.db.systemSetting.findUniqueOrThrow({ where: { key } });
    return stored.value;
  }
}
