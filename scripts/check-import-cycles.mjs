#!/usr/bin/env node
// No import cycles: between workspaces (through their @genqueue/* imports) and between the modules of
// each workspace's src (relative imports, type-only ones included). Prints each cycle found.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..');
const ts = createRequire(import.meta.url)('typescript');
const importsOf = (text) => ts.preProcessFile(text.replace(/declare\s+module\s+['"][^'"]+['"]/g, ''), true, true).importedFiles.map((f) => f.fileName);

function* sourceFiles(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    if (['node_modules', 'dist', 'generated'].includes(entry)) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|tsx)$/.test(entry) && !entry.endsWith('.d.ts')) yield path;
  }
}

function resolveRelative(from, specifier) {
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

/** Every elementary cycle's first occurrence, by depth-first search with an explicit path. */
function findCycles(graph) {
  const cycles = [];
  const state = new Map(); // 1: on the path, 2: done
  const path = [];
  const visit = (node) => {
    state.set(node, 1);
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 1) cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 2);
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const workspaces = [];
for (const group of rootPackage.workspaces.map((w) => w.replace(/\/\*$/, ''))) {
  for (const name of readdirSync(join(root, group))) {
    const dir = join(root, group, name);
    if (existsSync(join(dir, 'package.json'))) workspaces.push({ dir, name: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name });
  }
}
const names = new Set(workspaces.map((w) => w.name));
const packageGraph = new Map();
const problems = [];
for (const { dir, name } of workspaces) {
  const moduleGraph = new Map();
  const uses = new Set();
  for (const file of sourceFiles(join(dir, 'src'))) {
    const edges = [];
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) {
        const target = resolveRelative(file, specifier);
        if (target) edges.push(target);
      } else {
        const used = specifier.split('/').slice(0, 2).join('/');
        if (names.has(used) && used !== name) uses.add(used);
      }
    }
    moduleGraph.set(file, edges);
  }
  packageGraph.set(name, [...uses]);
  for (const cycle of findCycles(moduleGraph)) problems.push(`${name}: ${cycle.map((f) => relative(root, f)).join(' → ')}`);
}
for (const cycle of findCycles(packageGraph)) problems.push(`workspaces: ${cycle.join(' → ')}`);
for (const problem of problems) console.error(`import cycle: ${problem}`);
if (problems.length > 0) process.exit(1);
console.log(`import cycles: none (${workspaces.length} workspaces)`);
