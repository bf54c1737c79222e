// Prisma CLI settings (Prisma 7 reads the datasource URL from here, not from schema.prisma).
// Migrations are applied and diffed by scripts/migrate.mjs (WASM schema engine), which reads the
// same DATABASE_URL; this file serves `prisma generate` and, where the native engine is available,
// `prisma studio` / `prisma migrate status`.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/genqueue',
  },
});
