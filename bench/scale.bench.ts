// Benchmark: every stage of the report (docs/definitions.md §6.4 asks for them at every Q3
// size), at 64 KiB and 512 KiB (or the sizes given), with the growth exponent of each
// stage's cpu time and peak RSS between the first and the last size:
// log(t_b / t_a) / log(N_b / N_a) (1: linear in N). The paper's weights (H = 128) on the
// first N bytes of the 1 MiB enwik9 head, held-out text the Q3 block [960 KiB, 1 MiB).
// Each stage runs in its own child process so that its peak RSS is its own, as under
// --jobs: the child reads its upstream outputs from the files the upstream children wrote
// (json, and each tensor encoded as the store holds it, decoded as the engine decodes it),
// runs the stage with its schema defaults, encodes its tensors and writes them for the
// stages downstream. Per stage: run() time and cpu, encode time, peak RSS of the process.
// Budget: each stage ≤ 2 GB peak RSS. Training is not here (bench/train.bench.ts; its
// memory is the weights and the data).
//
//   node --import tsx bench/scale.bench.ts [--sizes N[,N2…]] [--stages a,b…] [--dir DIR] [--again]
//   (default 65536,524288, every stage, a temporary folder; `N,… stage…` positionally as before)
//
// Naming stages measures those; the stages they read run first (marked "upstream"). With
// --dir the outputs and measurements stay in DIR/<N>/: a later run reuses an upstream output
// found there and its table shows every size measured so far, so the benchmark can be run
// in pieces (a size, or a few stages, at a time) and still print the growth exponents; a
// stage measured there already is not run again (--again: measure it anew).
// The data file comes from TOTAL_INTERP_ENWIK9_1MIB, else ../shared/reference/
// enwik9-head-1MiB.txt; without it the benchmark says so and exits 0. The paper's weights
// as for the other benchmarks (TOTAL_INTERP_PAPER_WEIGHTS or the download folder). Stages not in this
// tree are skipped with a message.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StageDef, StageOutput } from '../lib/engine/types.ts';
import { parseWeightsFile } from '../lib/rnn/weights.ts';
import { defaults, output, paperWeightsFile } from './stage-bench.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BUDGET_RSS_MB = 2048;
/** The report's stages after data and model, in build order (each after the stages it reads). */
export const STAGES = [
  'trace', 'skipgrams', 'kn', 'carrier-pattern', 'influence', 'decomposition', 'baselines', 'timing-carrier', 'boolean', 'isomorphism',
  'pattern-tables', 'factor-map', 'construction', 'reverse-iso', 'describe', 'rebuild', 'rebuild-score', 'viewer', 'report',
];
/** The Q3 held-out block, enwik9 bytes [960 KiB, 1 MiB). */
const HELDOUT = { offset: 983040, bytes: 65536 };
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

async function stageDef(name: string): Promise<StageDef> {
  return (await import(pathToFileURL(path.join(here, '..', 'stages', `${name}.ts`)).href)).default;
}

async function inputNames(name: string): Promise<string[]> {
  const def = await stageDef(name);
  return [...(typeof def.inputs === 'function' ? def.inputs(defaults(name)) : def.inputs)];
}

/** data and model outputs at N (the data with the Q3 held-out block when the file holds it). */
function rootInputs(N: number, file: string): Record<string, StageOutput> {
  const buf = readFileSync(file);
  if (buf.length < N) throw new Error(`${file} has ${buf.length} bytes, fewer than N = ${N}`);
  const xs = new Uint8Array(buf.subarray(0, N));
  const ho = buf.length >= HELDOUT.offset + HELDOUT.bytes ? new Uint8Array(buf.subarray(HELDOUT.offset, HELDOUT.offset + HELDOUT.bytes)) : new Uint8Array(0);
  const w = parseWeightsFile(new Uint8Array(readFileSync(paperWeightsFile())));
  return {
    data: output(
      { bytes: N, source: 'enwik9', heldout: { offset: HELDOUT.offset, bytes: ho.length } },
      { bytes: { dtype: 'uint8', shape: [N], data: xs }, heldout: { dtype: 'uint8', shape: [ho.length], data: ho } },
      'data',
    ),
    model: output({ H: w.H, source: 'paper' }, { params: { dtype: 'float32', shape: [w.params.length], data: w.params } }, 'model'),
  };
}

/** An upstream stage's output as a child wrote it into `dir`, decoded as the engine decodes it. */
async function readOutput(dir: string, name: string): Promise<StageOutput> {
  const { decodeTensor } = await import('../lib/engine/keep/tensor.ts');
  const meta = JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as { json: Record<string, unknown>; tensors: string[] };
  const tensors: StageOutput['tensors'] = {};
  for (const t of meta.tensors) tensors[t] = decodeTensor(readFileSync(path.join(dir, `${name}.${t}.tensor`)), `${name}.${t}`, { owned: true });
  return output(meta.json, tensors, name);
}

/** Child: run one stage, print one JSON line {stage, runMs, cpuMs, encodeMs, rssMB, inputRssMB, outMB, json, sampled}; write its output into dir. */
async function child(name: string, N: number, file: string, dir: string): Promise<void> {
  const def = await stageDef(name);
  const roots = rootInputs(N, file);
  const inputs: Record<string, StageOutput> = {};
  for (const n of await inputNames(name)) inputs[n] = roots[n] ?? (await readOutput(dir, n));
  const inputRssMB = process.resourceUsage().maxRSS / 1024;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const params = defaults(name);
  const externals = Object.fromEntries((def.externals?.(params as never, process.env) ?? []).map((f) => [f.name, f]));
  const res = await def.run({ params, inputs, externals, progress: () => {}, warn: () => {}, env: process.env, overrides: {} });
  const runMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const { encodeTensor } = await import('../lib/engine/keep/tensor.ts');
  const t1 = performance.now();
  let bytes = 0;
  let encodeMs = 0;
  for (const [t, v] of Object.entries(res.tensors ?? {})) {
    const enc = encodeTensor(v);
    encodeMs += performance.now() - t1;
    bytes += enc.length;
    writeFileSync(path.join(dir, `${name}.${t}.tensor`), enc);
  }
  if (!Object.keys(res.tensors ?? {}).length) encodeMs = performance.now() - t1;
  writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ json: res.json, tensors: Object.keys(res.tensors ?? {}) }));
  const rssMB = process.resourceUsage().maxRSS / 1024;
  const j = res.json as Record<string, any>;
  const { sampledStages, sampleWords } = await import('../lib/report/sweep.ts');
  const sampled = sampledStages({ [name]: { json: j } }).map((x) => `${x.where}: ${sampleWords(x)}`);
  console.log(JSON.stringify({ stage: name, runMs, cpuMs, encodeMs, rssMB, inputRssMB, outMB: bytes / 2 ** 20, json: j.positions ?? j.count ?? null, sampled }));
}

interface Measure { runMs: number; cpuMs: number; encodeMs: number; rssMB: number; inputRssMB: number; outMB: number; json: unknown; sampled?: string[] }

/** One stage at one size in its own process; null (with the reason printed) when it failed. */
function measure(tsx: string, name: string, N: number, file: string, dir: string): Measure | null {
  const r = spawnSync(process.execPath, ['--import', tsx, fileURLToPath(import.meta.url), '--child', name, String(N), file, dir], {
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

/** The flags: sizes, stages, a kept work folder (positional N[,N…] and stage names as before). */
export function parseArgs(args: string[]): { sizes: number[]; stages: string[]; dir: string | null; again: boolean } {
  let sizes: number[] | null = null;
  const stages: string[] = [];
  let dir: string | null = null;
  let again = false;
  const list = (v: string | undefined, flag: string) => {
    if (!v) throw new Error(`${flag} needs a value`);
    return v.split(',').filter(Boolean);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--sizes') sizes = list(args[++i], a).map(Number);
    else if (a === '--stages') stages.push(...list(args[++i], a));
    else if (a === '--dir') {
      dir = args[++i];
      if (!dir) throw new Error('--dir needs a folder');
    }
    else if (a === '--again') again = true;
    else if (/^\d/.test(a) && sizes === null && !stages.length) sizes = a.split(',').map(Number);
    else if (a.startsWith('--')) throw new Error(`unknown flag ${a} (--sizes N,… --stages a,b --dir DIR --again)`);
    else stages.push(a);
  }
  const bad = (sizes ?? []).filter((n) => !Number.isInteger(n) || n < 2);
  if (bad.length) throw new Error(`--sizes: ${bad.join(', ')} is not a size in bytes`);
  const unknown = stages.filter((n) => !STAGES.includes(n));
  if (unknown.length) throw new Error(`unknown stage ${unknown.join(', ')} (stages: ${STAGES.join(' ')})`);
  return { sizes: sizes ?? SIZES, stages, dir, again };
}

const measureFile = (dir: string, name: string) => path.join(dir, `${name}.measure.json`);

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1], Number(args[2]), args[3], args[4]);
  let o: ReturnType<typeof parseArgs>;
  try {
    o = parseArgs(args);
  } catch (e) {
    console.log(`error: ${(e as Error).message}\nhint: node --import tsx bench/scale.bench.ts [--sizes 65536,524288] [--stages trace,kn] [--dir /tmp/scale] [--again]`);
    process.exitCode = 2;
    return;
  }
  const { sizes } = o;
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
  const present = STAGES.filter((n) => {
    if (existsSync(path.join(here, '..', 'stages', `${n}.ts`))) return true;
    console.log(`${n.padEnd(16)} skipped (no stages/${n}.ts in this tree)`);
    return false;
  });
  // the named stages, measured; every stage they read runs first where its output is not in the folder
  const named = new Set(o.stages.length ? o.stages.filter((n) => present.includes(n)) : present);
  const wanted = new Set(named);
  for (const n of [...present].reverse()) if (wanted.has(n)) for (const i of await inputNames(n)) if (present.includes(i)) wanted.add(i);
  const root = o.dir ?? mkdtempSync(path.join(tmpdir(), 'scale-bench-'));
  if (o.dir) console.log(`outputs and measurements kept in ${o.dir} (an upstream output there is reused; delete the folder after a code change)`);
  else process.on('exit', () => rmSync(root, { recursive: true, force: true }));
  const dirs = sizes.map((N) => {
    const d = path.join(root, String(N));
    mkdirSync(d, { recursive: true });
    return d;
  });
  const line = (name: string, N: number, m: Measure, note = '') =>
    console.log(
      `${name.padEnd(16)} N=${String(N).padStart(7)} ${(m.runMs / 1000).toFixed(2).padStart(7)} s run (cpu ${(m.cpuMs / 1000).toFixed(2)} s) + ${(m.encodeMs / 1000).toFixed(2)} s encode` +
        `  peak RSS ${m.rssMB.toFixed(0).padStart(5)} MB (inputs alone ${m.inputRssMB.toFixed(0)} MB)  out ${m.outMB.toFixed(0)} MB` +
        (m.json ? `  positions ${JSON.stringify(m.json)}` : '') +
        (m.sampled?.length ? `  sampled: ${m.sampled.join('; ')}` : '') +
        note,
    );
  for (const name of present) {
    if (!wanted.has(name)) continue;
    sizes.forEach((N, i) => {
      const upstream = !named.has(name);
      if (upstream && existsSync(path.join(dirs[i], `${name}.json`))) return; // kept from an earlier run
      if (!upstream && !o.again && existsSync(measureFile(dirs[i], name)) && existsSync(path.join(dirs[i], `${name}.json`))) return; // measured in an earlier run: in the table
      const m = measure(tsx, name, N, file, dirs[i]);
      if (!m) return;
      writeFileSync(measureFile(dirs[i], name), JSON.stringify({ ...m, at: new Date().toISOString(), load: loadavg()[0] }));
      line(name, N, m, upstream ? '  (upstream)' : '');
    });
  }
  // The table of the named stages at every size, from this run or an earlier one in the same folder.
  console.log('');
  console.log(`${'stage'.padEnd(16)} ${sizes.map((N) => `N=${N}: wall s / cpu s / peak MB`.padEnd(36)).join('')}${sizes.length > 1 ? `growth ${sizes[0]} → ${sizes[sizes.length - 1]}` : ''}`);
  const totals = sizes.map(() => ({ wall: 0, cpu: 0, peak: 0, n: 0 }));
  for (const name of present) {
    if (!named.has(name)) continue;
    const ms: (Measure | null)[] = dirs.map((d) => (existsSync(measureFile(d, name)) ? JSON.parse(readFileSync(measureFile(d, name), 'utf8')) : null));
    ms.forEach((m, i) => {
      if (!m) return;
      totals[i].wall += m.runMs + m.encodeMs;
      totals[i].cpu += m.cpuMs;
      totals[i].peak = Math.max(totals[i].peak, m.rssMB);
      totals[i].n++;
    });
    const cells = ms.map((m) => (m ? `${((m.runMs + m.encodeMs) / 1000).toFixed(1)} / ${(m.cpuMs / 1000).toFixed(1)} / ${m.rssMB.toFixed(0)}${m.rssMB > BUDGET_RSS_MB ? ' OVER' : ''}` : 'not measured').padEnd(36));
    const [a, b] = [ms[0], ms[ms.length - 1]];
    const g = (x: number | null) => (x === null ? '—' : x.toFixed(2));
    const growthWords =
      sizes.length > 1 && a && b
        ? `time ∝ N^${g(growth(a.runMs + a.encodeMs, b.runMs + b.encodeMs, sizes[0], sizes[sizes.length - 1]))}, cpu ∝ N^${g(growth(a.cpuMs, b.cpuMs, sizes[0], sizes[sizes.length - 1]))}, peak RSS ∝ N^${g(growth(a.rssMB, b.rssMB, sizes[0], sizes[sizes.length - 1]))} (beyond its inputs N^${g(growth(a.rssMB - a.inputRssMB, b.rssMB - b.inputRssMB, sizes[0], sizes[sizes.length - 1]))})`
        : '—';
    console.log(`${name.padEnd(16)} ${cells.join('')}${growthWords}`);
  }
  sizes.forEach((N, i) => {
    const t = totals[i];
    if (!t.n) return;
    console.log(
      `${'all'.padEnd(16)} N=${String(N).padStart(7)} ${t.n} stages: ${(t.wall / 1000).toFixed(2).padStart(7)} s wall, ${(t.cpu / 1000).toFixed(2)} s run cpu; max peak RSS ${t.peak.toFixed(0)} MB, budget ${BUDGET_RSS_MB} MB per stage: ${t.peak <= BUDGET_RSS_MB ? 'met' : 'NOT met'}`,
    );
    if (t.peak > BUDGET_RSS_MB) process.exitCode = 1;
  });
  console.log(`(load average now ${loadavg()[0].toFixed(1)} on ${cpus().length} cores: on a shared machine the wall time overstates the work; cpu is the stages' own time)`);
}

// run when started as a script (the child mode too), not when a test imports parseArgs or growth
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await main();
