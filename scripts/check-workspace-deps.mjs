#!/usr/bin/env node
// Every workspace declares what it imports (no reliance on npm's hoisting): scans each workspace's
// sources, tests and scripts for bare imports and lists those missing from its package.json.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// the checkout to check: this one, or the folder given (the tests check made-up ones)
const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..');
const builtins = new Set(builtinModules);
const SKIP = new Set(['node_modules', 'dist', 'generated']);
// TypeScript's own pre-processor lists a file's imports, exports-from, require() and import() calls
const ts = createRequire(import.meta.url)('typescript');
// (a `declare module '…'` augmentation names a module of the types it extends, not an import)
const importsOf = (text) => ts.preProcessFile(text.replace(/declare\s+module\s+['"][^'"]+['"]/g, ''), true, true).importedFiles.map((f) => f.fileName);

function packageOf(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return null;
  const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
  return builtins.has(name) ? null : name;
}

function* sourceFiles(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    if (SKIP.has(entry)) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|tsx|mts|mjs|js)$/.test(entry) && !entry.endsWith('.d.ts')) yield path;
  }
}

const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
/** Each workspace with the folders it owns; the root package owns the repository's own scripts and benches. */
const owners = [{ dir: root, pkg: rootPackage, folders: ['scripts', 'bench'] }];
for (const group of rootPackage.workspaces.map((w) => w.replace(/\/\*$/, ''))) {
  for (const name of readdirSync(join(root, group))) {
    const dir = join(root, group, name);
    try {
      owners.push({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')), folders: ['.'] });
    } catch {
      // not a package
    }
  }
}
let problems = 0;
for (const { dir, pkg, folders } of owners) {
  const declared = new Set([pkg.name, ...Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies })]);
  for (const folder of folders) {
    for (const file of sourceFiles(join(dir, folder))) {
      for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
        const used = packageOf(specifier);
        if (used && !declared.has(used)) {
          problems += 1;
          console.error(`${relative(root, file)}: imports ${used}, which ${pkg.name} does not declare`);
        }
      }
    }
  }
}
if (problems > 0) process.exit(1);
console.log('workspace dependencies: every import is declared');
