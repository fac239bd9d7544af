// `npm run bench [-- NAME...]`: every benchmark, one after another, each in its own
// process (so one's JIT warm-up and memory do not colour the next). Each prints medians
// and ratios against its target. Names: train, engine, s3, s4, s5, s6, hooks, scale, kn, analyses.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const ALL: [string, string][] = [
  ['train', 'training ms/epoch against a C -O3 build of the same loop (target ≤ 0.30× C on one thread at H = 128), throughput per core on 1 and 2 threads at 1 KiB and 512 KiB, cost per prediction at 1 and 64 KiB'],
  ['engine', 'engine no-op cost (target ≤ 50 ms over bare tsx start-up)'],
  ['s3', '§3 stages on the paper weights (target ≤ 3 s)'],
  ['s4', '§4 stages (target ≤ 10 s)'],
  ['s5', '§5 stages (target ≤ 10 s)'],
  ['hooks', 'hook forward with no hooks vs forwardStates (target: ratio ≤ 1.05)'],
  ['s6', '§6.2 stages (target ≤ 5 s)'],
  ['scale', 'every stage of the report at 64 KiB and 512 KiB, cpu time and peak RSS per stage process with the growth exponent (target ≤ 2 GB each)'],
  ['kn', 'byte-level Kneser–Ney, orders 1..6, at 960 KiB and 512 KiB of training text (target ≤ 10 s of CPU, ≤ 1 GB each)'],
  ['analyses', "each analysis stage before (226bf55) and after in the same run, and the cold report's wall time (target ≤ 6 s)"],
];
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !ALL.some(([n]) => n === w));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; valid: ${ALL.map(([n]) => n).join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const [name, what] of ALL) {
  if (wanted.length && !wanted.includes(name)) continue;
  console.log(`\n=== ${name}: ${what} ===`);
  const r = spawnSync(process.execPath, ['--import', tsx, path.join(here, `${name}.bench.ts`)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`(${name} exited with ${r.status ?? r.signal})`);
  }
}
process.exitCode = failed ? 1 : 0;
