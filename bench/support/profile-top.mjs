/* eslint-disable no-console -- a command-line tool: the printed table is its output */
/**
 * `node bench/support/profile-top.mjs <file.cpuprofile> [top=25]`: self time per function (name +
 * file:line) and per package/area, from a V8 CPU profile (`--cpu-prof` or BENCH_CPU_PROF_DIR).
 */
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-top.mjs <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
// each sample is one tick of the sampled node; timeDeltas[i] is the time before sample i
const selfUs = new Map();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

function area(url, name) {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const m = /(apps|packages)\/[^/]+/.exec(url);
  return m ? m[0] : url.replace(/^.*\//, '');
}
const byFn = new Map();
const byArea = new Map();
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  const cf = n.callFrame;
  const short = cf.url ? cf.url.replace(/^.*node_modules\//, '').replace(/^.*\/work\/[^/]+\//, '') : '';
  const key = `${cf.functionName || '(anonymous)'}  ${short}${short ? ':' + (cf.lineNumber + 1) : ''}`;
  byFn.set(key, (byFn.get(key) ?? 0) + us);
  const a = area(cf.url, cf.functionName);
  byArea.set(a, (byArea.get(a) ?? 0) + us);
}
const pct = (us) => `${((us * 100) / total).toFixed(1).padStart(5)} %`;
const busy = total - (byArea.get('(idle)') ?? 0);
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy`);
console.log('\nself time by area:');
for (const [k, us] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
console.log('\nself time by function:');
for (const [k, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
