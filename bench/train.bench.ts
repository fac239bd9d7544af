// Training speed (issue 3 part 6): ms per epoch of the SPEC §2 trainer for H = 128 on the
// 1024 reference bytes, against the 20 ms/epoch target (a plain single-threaded C -O3
// build of the same loop takes about 40 ms here; PERFORMANCE.md).
//
// Each run trains `epochs` epochs from the seed-42 init through lib/rnn/train.ts (the
// real loop: chunk kernel, gradient norm, clip, Adam) and takes its msPerEpoch (evals
// excluded); the figure is the median over the runs. MAC/s counts the multiply-adds of the
// six matrix products per prediction: Wh·S, Wy·S, Wyᵀ·dy, dy⊗S, Whᵀ·dz, dz⊗S
// (3·V·H + 3·H² = 147,456 at H = 128), times N - 1 predictions.
//
//   npx tsx bench/train.bench.ts [--kernels wasm-simd,ts] [--runs 5] [--epochs 30]

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { train, type KernelName } from '../lib/rnn/train.ts';
import { wasmSupports, wasmUnavailableReason } from '../lib/rnn/wasm-kernel.ts';
import { V } from '../lib/rnn/weights.ts';
import { EMBEDDED_PATH } from '../lib/data/embedded.ts';

export const TARGET_MS = 20;

export interface BenchRow {
  kernel: KernelName;
  H: number;
  N: number;
  runs: number;
  epochsPerRun: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  macPerEpoch: number;
  gmacPerSec: number;
  ratioToTarget: number;
}

export interface BenchOptions {
  kernels?: KernelName[];
  runs?: number;
  epochs?: number;
  H?: number;
  /** Data file (default the first 1024 bytes of enwik9, shipped in data/). */
  data?: string;
  log?: (line: string) => void;
}


export function macsPerEpoch(H: number, N: number): number {
  return (3 * V * H + 3 * H * H) * (N - 1);
}

export function benchTrain(opts: BenchOptions = {}): BenchRow[] {
  const H = opts.H ?? 128;
  const log = opts.log ?? ((s: string) => console.log(s));
  const xs = new Uint8Array(readFileSync(opts.data ?? EMBEDDED_PATH));
  const kernels = opts.kernels ?? (wasmSupports(H) ? ['wasm-simd', 'ts'] : ['ts']);
  if (!wasmSupports(H)) log(`WebAssembly kernel unavailable (${wasmUnavailableReason() || `H=${H}`}): run \`npm run build:wasm\``);
  const rows: BenchRow[] = [];
  for (const kernel of kernels) {
    const runs = opts.runs ?? (kernel === 'wasm-simd' ? 7 : 3);
    const epochs = opts.epochs ?? (kernel === 'wasm-simd' ? 40 : kernel === 'ts' ? 6 : 2);
    const ms: number[] = [];
    for (let r = 0; r < runs; r++) {
      const res = train(xs, { hidden: H, epochs, optimizer: 'adam', seed: 42, bptt: 50, evalEvery: 1e9 }, { backend: kernel });
      ms.push(res.msPerEpoch);
    }
    ms.sort((a, b) => a - b);
    const medianMs = ms[Math.floor(ms.length / 2)];
    const macPerEpoch = macsPerEpoch(H, xs.length);
    const row: BenchRow = {
      kernel,
      H,
      N: xs.length,
      runs,
      epochsPerRun: epochs,
      medianMs,
      minMs: ms[0],
      maxMs: ms[ms.length - 1],
      macPerEpoch,
      gmacPerSec: macPerEpoch / (medianMs * 1e6),
      ratioToTarget: medianMs / TARGET_MS,
    };
    rows.push(row);
    log(
      `train ${kernel.padEnd(9)} H=${H} N=${xs.length}: median ${medianMs.toFixed(2)} ms/epoch ` +
        `(min ${row.minMs.toFixed(2)}, max ${row.maxMs.toFixed(2)}; ${runs} runs × ${epochs} epochs), ` +
        `${row.gmacPerSec.toFixed(2)} GMAC/s, ${row.ratioToTarget.toFixed(2)}× the ${TARGET_MS} ms target ` +
        `(${medianMs <= TARGET_MS ? 'meets it' : 'misses it'})`,
    );
  }
  log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (budget 300 MB)`);
  return rows;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const num = (name: string) => (arg(name) !== undefined ? Number(arg(name)) : undefined);
  benchTrain({
    kernels: arg('kernels')?.split(',') as KernelName[] | undefined,
    runs: num('runs'),
    epochs: num('epochs'),
  });
}
