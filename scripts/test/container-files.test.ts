import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The container files are checked in CI by scripts/check-container.mjs (docker compose config where
// it runs, and our own rules everywhere). Each rule is shown to fail on a copy broken on purpose.
const root = join(__dirname, '..', '..');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gq-container-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(files: { dockerfile?: string; compose?: string }): { status: number | null; output: string } {
  const d = join(dir, 'Dockerfile');
  const c = join(dir, 'docker-compose.yml');
  writeFileSync(d, files.dockerfile ?? dockerfile);
  writeFileSync(c, files.compose ?? compose);
  const run = spawnSync(process.execPath, [join(root, 'scripts/check-container.mjs'), '--dockerfile', d, '--compose', c], { encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

function replaced(text: string, from: string | RegExp, to: string): string {
  const next = text.replace(from, to);
  if (next === text) throw new Error(`the fixture no longer contains ${String(from)}`);
  return next;
}

describe('container files', () => {
  it('the repository passes', () => {
    const result = check({});
    expect(result.output).toContain('container files: ok');
    expect(result.status).toBe(0);
  });

  it.each([
    ['a root runtime', () => ({ dockerfile: replaced(dockerfile, /^USER node$/m, 'USER root') }), 'non-root USER'],
    ['no health check in the image', () => ({ dockerfile: replaced(dockerfile, /^HEALTHCHECK[\s\S]*?\n(?=CMD)/m, '') }), 'no HEALTHCHECK'],
    ['a stage that does not exist', () => ({ dockerfile: replaced(dockerfile, '--from=build', '--from=builder') }), 'names no earlier stage'],
    ['a single stage', () => ({ dockerfile: replaced(dockerfile, /^FROM node:20-bookworm-slim AS runtime$/m, '') }), 'multi-stage'],
    ['an unpinned base image', () => ({ dockerfile: replaced(dockerfile, 'FROM node:20-bookworm-slim AS build', 'FROM node AS build') }), 'not pinned'],
    ['a workspace left out of the install', () => ({ dockerfile: replaced(dockerfile, /^COPY packages\/queue\/package.json packages\/queue\/\n/m, '') }), 'packages/queue/package.json'],
    ['an install at start', () => ({ compose: replaced(compose, 'command: ["node", "--enable-source-maps", "dist/api.js"]', 'command: ["sh", "-c", "npm ci && node dist/api.js"]') }), 'installs packages at start'],
    ['a port open to every interface', () => ({ compose: replaced(compose, '"127.0.0.1:8080:8080"', '"8080:8080"') }), 'not bound to loopback'],
    ['a worker without health check', () => ({ compose: replaced(compose, /\n    healthcheck:\n      test: \["CMD", "node", "-e", "fetch\('http:\/\/127.0.0.1:'\+\(process.env.WORKER_HTTP_PORT[^\n]*/, '\n    healthcheck:\n      disable: true') }), 'service worker: no health check'],
    ['a worker without restart policy', () => ({ compose: replaced(compose, /(command: \["node", "--enable-source-maps", "dist\/worker\.js"\][\s\S]*?)\n    restart: unless-stopped/, '$1') }), 'service worker: no restart policy'],
    ['broken YAML', () => ({ compose: `${compose}\n  : [unclosed\n` }), 'not valid YAML'],
  ])('fails on %s', (_name, breakIt, message) => {
    const result = check(breakIt());
    expect(result.status).toBe(1);
    expect(result.output).toContain(message);
  });
});
