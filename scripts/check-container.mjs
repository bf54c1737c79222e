#!/usr/bin/env node
// CI check of the container files: `docker compose config` where the compose plugin runs, and
// always our own rules (scripts/lib/container-lint.mjs), so a machine without Docker still checks them.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lintContainerFiles } from './lib/container-lint.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// `--dockerfile F --compose F` check other files against this checkout (the tests break copies on purpose)
const { values: files } = parseArgs({ options: { dockerfile: { type: 'string' }, compose: { type: 'string' } } });

const compose = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
if (compose.status === 0 && !files.compose) {
  const config = spawnSync('docker', ['compose', '--profile', 'app', 'config', '--quiet'], { cwd: root, encoding: 'utf8' });
  if (config.status !== 0) {
    console.error(config.stderr || config.stdout);
    process.exit(1);
  }
  console.log('docker compose config: ok');
} else {
  console.log('docker compose is not available here: checking the YAML and the Dockerfile stages only');
}

const problems = lintContainerFiles(root, files);
for (const problem of problems) console.error(`  ${problem}`);
if (problems.length > 0) process.exit(1);
console.log('container files: ok (multi-stage, non-root runtime, health checks on /readyz, loopback ports, restart policies)');
