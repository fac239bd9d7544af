// Benchmark: the hook forward (lib/rnn/hooks.ts) with no hooks against forwardStates
// (lib/rnn/forward.ts) on the paper's weights and the 1024 reference bytes, interleaved in
// the same process so both see the same machine state; medians of `reps` runs. Also the
// cost of one hook at one step and of a readout hook at every step (the carrier-only
// intervention's shape), for scale; and §5.1 ablation (T = 50..N-3, d < 50) by its
// definition on the hook forward against ablationFast, the kernel the stage runs
// (lib/analysis/ablation.ts), which is why that specialised kernel stays.
// Target: no hooks runs as fast as forwardStates (ratio ≤ 1.05).
//   node --import tsx bench/hooks.bench.ts [reps]
import { readFileSync } from 'node:fs';
import { forwardStates, forwardTrace } from '../lib/rnn/forward.ts';
import { ablation, ablationFast } from '../lib/analysis/ablation.ts';
import { ablate, runWithHooks } from '../lib/rnn/hooks.ts';
import { parseWeightsFile } from '../lib/rnn/weights.ts';
import { isMain, paperWeightsFile } from './stage-bench.ts';
import { EMBEDDED_PATH } from '../lib/data/inputs.ts';

export const TARGET_RATIO = 1.05;

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

export function benchHooks(reps = 41) {
  const xs = new Uint8Array(readFileSync(EMBEDDED_PATH));
  const w = parseWeightsFile(new Uint8Array(readFileSync(paperWeightsFile())));
  const variants: [string, () => unknown][] = [
    ['forwardStates', () => forwardStates(w, xs)],
    ['hooks, none', () => runWithHooks(w, xs)],
    ['hooks, one at t=500', () => runWithHooks(w, xs, { hooks: [ablate('input', { steps: [500] })] })],
    ['hooks, readout every t', () => runWithHooks(w, xs, { hooks: [ablate('readout', { units: [8] })] })],
  ];
  return timeVariants(variants, reps);
}

/** Each variant's median time over `reps` rounds, the variants interleaved within a round. */
function timeVariants(variants: [string, () => unknown][], reps: number): { name: string; medianMs: number }[] {
  const runs = variants.map(() => [] as number[]);
  for (let r = 0; r < reps; r++) {
    variants.forEach(([, f], i) => {
      const t0 = performance.now();
      f();
      runs[i].push(performance.now() - t0);
    });
  }
  return variants.map(([name], i) => ({ name, medianMs: median(runs[i]) }));
}

export function benchAblation(reps = 3) {
  const xs = new Uint8Array(readFileSync(EMBEDDED_PATH));
  const w = parseWeightsFile(new Uint8Array(readFileSync(paperWeightsFile())));
  const tr = forwardTrace(w, xs);
  const lastT = xs.length - 3;
  const variants: [string, () => unknown][] = [
    ['ablationFast', () => ablationFast(w, xs, tr.S, tr.lpNext, 50, lastT, 50, 1e-8)],
    ['ablation on hooks', () => ablation(w, xs, tr.S, tr.lpNext, 50, lastT, 50, 1e-8)],
  ];
  return timeVariants(variants, reps);
}

if (isMain(import.meta.url)) {
  const reps = Number(process.argv[2] ?? 41);
  const rows = benchHooks(reps);
  const base = rows[0].medianMs;
  for (const r of rows) console.log(`${r.name.padEnd(24)} ${r.medianMs.toFixed(2).padStart(8)} ms  ×${(r.medianMs / base).toFixed(3)} forwardStates  (median of ${reps})`);
  const ratio = rows[1].medianMs / base;
  console.log(`no hooks / forwardStates = ${ratio.toFixed(3)}, target ≤ ${TARGET_RATIO}: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'}`);
  const abl = benchAblation(3);
  for (const r of abl) console.log(`${r.name.padEnd(24)} ${r.medianMs.toFixed(0).padStart(8)} ms  ×${(r.medianMs / abl[0].medianMs).toFixed(2)} ablationFast  (median of 3)`);
}
