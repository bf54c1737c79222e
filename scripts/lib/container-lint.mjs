// Checks the Dockerfile and docker-compose.yml for the properties genqueue's deployment relies on.
// Used where `docker compose config` cannot run (no compose plugin or no engine), and always after it:
// compose validates the syntax, this checks our own rules.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';

/** The Dockerfile as stages: `{ name, base, lines: [{ instruction, args, line }] }`. */
export function parseDockerfile(text) {
  const stages = [];
  const logical = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.trim();
    if (!pending && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (!pending) startLine = index + 1;
    if (trimmed.endsWith('\\')) {
      pending += `${trimmed.slice(0, -1)} `;
      return;
    }
    logical.push({ text: pending + trimmed, line: startLine });
    pending = '';
  });
  for (const { text: entry, line } of logical) {
    const match = /^(\w+)\s*(.*)$/.exec(entry);
    if (!match) continue;
    const instruction = match[1].toUpperCase();
    const args = match[2];
    if (instruction === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ name: from?.[2] ?? String(stages.length), base: from?.[1] ?? '', line, lines: [] });
      continue;
    }
    if (stages.length === 0) {
      if (instruction !== 'ARG') throw new Error(`line ${line}: ${instruction} before the first FROM`);
      continue;
    }
    stages.at(-1).lines.push({ instruction, args, line });
  }
  return stages;
}

/** Our rules for the Dockerfile; returns a list of problems (empty when it passes). */
export function lintDockerfile(text, { workspaces = [] } = {}) {
  const problems = [];
  let stages;
  try {
    stages = parseDockerfile(text);
  } catch (error) {
    return [error.message];
  }
  if (stages.length < 2) problems.push('the Dockerfile must be multi-stage (a build stage and a slim runtime stage)');
  const seen = new Set();
  for (const stage of stages) {
    if (/:latest$/.test(stage.base) || !stage.base.includes(':')) {
      if (!seen.has(stage.base)) problems.push(`stage ${stage.name}: base image "${stage.base}" is not pinned to a version`);
    }
    for (const { instruction, args, line } of stage.lines) {
      const from = /--from=(\S+)/.exec(args);
      if (instruction === 'COPY' && from && !seen.has(from[1])) {
        problems.push(`line ${line}: COPY --from=${from[1]} names no earlier stage`);
      }
    }
    seen.add(stage.name);
  }
  const runtime = stages.at(-1);
  if (runtime) {
    const users = runtime.lines.filter((l) => l.instruction === 'USER');
    const user = users.at(-1)?.args.trim();
    if (!user || user === 'root' || user === '0') problems.push('the runtime stage must switch to a non-root USER');
    if (!runtime.lines.some((l) => l.instruction === 'HEALTHCHECK')) problems.push('the runtime stage has no HEALTHCHECK');
    if (!runtime.lines.some((l) => l.instruction === 'CMD' || l.instruction === 'ENTRYPOINT')) problems.push('the runtime stage has no CMD');
    for (const l of runtime.lines) {
      if (l.instruction === 'RUN' && /\bnpm (ci|install)\b/.test(l.args)) problems.push(`line ${l.line}: the runtime stage installs packages; copy them from the build stage`);
    }
  }
  const build = stages[0];
  if (build) {
    const installAt = build.lines.findIndex((l) => l.instruction === 'RUN' && /\bnpm ci\b/.test(l.args));
    if (installAt < 0) problems.push('the build stage never runs npm ci');
    const copiedBeforeInstall = build.lines
      .slice(0, installAt < 0 ? build.lines.length : installAt)
      .filter((l) => l.instruction === 'COPY')
      .map((l) => l.args);
    for (const workspace of workspaces) {
      const manifest = `${workspace}/package.json`;
      if (!copiedBeforeInstall.some((args) => args.split(/\s+/).includes(manifest))) {
        problems.push(`the build stage does not copy ${manifest} before npm ci (the workspace would be missing from the install)`);
      }
    }
  }
  return problems;
}

const LOOPBACK_PORT = /^(127\.0\.0\.1|\[::1\]):\d+(-\d+)?:\d+/;

/** Our rules for docker-compose.yml; returns a list of problems (empty when it passes). */
export function lintCompose(text) {
  const problems = [];
  let doc;
  try {
    doc = yaml.load(text);
  } catch (error) {
    return [`docker-compose.yml is not valid YAML: ${error.message.split('\n')[0]}`];
  }
  const services = doc?.services;
  if (!services || typeof services !== 'object') return ['docker-compose.yml has no services'];
  for (const [name, service] of Object.entries(services)) {
    for (const port of service.ports ?? []) {
      const spec = typeof port === 'string' ? port : `${port.host_ip ?? ''}:${port.published ?? ''}:${port.target ?? ''}`;
      if (!LOOPBACK_PORT.test(spec)) problems.push(`service ${name}: port "${spec}" is not bound to loopback`);
    }
  }
  for (const name of ['api', 'worker']) {
    const service = services[name];
    if (!service) {
      problems.push(`no "${name}" service`);
      continue;
    }
    const command = [service.command ?? []].flat().join(' ');
    if (/\bnpm (ci|install)\b/.test(command)) problems.push(`service ${name}: installs packages at start; use the image`);
    if (!service.image && !service.build) problems.push(`service ${name}: neither image nor build`);
    if (!service.restart || service.restart === 'no') problems.push(`service ${name}: no restart policy`);
    const check = [service.healthcheck?.test ?? []].flat().join(' ');
    if (service.healthcheck?.disable || !check.includes('/readyz')) problems.push(`service ${name}: no health check on /readyz`);
  }
  const worker = services.worker;
  if (worker) {
    if (worker.container_name) problems.push('service worker: container_name prevents --scale worker=N');
    if ((worker.ports ?? []).some((p) => /^[^:]*:?\d+:\d+$/.test(String(p)) && !/-/.test(String(p)))) {
      problems.push('service worker: a fixed published port prevents --scale worker=N');
    }
  }
  if (services.api && services.worker && services.api.image && services.worker.image && services.api.image !== services.worker.image) {
    problems.push('services api and worker must run the same image');
  }
  return problems;
}

/** Both files of a checkout at `root` (or the files given, checked against that checkout's workspaces). */
export function lintContainerFiles(root, { dockerfile = join(root, 'Dockerfile'), compose = join(root, 'docker-compose.yml') } = {}) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const workspaces = [];
  for (const pattern of pkg.workspaces ?? []) {
    const dir = pattern.replace(/\/\*$/, '');
    for (const entry of readdirSafe(join(root, dir))) {
      if (existsSync(join(root, dir, entry, 'package.json'))) workspaces.push(`${dir}/${entry}`);
    }
  }
  return [
    ...lintDockerfile(readFileSync(dockerfile, 'utf8'), { workspaces }).map((p) => `Dockerfile: ${p}`),
    ...lintCompose(readFileSync(compose, 'utf8')).map((p) => `docker-compose.yml: ${p}`),
  ];
}

function readdirSafe(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
