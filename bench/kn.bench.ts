// Benchmark: the kn stage (docs/definitions.md §6.5, byte-level interpolated Kneser–Ney,
// orders 1..6) on the enwik9 sizes it must handle, each configuration in its own child
// process so that its peak RSS is its own. The child runs the real data stage on the 1 MiB
// head of enwik9 and then kn with its schema defaults, as the engine would; it reports kn's
// run() time, wall and CPU (the budget is judged on CPU time: on a shared machine the wall
// time measures the other processes too), and the process's peak RSS
// (process.resourceUsage().maxRSS), before and after kn.
//
// Configurations (the 1 MiB head holds 1,048,576 bytes, so a training prefix and a held-out
// block after it must fit in it together):
//   - 960 KiB training, held out [960 KiB, 1 MiB): the largest training text that fits, with
//     the fixed held-out block of a data-size sweep (data.heldoutOffset = 983040,
//     data.heldoutBytes = 65536);
//   - 512 KiB training, held out the next 512 KiB (the default rule, bytes N..2N−1);
//   - with ENWIK9 naming a longer copy of enwik9 (≥ 2 MiB): 1 MiB training
//     (data.bytes = 1048576), held out [1 MiB, 2 MiB).
// Budget at every size: ≤ 10 s of CPU and ≤ 1 GB.
//
//   node --import tsx bench/kn.bench.ts
//
// The data file comes from TOTAL_INTERP_ENWIK9_1MIB, else ../shared/reference/
// enwik9-head-1MiB.txt; without it the benchmark says so and exits 0.

import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defaults, runStage } from './stage-bench.ts';
import type { StageOutput } from '../lib/engine/types.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const BUDGET_MS = 10_000;
const BUDGET_RSS_MB = 1024;

/** enwik9's first MiB: TOTAL_INTERP_ENWIK9_1MIB, else ../shared/reference/ beside the project, else null. */
function dataFile(): string | null {
  const env = process.env.TOTAL_INTERP_ENWIK9_1MIB;
  if (env) return existsSync(env) ? env : null;
  const f = path.resolve(here, '../../shared/reference/enwik9-head-1MiB.txt');
  return existsSync(f) ? f : null;
}

interface Config {
  label: string;
  file: string;
  data: { bytes: number; heldoutOffset: number | null; heldoutBytes: number | null };
}

/** Child: data then kn; prints one JSON line. */
async function child(cfg: Config): Promise<void> {
  const dataStage = (await import(pathToFileURL(path.join(here, '..', 'stages', 'data.ts')).href)).default;
  const knStage = (await import(pathToFileURL(path.join(here, '..', 'stages', 'kn.ts')).href)).default;
  const params = { ...defaults('data'), ...cfg.data, path: cfg.file };
  const d = await dataStage.run({ params, inputs: {}, externals: {}, progress: () => {}, warn: () => {}, env: {} });
  const data: StageOutput = { json: d.json, tensors: d.tensors ?? {}, key: 'data', outputHash: 'data' };
  const inputRssMB = process.resourceUsage().maxRSS / 1024;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const res = await runStage(knStage, { data });
  const runMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  const rssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ runMs, cpuMs, rssMB, inputRssMB, kn: res.json }));
}

async function parent(): Promise<void> {
  const file = dataFile();
  if (!file) {
    console.log('no enwik9-head-1MiB.txt (set TOTAL_INTERP_ENWIK9_1MIB): kn benchmark skipped');
    return;
  }
  const configs: Config[] = [
    { label: '960 KiB, held out [960 KiB, 1 MiB)', file, data: { bytes: 983040, heldoutOffset: 983040, heldoutBytes: 65536 } },
    { label: '512 KiB, held out [512 KiB, 1 MiB)', file, data: { bytes: 524288, heldoutOffset: null, heldoutBytes: null } },
  ];
  const big = process.env.ENWIK9;
  if (big && existsSync(big) && statSync(big).size >= 2 << 20) {
    configs.push({ label: '1 MiB, held out [1 MiB, 2 MiB)', file: path.resolve(big), data: { bytes: 1 << 20, heldoutOffset: null, heldoutBytes: null } });
  } else console.log('(ENWIK9 names no copy of enwik9 of at least 2 MiB: the 1 MiB training size with the next MiB held out is not run)');
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  let over = 0;
  console.log('| training N | held-out | kn run: CPU (wall) | peak RSS (before kn) | best order | best held-out bpc | bpc by order 1..6 |');
  console.log('|---|---|---|---|---|---|---|');
  for (const cfg of configs) {
    const r = spawnSync(process.execPath, ['--import', tsx, fileURLToPath(import.meta.url), '--child', JSON.stringify(cfg)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) {
      console.log(`| ${cfg.label} | failed: ${(r.stderr || '').trim().split('\n').slice(-3).join(' ')} |`);
      over++;
      continue;
    }
    const o = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    const j = o.kn;
    const ok = o.cpuMs <= BUDGET_MS && o.rssMB <= BUDGET_RSS_MB;
    if (!ok) over++;
    console.log(
      `| ${j.N} | [${j.heldout.offset}, ${j.heldout.offset + j.heldout.bytes}) | ${(o.cpuMs / 1000).toFixed(2)} s (${(o.runMs / 1000).toFixed(2)} s) | ${o.rssMB.toFixed(0)} MB (${o.inputRssMB.toFixed(0)} MB) | ${j.best.order} | ${j.best.heldout_bpc.toFixed(4)} | ${j.orders.map((x: any) => x.heldout_bpc.toFixed(3)).join(' ')} |${ok ? '' : ' over budget'}`,
    );
  }
  console.log(`budget: kn run ≤ ${BUDGET_MS / 1000} s of CPU and peak RSS ≤ ${BUDGET_RSS_MB} MB at every size: ${over ? `${over} over` : 'all within'}`);
  if (over) process.exitCode = 1;
}

const i = process.argv.indexOf('--child');
if (i >= 0) await child(JSON.parse(process.argv[i + 1]));
else await parent();
