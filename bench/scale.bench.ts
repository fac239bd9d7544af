// Benchmark (issue 15 item 5): the analyses a Q3 sweep runs, at N = 65536 bytes.
// The paper's weights (H = 128) on the first N bytes of the 1 MiB enwik9 head, each stage
// in its own child process so that its peak RSS is its own: the child builds the stage's
// upstream outputs as the engine hands them over (data, model and, for the analyses, the
// trace), runs the stage with its schema defaults, then encodes its tensors as the store
// does. Per stage: run() time, encode time, peak RSS of the process. Budget: all stages
// together ≤ 60 s and each ≤ 2 GB.
//
//   node --import tsx bench/scale.bench.ts [N [STAGE...]]     (default N = 65536, all stages)
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
export const STAGES = ['trace', 'carrier-pattern', 'influence', 'decomposition', 'baselines', 'timing-carrier'];

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
    data: output({ bytes: N }, { bytes: { dtype: 'uint8', shape: [N], data: xs } }, 'data'),
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
  const { encodeTensor } = await import('../lib/engine/tensor.ts');
  const t1 = performance.now();
  let bytes = 0;
  for (const t of Object.values(res.tensors ?? {})) bytes += encodeTensor(t).length;
  const encodeMs = performance.now() - t1;
  const rssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ stage: name, runMs, cpuMs, encodeMs, rssMB, inputRssMB, outMB: bytes / 2 ** 20, json: res.json.positions ?? res.json.count ?? null }));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1], Number(args[2]), args[3]);
  const N = Number(args[0] ?? 65536);
  const file = dataFile();
  if (!file) {
    console.log('skipped: no enwik9-head-1MiB.txt (set TOTAL_INTERP_ENWIK9_1MIB or put it in ../shared/reference/)');
    return;
  }
  const { loadavg } = await import('node:os');
  try {
    paperWeightsFile();
  } catch (e) {
    console.log(`skipped: ${(e as Error).message.split('\n').join('; ')}`);
    return;
  }
  console.log(`N = ${N} bytes of ${path.basename(file)}, the paper's weights (H = 128); each stage in its own process; load average ${loadavg()[0].toFixed(1)}`);
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  let total = 0;
  let totalCpu = 0;
  let peak = 0;
  const only = args.slice(1);
  for (const name of STAGES) {
    if (only.length && !only.includes(name)) continue;
    if (!existsSync(path.join(here, '..', 'stages', `${name}.ts`))) {
      console.log(`${name.padEnd(16)} skipped (no stages/${name}.ts in this tree)`);
      continue;
    }
    const r = spawnSync(process.execPath, ['--import', tsx, fileURLToPath(import.meta.url), '--child', name, String(N), file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 24,
    });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !line.startsWith('{')) {
      console.log(`${name.padEnd(16)} FAILED (exit ${r.status ?? r.signal}) ${r.stdout}`);
      process.exitCode = 1;
      continue;
    }
    const m = JSON.parse(line);
    total += m.runMs + m.encodeMs;
    totalCpu += m.cpuMs;
    peak = Math.max(peak, m.rssMB);
    console.log(
      `${name.padEnd(16)} ${(m.runMs / 1000).toFixed(2).padStart(7)} s run (cpu ${(m.cpuMs / 1000).toFixed(2)} s) + ${(m.encodeMs / 1000).toFixed(2)} s encode` +
        `  peak RSS ${m.rssMB.toFixed(0).padStart(5)} MB (inputs alone ${m.inputRssMB.toFixed(0)} MB)  out ${m.outMB.toFixed(0)} MB` +
        (m.json ? `  positions ${JSON.stringify(m.json)}` : ''),
    );
  }
  const { loadavg: la, cpus } = await import('node:os');
  const memOk = peak <= BUDGET_RSS_MB;
  console.log(
    `${'all'.padEnd(16)} ${(total / 1000).toFixed(2).padStart(7)} s wall, ${(totalCpu / 1000).toFixed(2)} s run cpu; budget ${BUDGET_MS / 1000} s: ` +
      `wall ${total <= BUDGET_MS ? 'met' : 'NOT met'} (${(total / BUDGET_MS).toFixed(2)} of it), cpu ${totalCpu <= BUDGET_MS ? 'met' : 'NOT met'} (${(totalCpu / BUDGET_MS).toFixed(2)} of it)` +
      `; max peak RSS ${peak.toFixed(0)} MB, budget ${BUDGET_RSS_MB} MB: ${memOk ? 'met' : 'NOT met'}`,
  );
  console.log(`(load average now ${la()[0].toFixed(1)} on ${cpus().length} cores: on a shared machine the wall time overstates the work; cpu is the stages' own time)`);
  if (!memOk) process.exitCode = 1;
}

await main();
