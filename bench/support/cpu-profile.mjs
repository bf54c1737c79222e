/**
 * Preloaded (`--import`) into the API and worker when a bench runs with BENCH_CPU_PROF_DIR: samples
 * the process with the inspector's profiler and writes `<pid>-<entry>.cpuprofile` there on exit
 * (open it in Chrome DevTools or speedscope). NODE_OPTIONS refuses --cpu-prof, hence this file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import process from 'node:process';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  // apps/<name>/src/main.ts under tsx, dist/<name>.js from a bundle
  const script = process.argv[process.argv.length - 1] ?? 'node';
  const entry = script.endsWith('.js') ? path.basename(script, '.js') : path.basename(path.dirname(path.dirname(script)));
  process.on('exit', () => {
    // an in-process inspector session answers synchronously, so this runs before the exit completes
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `${process.pid}-${entry}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
