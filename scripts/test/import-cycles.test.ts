import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const checker = join(__dirname, '..', 'check-import-cycles.mjs');
const run = (root: string) => spawnSync(process.execPath, [checker, root], { encoding: 'utf8' });

describe('import cycle check', () => {
  let dir: string;
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gq-cycles-'));
    write('package.json', JSON.stringify({ name: 'root', workspaces: ['packages/*'] }));
    write('packages/a/package.json', JSON.stringify({ name: '@x/a' }));
    write('packages/b/package.json', JSON.stringify({ name: '@x/b' }));
    write('packages/a/src/index.ts', "export * from './one';\n");
    write('packages/a/src/one.ts', "import { two } from './two';\nexport const one = two;\n");
    write('packages/a/src/two.ts', 'export const two = 2;\n');
    write('packages/b/src/index.ts', "import { one } from '@x/a';\nexport const b = one;\n");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('passes a tree without cycles', () => {
    const result = run(dir);
    expect(result.stdout).toContain('import cycles: none');
    expect(result.status).toBe(0);
  });

  it('finds a cycle between modules, type-only imports included', () => {
    write('packages/a/src/two.ts', "import type { One } from './one';\nexport const two = 2;\nexport type Two = One;\n");
    const result = run(dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('import cycle: @x/a: packages/a/src/one.ts → packages/a/src/two.ts → packages/a/src/one.ts');
  });

  it('finds a cycle between workspaces', () => {
    write('packages/a/src/two.ts', "import { b } from '@x/b/src/index';\nexport const two = b;\n");
    const result = run(dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('import cycle: workspaces: @x/a → @x/b → @x/a');
  });
});
