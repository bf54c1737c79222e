import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const checker = join(__dirname, '..', 'check-workspace-deps.mjs');
const run = (root?: string) => spawnSync(process.execPath, [checker, ...(root ? [root] : [])], { encoding: 'utf8' });

describe('workspace dependency check', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gq-deps-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'root', workspaces: ['packages/*'], devDependencies: { tsx: '*' } }));
    mkdirSync(join(dir, 'packages/a/src'), { recursive: true });
    mkdirSync(join(dir, 'scripts'));
    writeFileSync(join(dir, 'scripts/tool.ts'), "import { spawn } from 'node:child_process';\nimport 'tsx';\n");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const workspace = (deps: Record<string, string>, source: string) => {
    writeFileSync(join(dir, 'packages/a/package.json'), JSON.stringify({ name: '@x/a', dependencies: deps }));
    writeFileSync(join(dir, 'packages/a/src/index.ts'), source);
  };

  it('passes this repository', () => {
    const result = run();
    expect(result.stdout).toContain('every import is declared');
    expect(result.status).toBe(0);
  });

  it('fails on an import the workspace does not declare, whatever its form', () => {
    for (const source of [
      "import { z } from 'zod';",
      "export { z } from 'zod/v4';",
      "const z = require('zod');",
      "const load = () => import('zod');",
      "import type { ZodType } from 'zod';",
    ]) {
      workspace({}, source);
      const result = run(dir);
      expect({ source, status: result.status }).toEqual({ source, status: 1 });
      expect(result.stderr).toContain('packages/a/src/index.ts: imports zod, which @x/a does not declare');
    }
  });

  it('passes declared, built-in, relative and self imports; strings and augmentations are not imports', () => {
    workspace(
      { zod: '*' },
      "import { z } from 'zod';\nimport fs from 'fs';\nimport { x } from './x';\nimport { a } from '@x/a';\nconst s = 'import nope from \"left-pad\"';\ndeclare module 'express-serve-static-core' {}\n",
    );
    const result = run(dir);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it("checks the root package's scripts against the root's own dependencies", () => {
    workspace({}, '');
    writeFileSync(join(dir, 'scripts/tool.ts'), "import { Client } from 'pg';\n");
    const result = run(dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('scripts/tool.ts: imports pg, which root does not declare');
  });
});
