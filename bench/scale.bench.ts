// Benchmark: the analyses a Q3 sweep runs (docs/definitions.md §6.4), at 64 KiB and
// 512 KiB (or the sizes given), with the growth exponent of each stage's time and peak RSS
// between the first and the last size: log(t_b / t_a) / log(N_b / N_a) (1: linear in N).
// The paper's weights (H = 128) on the first N bytes of the 1 MiB enwik9 head, each stage
// in its own child process so that its peak RSS is its own: the child builds the stage's
// upstream outputs as the engine hands them over (data, model and, for the analyses, the
// trace), runs the stage with its schema defaults, then encodes its tensors as the store
// does. Per stage: run() time, encode time, peak RSS of the process. Budget: all stages
// together ≤ 60 s and each ≤ 2 GB.
//
//   node --import tsx bench/scale.bench.ts [N[,N2...] [STAGE...]]   (default 65536,524288, all stages)
//
// The data file comes from TOTAL_INTERP_ENWIK9_1MIB, else ../shared/reference/
// enwik9-head-1MiB.txt; without it the benchmark says so and exits 0. The paper's weights
// as for the other benchmarks (TOTAL_INTERP_PAPER_WEIGHTS or the download folder). Stages not in this
// tree (e.g. a §6 stage still being written) are skipped with a message.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StageDef, StageOutput } from '../lib/engine/types.ts';
import { parseWeightsFile, V } from '../lib/rnn/weights.ts';
import { output, paperWeightsFile, runStage } from './stage-bench.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BUDGET_MS = 60_000;
export const BUDGET_RSS_MB = 2048;
/** The stages a Q3 sweep needs, in build order (trace first: the others read it). */
export const STAGES = ['trace', 'carrier-pattern', 'influence', 'decomposition', 'baselines', 'timing-carrier', 'kn'];
/** The sizes the benchmark runs by default: Q3's 64 KiB and its largest, 512 KiB. */
export const SIZES = [65536, 524288];

/** Growth exponent between two sizes: log(b / a) / log(Nb / Na); null when either is not positive. */
export function growth(a: number, b: number, Na: number, Nb: number): number | null {
  return a > 0 && b > 0 && Nb !== Na ? Math.log(b / a) / Math.log(Nb / Na) : null;
}

export function dataFile(): string | null {
  const env = process.env.TOTAL_INTERP_ENWIK9_1MIB;
  if (env) return existsSync(env) ? env : null;
  const f = path.resolve(here, '../../shared/reference/enwik9-head-1MiB.txt');
  return existsSync(f) ? f : null;
}

/** data and model outputs, and the trace unless `withTrace` is false. */
async function inputsAt(N: number, file: string, withTrace: boolean): Promise<Record<string, StageOutput>> {
  const buf = readFileSync(file);
  if (buf.length < N) throw new Error(`${file} has ${buf.length} bytes, fewer than N = ${N}`);
  const xs = new Uint8Array(buf.subarray(0, N));
  const w = parseWeightsFile(new Uint8Array(readFileSync(paperWeightsFile())));
  const H = w.H;
  const inputs: Record<string, StageOutput> = {
    // the Q3 held-out block [960 KiB, 1 MiB) when the file holds it (kn reads it)
    data: output(
      { bytes: N, heldout: { offset: 983040, bytes: buf.length >= 1048576 ? 65536 : 0 } },
      { bytes: { dtype: 'uint8', shape: [N], data: xs }, heldout: { dtype: 'uint8', shape: [buf.length >= 1048576 ? 65536 : 0], data: new Uint8Array(buf.length >= 1048576 ? buf.subarray(983040, 1048576) : new Uint8Array(0)) } },
      'data',
    ),
    model: output({ H }, { params: { dtype: 'float32', shape: [w.params.length], data: w.params } }, 'model'),
  };
  if (withTrace) {
    const { forwardTrace } = await import('../lib/rnn/forward.ts');
    const tr = forwardTrace(w, xs);
    inputs.trace = output({ T: N, H }, {
      z: { dtype: 'float32', shape: [N, H], data: tr.z },
      S: { dtype: 'float32', shape: [N, H], data: tr.S },
      logp: { dtype: 'float64', shape: [N, V], data: tr.logp },
      bits: { dtype: 'float64', shape: [N - 1], data: tr.bits },
    }, 'trace');
  }
  return inputs;
}

/** Child: run one stage, print one JSON line {stage, runMs, cpuMs, encodeMs, rssMB, inputRssMB, outMB, json}. */
async function child(name: string, N: number, file: string): Promise<void> {
  const def: StageDef = (await import(pathToFileURL(path.join(here, '..', 'stages', `${name}.ts`)).href)).default;
  const ins = typeof def.inputs === 'function' ? def.inputs({}) : def.inputs;
  const inputs = await inputsAt(N, file, ins.includes('trace'));
  const inputRssMB = process.resourceUsage().maxRSS / 1024;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const res = await runStage(def, inputs);
  const runMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const { encodeTensor } = await import('../lib/engine/keep/tensor.ts');
  const t1 = performance.now();
  let bytes = 0;
  for (const t of Object.values(res.tensors ?? {})) bytes += encodeTensor(t).length;
  const encodeMs = performance.now() - t1;
  const rssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ stage: name, runMs, cpuMs, encodeMs, rssMB, inputRssMB, outMB: bytes / 2 ** 20, json: res.json.positions ?? res.json.count ?? null }));
}

interface Measure { runMs: number; cpuMs: number; encodeMs: number; rssMB: number; inputRssMB: number; outMB: number; json: unknown }

/** One stage at one size in its own process; null (with the reason printed) when it failed. */
function measure(tsx: string, name: string, N: number, file: string): Measure | null {
  const r = spawnSync(process.execPath, ['--import', tsx, fileURLToPath(import.meta.url), '--child', name, String(N), file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) {
    console.log(`${name.padEnd(16)} N=${N}: FAILED (exit ${r.status ?? r.signal}) ${r.stdout}`);
    process.exitCode = 1;
    return null;
  }
  return JSON.parse(line);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1], Number(args[2]), args[3]);
  const sizes = args[0] ? args[0].split(',').map(Number) : SIZES;
  const file = dataFile();
  if (!file) {
    console.log('skipped: no enwik9-head-1MiB.txt (set TOTAL_INTERP_ENWIK9_1MIB or put it in ../shared/reference/)');
    return;
  }
  const { loadavg, cpus } = await import('node:os');
  try {
    paperWeightsFile();
  } catch (e) {
    console.log(`skipped: ${(e as Error).message.split('\n').join('; ')}`);
    return;
  }
  console.log(`N = ${sizes.join(', ')} bytes of ${path.basename(file)}, the paper's weights (H = 128); each stage in its own process; load average ${loadavg()[0].toFixed(1)}`);
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const only = args.slice(1);
  const totals = sizes.map(() => ({ wall: 0, cpu: 0, peak: 0 }));
  for (const name of STAGES) {
    if (only.length && !only.includes(name)) continue;
    if (!existsSync(path.join(here, '..', 'stages', `${name}.ts`))) {
      console.log(`${name.padEnd(16)} skipped (no stages/${name}.ts in this tree)`);
      continue;
    }
    const ms = sizes.map((N, i) => {
      const m = measure(tsx, name, N, file);
      if (m) {
        totals[i].wall += m.runMs + m.encodeMs;
        totals[i].cpu += m.cpuMs;
        totals[i].peak = Math.max(totals[i].peak, m.rssMB);
        console.log(
          `${name.padEnd(16)} N=${String(N).padStart(7)} ${(m.runMs / 1000).toFixed(2).padStart(7)} s run (cpu ${(m.cpuMs / 1000).toFixed(2)} s) + ${(m.encodeMs / 1000).toFixed(2)} s encode` +
            `  peak RSS ${m.rssMB.toFixed(0).padStart(5)} MB (inputs alone ${m.inputRssMB.toFixed(0)} MB)  out ${m.outMB.toFixed(0)} MB` +
            (m.json ? `  positions ${JSON.stringify(m.json)}` : ''),
        );
      }
      return m;
    });
    const [a, b] = [ms[0], ms[ms.length - 1]];
    if (sizes.length > 1 && a && b) {
      const g = (x: number | null) => (x === null ? '—' : x.toFixed(2));
      const gc = growth(a.cpuMs, b.cpuMs, sizes[0], sizes[sizes.length - 1]);
      const gr = growth(a.rssMB - a.inputRssMB, b.rssMB - b.inputRssMB, sizes[0], sizes[sizes.length - 1]);
      console.log(`${name.padEnd(16)} growth ${sizes[0]} → ${sizes[sizes.length - 1]}: cpu ∝ N^${g(gc)}, RSS beyond its inputs ∝ N^${g(gr)}; peak RSS ${b.rssMB.toFixed(0)} MB: ${b.rssMB <= BUDGET_RSS_MB ? 'within' : 'OVER'} the ${BUDGET_RSS_MB} MB budget`);
    }
  }
  sizes.forEach((N, i) => {
    const t = totals[i];
    console.log(
      `${'all'.padEnd(16)} N=${String(N).padStart(7)} ${(t.wall / 1000).toFixed(2).padStart(7)} s wall, ${(t.cpu / 1000).toFixed(2)} s run cpu; max peak RSS ${t.peak.toFixed(0)} MB, budget ${BUDGET_RSS_MB} MB: ${t.peak <= BUDGET_RSS_MB ? 'met' : 'NOT met'}` +
        (N === 65536 ? `; 64 KiB budget ${BUDGET_MS / 1000} s cpu: ${t.cpu <= BUDGET_MS ? 'met' : 'NOT met'}` : ''),
    );
    if (t.peak > BUDGET_RSS_MB) process.exitCode = 1;
  });
  console.log(`(load average now ${loadavg()[0].toFixed(1)} on ${cpus().length} cores: on a shared machine the wall time overstates the work; cpu is the stages' own time)`);
}

await main();
