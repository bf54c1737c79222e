import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { JOB_TYPE_NAMES, parseJobRequest } from '@genqueue/core';
import { buildOpenApiDocument, typeName } from '../src/openapi';
import { EXAMPLE_INPUTS } from './openapi-examples';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
const OPENAPI_TS = path.join(ROOT, 'node_modules/openapi-typescript/bin/cli.js');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

/** The client's view of a request body and an answer, through the generated types only. */
const PRELUDE = `import type { paths } from './genqueue-client';
type SubmitBody = paths['/v1/jobs']['post']['requestBody']['content']['application/json'];
type Submitted = paths['/v1/jobs']['post']['responses'][202]['content']['application/json'];
declare function submit(body: SubmitBody): Promise<Submitted>;
`;

/**
 * The "Done when": a TypeScript client generated from /openapi.json (the document app.ts
 * serves: buildOpenApiDocument) with openapi-typescript type-checks a submission of every job
 * type with its real input, and refuses a wrong input.
 */
describe('a client generated from /openapi.json', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'genqueue-openapi-client-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('has an example input for every job type, each accepted by the service', () => {
    expect(Object.keys(EXAMPLE_INPUTS).sort()).toEqual([...JOB_TYPE_NAMES].sort());
    for (const [type, input] of Object.entries(EXAMPLE_INPUTS)) {
      const parsed = parseJobRequest({ type, input });
      if (!parsed.ok) throw new Error(`${type}: ${JSON.stringify(parsed.details)}`);
    }
  });

  it('type-checks a submission of each job type and refuses a wrong input', async () => {
    writeFileSync(path.join(dir, 'openapi.json'), JSON.stringify(buildOpenApiDocument('http://127.0.0.1:8080')));
    await run(process.execPath, [OPENAPI_TS, path.join(dir, 'openapi.json'), '-o', path.join(dir, 'genqueue-client.ts')], { cwd: dir });

    const good = Object.entries(EXAMPLE_INPUTS).map(
      ([type, input]) => `export const ${typeName(type).replace(/^./, (c) => c.toLowerCase())} = submit(${JSON.stringify({ type, input, metadata: { order: 'A-1' } })});`,
    );
    // the answer is typed too: a job whose status is one of the six
    good.push(`export const status: Promise<'queued' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'expired'> = submit(${JSON.stringify({ type: 'image.generate', input: EXAMPLE_INPUTS['image.generate'] })}).then((job) => job.status);`);
    writeFileSync(path.join(dir, 'good.ts'), `${PRELUDE}\n${good.join('\n')}\n`);
    // n must be an integer: a string where image.generate takes a number, and an unknown field of mj.describe
    writeFileSync(
      path.join(dir, 'wrong.ts'),
      `${PRELUDE}\nexport const wrongType = submit({ type: 'image.generate', input: { prompt: 'a fox', n: '2' } });\nexport const unknownField = submit({ type: 'mj.describe', input: { image: { url: 'https://example.org/a.png' }, prompt: 'not a field of mj.describe' } });\nexport const wrongBranch = submit({ type: 'audio.speech', input: { prompt: 'speech takes input and voice' } });\n`,
    );

    // a project of its own: no @types of the repository, nothing but the file and the generated types
    const tsc = (file: string) => {
      const config = path.join(dir, `tsconfig.${file}.json`);
      const compilerOptions = { strict: true, noEmit: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler', types: [], skipLibCheck: true };
      writeFileSync(config, JSON.stringify({ compilerOptions, files: [file] }));
      return run(process.execPath, [TSC, '-p', config], { cwd: dir }).then(
        () => ({ code: 0, out: '' }),
        (err: { code?: number; stdout?: string }) => ({ code: err.code ?? 1, out: err.stdout ?? '' }),
      );
    };
    const [ok, bad] = await Promise.all([tsc('good.ts'), tsc('wrong.ts')]);
    expect(ok).toEqual({ code: 0, out: '' });
    expect(bad.code).not.toBe(0);
    // each of the three wrong submissions is refused, on its own line
    const lines = new Set([...bad.out.matchAll(/wrong\.ts\((\d+),/g)].map((m) => Number(m[1])));
    expect([...lines].sort()).toEqual([6, 7, 8]);
  }, 60_000);
});
