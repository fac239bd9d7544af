// Training speed: ms per epoch of the docs/definitions.md §2 trainer at H = 128 on the
// 1024 reference bytes (BPTT-50, sgd), against a plain C -O3 build of the same loop
// (bench/c/train.c) timed in the same run; the target is ≤ 0.30× the C time on one thread
// (under load training falls back to one thread, so that kernel decides a long run's
// time). Then the cost per prediction at 1 KiB and 64 KiB of data (prefixes of enwik9's
// first MiB, named by TOTAL_INTERP_ENWIK9_1MIB or found in ../shared/reference/), which
// should stay flat within 20%.
//
// The C yardstick is built here with `gcc -O3 -march=native` into a temporary folder and
// starts from our own init (written to a file), so its training bpc must match ours to
// ~1e-5 (checked: otherwise the comparison would not be fair). The machine is shared, so
// the runs are interleaved round by round (C, then each of our configurations) and every
// figure is a median: of the epochs of a run (after the first WARMUP, which V8 spends on
// unoptimized code), then over the rounds. Our configurations: the two WebAssembly binaries
// (relaxed-SIMD FMA or not) on 1 and 2 threads, and threads 'auto' (what training uses).
//
// Then the throughput at 1 KiB and 512 KiB (--big-n), C against ours on 1 and 2 threads.
//
//   npx tsx bench/train.bench.ts [--rounds 5] [--epochs 30] [--big-epochs 3] [--big-n 524288]

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initParams, train, type KernelName } from '../lib/rnn/train.ts';
import { EMBEDDED_PATH } from '../lib/data/inputs.ts';
import { wasmSupports, wasmUnavailableReason, type ThreadsOption } from '../lib/rnn/wasm-kernel.ts';

export const TARGET_RATIO = 0.3;
const H = 128;
const BPTT = 50;
const SEED = 42;
const WARMUP = 3;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Config {
  label: string;
  kernel: KernelName;
  threads: ThreadsOption;
}

interface RunResult {
  msPerEpoch: number;
  bpc: number[];
}

/** Train `epochs` epochs; the median epoch time after WARMUP and the training-bpc curve. */
function runOurs(xs: Uint8Array, c: Config, epochs: number): RunResult {
  const times: number[] = [];
  let t = performance.now();
  const r = train(xs, { hidden: H, epochs, optimizer: 'sgd', seed: SEED, bptt: BPTT, evalEvery: 1e9 }, {
    backend: c.kernel,
    threads: c.threads,
    onEpoch: () => {
      const now = performance.now();
      times.push(now - t);
      t = now;
    },
  });
  // the last epoch's time includes the final eval: leave it out
  return { msPerEpoch: median(times.slice(Math.min(WARMUP, epochs - 2), -1)), bpc: Array.from(r.curveTrainBpc) };
}

/** Build the C yardstick; null (with the reason printed) when gcc is missing or fails. */
function buildC(dir: string, log: (s: string) => void): string | null {
  const exe = path.join(dir, 'train');
  const r = spawnSync('gcc', ['-O3', '-march=native', '-o', exe, path.join(root, 'bench/c/train.c'), '-lm'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    log(`C yardstick not built (${r.error ? `gcc not found: ${r.error.message}` : r.stderr.trim()}): printing our timings only`);
    return null;
  }
  return exe;
}

function runC(exe: string, dataFile: string, initFile: string, epochs: number): RunResult {
  const r = spawnSync(exe, [dataFile, initFile, String(H), String(epochs), String(BPTT)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`C yardstick failed: ${r.stderr}`);
  const rows = r.stdout.trim().split('\n').map((l) => l.split(' '));
  const times = rows.map((f) => Number(f[5]));
  return { msPerEpoch: median(times.slice(Math.min(WARMUP, epochs - 1))), bpc: rows.map((f) => Number(f[3])) };
}

/**
 * Training throughput against the C yardstick in the same run, at 1 KiB and at `bigN` bytes
 * (512 KiB: the state and data no longer sit in cache the same way): predictions per second
 * per core of the C build (1 thread) and of our kernel on 1 and 2 threads, and the time
 * ratio to C. Under load 'auto' falls back to one thread, so the 1-thread ratio is the one
 * that decides a long run's time.
 */
function throughput(exe: string, dir: string, initFile: string, kernel: KernelName, epochs: number, bigEpochs: number, bigN: number, log: (s: string) => void): void {
  const bigFile = process.env.TOTAL_INTERP_ENWIK9_1MIB ?? path.resolve(root, '../shared/reference/enwik9-head-1MiB.txt');
  const sizes: [number, Uint8Array][] = [[1024, new Uint8Array(readFileSync(EMBEDDED_PATH))]];
  if (existsSync(bigFile)) sizes.push([bigN, new Uint8Array(readFileSync(bigFile)).subarray(0, bigN)]);
  else log(`(no 1 MiB prefix of enwik9 at ${bigFile}: throughput at 1 KiB only)`);
  log(`throughput (${kernel}; C and ours timed back to back at each size):`);
  for (const [N, xs] of sizes) {
    const E = N <= 1024 ? epochs : Math.max(2, bigEpochs);
    const file = path.join(dir, `data-${N}.bin`);
    writeFileSync(file, xs);
    const c = runC(exe, file, initFile, E).msPerEpoch;
    const rate = (ms: number, threads: number) => (((N - 1) / ms) * 1000) / threads;
    const parts = [`C 1 thread ${(rate(c, 1) / 1000).toFixed(1)} k predictions/s/core (${c.toFixed(1)} ms/epoch)`];
    for (const threads of [1, 2] as const) {
      const ms = runOurs(xs, { label: '', kernel, threads }, E).msPerEpoch;
      parts.push(`ours ${threads} thread${threads > 1 ? 's' : ''} ${(rate(ms, threads) / 1000).toFixed(1)} k/s/core (${ms.toFixed(1)} ms/epoch, ${(ms / c).toFixed(3)}× C's time)`);
    }
    log(`  N=${N} (${E} epochs): ${parts.join('; ')}`);
  }
}

export function benchTrain(opts: { rounds?: number; epochs?: number; bigEpochs?: number; bigN?: number; log?: (s: string) => void } = {}): void {
  const log = opts.log ?? ((s: string) => console.log(s));
  const rounds = opts.rounds ?? 5;
  const epochs = opts.epochs ?? 30;
  const xs = new Uint8Array(readFileSync(EMBEDDED_PATH));
  const configs: Config[] = [];
  for (const kernel of ['wasm-simd', 'wasm-relaxed'] as const) {
    if (!wasmSupports(H, kernel)) {
      log(`${kernel}: unavailable (${wasmUnavailableReason(kernel)}); run \`npm run build:wasm\``);
      continue;
    }
    for (const threads of [1, 2] as const) configs.push({ label: `${kernel} ${threads} thread${threads > 1 ? 's' : ''}`, kernel, threads });
  }
  configs.push({ label: 'auto (what training uses)', kernel: 'wasm-simd', threads: 'auto' });
  configs[configs.length - 1].kernel = configs.some((c) => c.kernel === 'wasm-relaxed') ? 'wasm-relaxed' : 'wasm-simd';

  const dir = mkdtempSync(path.join(tmpdir(), 'train-bench-'));
  try {
    const dataFile = path.join(dir, 'data.bin');
    const initFile = path.join(dir, 'init.bin');
    writeFileSync(dataFile, xs);
    writeFileSync(initFile, initParams(H, SEED));
    const exe = buildC(dir, log);
    log(`H=${H} N=${xs.length} BPTT-${BPTT} sgd; ${rounds} interleaved rounds × ${epochs} epochs; medians (epochs after the first ${WARMUP}, then rounds)`);
    const cMs: number[] = [];
    const ours = configs.map(() => [] as number[]);
    const ratios = configs.map(() => [] as number[]);
    for (let round = 0; round < rounds; round++) {
      let c: RunResult | null = null;
      if (exe) {
        c = runC(exe, dataFile, initFile, epochs);
        cMs.push(c.msPerEpoch);
      }
      configs.forEach((cfg, i) => {
        const r = runOurs(xs, cfg, epochs);
        ours[i].push(r.msPerEpoch);
        if (c) {
          ratios[i].push(r.msPerEpoch / c.msPerEpoch);
          if (round === 0) {
            const d = Math.max(...r.bpc.map((b, e) => Math.abs(b - c!.bpc[e])));
            log(`  ${cfg.label}: training bpc vs C's over ${epochs} epochs: max |diff| ${d.toExponential(2)} (${d <= 1e-5 ? 'same training' : 'DIFFERENT: the comparison is not fair'})`);
          }
        }
      });
    }
    if (exe) log(`C -O3 -march=native (1 thread): ${median(cMs).toFixed(2)} ms/epoch  [${cMs.map((m) => m.toFixed(1)).join(' ')}]`);
    if (exe) throughput(exe, dir, initFile, configs[configs.length - 1].kernel, epochs, opts.bigEpochs ?? 2, opts.bigN ?? 524288, log);
    configs.forEach((cfg, i) => {
      const ms = median(ours[i]);
      const ratio = exe ? median(ratios[i]) : NaN;
      log(
        `${cfg.label.padEnd(26)} ${ms.toFixed(2)} ms/epoch  [${ours[i].map((m) => m.toFixed(1)).join(' ')}]` +
          (exe ? `  ${ratio.toFixed(3)}× C (median of per-round ratios; target ≤ ${TARGET_RATIO}: ${ratio <= TARGET_RATIO ? 'meets it' : 'misses it'})` : ''),
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // cost per prediction against data size: one thread (the kernel itself), and threads auto
  const bigFile = process.env.TOTAL_INTERP_ENWIK9_1MIB ?? path.resolve(root, '../shared/reference/enwik9-head-1MiB.txt');
  if (!existsSync(bigFile)) {
    console.log(`(no 1 MiB prefix of enwik9 at ${bigFile}: set TOTAL_INTERP_ENWIK9_1MIB=FILE for the cost per prediction at 64 KiB)`);
    return;
  }
  const big = new Uint8Array(readFileSync(bigFile));
  const auto = configs[configs.length - 1];
  for (const cfg of [{ ...auto, threads: 1, label: `${auto.kernel} 1 thread` }, auto]) {
    const perK: number[] = [];
    for (const N of [1024, 65536]) {
      // at least three epochs: the first is warm-up and the last is left out (it ends the run)
      const E = Math.max(3, N <= 1024 ? epochs : (opts.bigEpochs ?? 3));
      const runs: number[] = [];
      for (let r = 0; r < (N <= 1024 ? 3 : 1); r++) {
        const times: number[] = [];
        let t = performance.now();
        train(big.subarray(0, N), { hidden: H, epochs: E, optimizer: 'sgd', seed: SEED, bptt: BPTT, evalEvery: 1e9 }, {
          backend: cfg.kernel,
          threads: cfg.threads,
          onEpoch: () => {
            const now = performance.now();
            times.push(now - t);
            t = now;
          },
        });
        runs.push(median(times.slice(Math.min(N <= 1024 ? WARMUP : 1, E - 2), -1)));
      }
      const ms = median(runs);
      perK.push((ms / (N - 1)) * 1000);
      log(`${cfg.label}: N=${N}: ${perK[perK.length - 1].toFixed(3)} ms per 1000 predictions (${ms.toFixed(1)} ms/epoch)`);
    }
    const drift = perK[1] / perK[0] - 1;
    log(`${cfg.label}: 64 KiB vs 1 KiB: ${drift >= 0 ? '+' : ''}${(drift * 100).toFixed(1)}% per prediction (target within ±20%: ${Math.abs(drift) <= 0.2 ? 'meets it' : 'misses it'})`);
  }
  log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const num = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  benchTrain({ rounds: num('rounds'), epochs: num('epochs'), bigEpochs: num('big-epochs'), bigN: num('big-n') });
}
