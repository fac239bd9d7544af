// Benchmark: the four §5 analysis stages (carrier-pattern, influence, decomposition,
// baselines) on the paper's weights and the N = 1024 reference bytes, each called through
// run(ctx) with its schema defaults, as the engine calls it.
// Budget (issue 6): all four together ≤ 10 s. Prints the median ms per stage over `reps`.
//   node --import tsx bench/s5.bench.ts [reps]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StageDef, StageOutput } from '../lib/engine/types.ts';
import { parseWeightsFile, V } from '../lib/rnn/weights.ts';
import { forwardTrace } from '../lib/rnn/forward.ts';
import carrierPattern from '../stages/carrier-pattern.ts';
import influence from '../stages/influence.ts';
import decomposition from '../stages/decomposition.ts';
import baselines from '../stages/baselines.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const reference = path.resolve(root, '../shared/reference');
export const BUDGET_MS = 10_000;

/** Schema defaults of a stage's params (the engine fills them the same way). */
function defaults(stage: string): Record<string, unknown> {
  const s = JSON.parse(readFileSync(path.join(root, 'schemas', `${stage}.params.json`), 'utf8'));
  return Object.fromEntries(Object.entries(s.properties as Record<string, { default: unknown }>).map(([k, v]) => [k, v.default]));
}

const out = (json: Record<string, unknown>, tensors: StageOutput['tensors'], key: string): StageOutput => ({ json, tensors, key, outputHash: key });

export interface S5Timing {
  stage: string;
  medianMs: number;
  runsMs: number[];
}

export async function benchS5(reps = 3): Promise<{ stages: S5Timing[]; totalMedianMs: number }> {
  const xs = new Uint8Array(readFileSync(path.join(reference, 'enwik_1024.txt')));
  const w = parseWeightsFile(new Uint8Array(readFileSync(path.join(reference, 'sat_model.bin'))));
  const tr = forwardTrace(w, xs);
  const N = xs.length;
  const H = w.H;
  const inputs: Record<string, StageOutput> = {
    data: out({ bytes: N }, { bytes: { dtype: 'uint8', shape: [N], data: xs } }, 'data'),
    model: out({ H }, { params: { dtype: 'float32', shape: [w.params.length], data: w.params } }, 'model'),
    trace: out({ T: N, H }, {
      z: { dtype: 'float32', shape: [N, H], data: tr.z },
      S: { dtype: 'float32', shape: [N, H], data: tr.S },
      logp: { dtype: 'float64', shape: [N, V], data: tr.logp },
      bits: { dtype: 'float64', shape: [N - 1], data: tr.bits },
    }, 'trace'),
  };
  const stages: StageDef[] = [carrierPattern, influence, decomposition, baselines];
  const runs = new Map<string, number[]>(stages.map((s) => [s.name, []]));
  for (let r = 0; r < reps; r++) {
    for (const def of stages) {
      const t0 = performance.now();
      await def.run({ params: defaults(def.name), inputs, externals: {}, progress: () => {}, warn: () => {}, env: {} });
      runs.get(def.name)!.push(performance.now() - t0);
    }
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const timings = stages.map((s) => ({ stage: s.name, medianMs: median(runs.get(s.name)!), runsMs: runs.get(s.name)! }));
  return { stages: timings, totalMedianMs: timings.reduce((s, t) => s + t.medianMs, 0) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const reps = Number(process.argv[2] ?? 3);
  const { stages, totalMedianMs } = await benchS5(reps);
  for (const t of stages) console.log(`${t.stage.padEnd(16)} ${t.medianMs.toFixed(1).padStart(8)} ms  (median of ${reps}; first run ${t.runsMs[0].toFixed(1)} ms)`);
  console.log(`${'all §5'.padEnd(16)} ${totalMedianMs.toFixed(1).padStart(8)} ms  (budget ${BUDGET_MS} ms)`);
}
