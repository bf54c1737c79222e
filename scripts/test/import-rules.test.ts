import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * The layout's import rules are enforced by lint (eslint.config.js); each one is shown to fail on a
 * deliberate violation and to pass the allowed form. ESLint loads its config with a dynamic import,
 * which Jest's module sandbox cannot do: the cases run through ESLint's API in a child process.
 */
const root = path.join(__dirname, '..', '..');

type Case = { file: string; code: string };
const LINT_CASES = `
const { ESLint } = require('eslint');
const cases = JSON.parse(process.argv[1]);
const eslint = new ESLint({ cwd: process.cwd() });
(async () => {
  const out = [];
  for (const c of cases) {
    const [result] = await eslint.lintText(c.code, { filePath: require('path').join(process.cwd(), c.file) });
    out.push(result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message));
  }
  process.stdout.write(JSON.stringify(out));
})();
`;

function lintAll(cases: Case[]): string[][] {
  const run = spawnSync(process.execPath, ['-e', LINT_CASES, JSON.stringify(cases)], { cwd: root, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as string[][];
}

describe('import rules', () => {
  const violations: Array<[string, string, string, string]> = [
    ['core imports only zod', 'packages/core/src/x.ts', "import { Queue } from 'bullmq';", 'packages/core imports only zod'],
    ['core imports no other package of ours', 'packages/core/src/x.ts', "import { loadSettings } from '@genqueue/config';", 'packages/core imports only zod'],
    ['packages never import apps', 'packages/queue/src/x.ts', "import { createApp } from '@genqueue/api';", 'packages never import apps'],
    ['packages never reach into apps by path', 'packages/db/src/x.ts', "import { x } from '../../../apps/worker/src/job-runner';", 'packages never import apps'],
    ['apps never import each other', 'apps/worker/src/x.ts', "import { createApp } from '@genqueue/api';", 'apps never import each other'],
    ['the API does not import the simulator', 'apps/api/src/x.ts', "import { boot } from '@genqueue/simulator';", 'apps never import each other'],
    ['Prisma only in packages/db', 'apps/api/src/x.ts', "import { PrismaClient } from '@prisma/client';", 'Prisma is used only inside packages/db'],
    ['not even its generated client', 'packages/queue/src/x.ts', "import type { Job } from '@genqueue/db/src/generated/prisma/client';", 'Prisma is used only inside packages/db'],
    ['Express only in the HTTP apps', 'apps/worker/src/x.ts', "import express from 'express';", 'Express belongs to the HTTP apps'],
    ['no Express in packages', 'packages/webhooks/src/x.ts', "import type { Request } from 'express';", 'Express belongs to the HTTP apps'],
    ['db takes the webhook fan-out policy, never imports it', 'packages/db/src/x.ts', "import { webhookFanOut } from '@genqueue/webhooks';", 'packages/db holds no webhook policy'],
  ];
  const allowed: Array<[string, string, string]> = [
    ['core imports zod and its own modules', 'packages/core/src/x.ts', "import { z } from 'zod';\nimport { newId } from './ids';"],
    ['db uses Prisma', 'packages/db/src/x.ts', "import { PrismaPg } from '@prisma/adapter-pg';"],
    ['the API uses Express and packages', 'apps/api/src/x.ts', "import express from 'express';\nimport { JobsRepository } from '@genqueue/db';"],
    ['the simulator uses Express', 'apps/simulator/src/x.ts', "import express from 'express';"],
    ['the worker uses packages', 'apps/worker/src/x.ts', "import { Worker } from 'bullmq';\nimport { JobQueues } from '@genqueue/queue';"],
    ['the worker wires the fan-out policy into the outbox', 'apps/worker/src/x.ts', "import { WebhookOutbox } from '@genqueue/db';\nimport { webhookFanOut } from '@genqueue/webhooks';"],
  ];
  let results: string[][];
  beforeAll(() => {
    results = lintAll([...violations, ...allowed].map(([, file, code]) => ({ file, code })));
  }, 60_000);

  it.each(violations.map((v, i) => [...v, i] as const))('refuses: %s', (_rule, _file, _code, message, index) => {
    expect(results[index]).toHaveLength(1);
    expect(results[index]![0]).toContain(message);
  });

  it.each(allowed.map((a, i) => [...a, violations.length + i] as const))('allows: %s', (_rule, _file, _code, index) => {
    expect(results[index]).toEqual([]);
  });
});
