// Benchmark: the four §3 analysis stages (isomorphism, boolean, skipgrams, factor-map) on
// the paper's weights and data, each called through run(ctx) as the engine calls it.
// Budget (issue 4): all four together ≤ 3 s. Prints the median ms per stage over `reps`.
//   node --import tsx bench/s3.bench.ts [reps]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StageDef, StageOutput } from '../lib/engine/types.ts';
import { parseWeightsFile, V } from '../lib/rnn/weights.ts';
import { forwardTrace } from '../lib/rnn/forward.ts';
import isomorphism from '../stages/isomorphism.ts';
import boolean from '../stages/boolean.ts';
import skipgrams from '../stages/skipgrams.ts';
import factorMap from '../stages/factor-map.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const reference = path.resolve(root, '../shared/reference');

/** Schema defaults of a stage's params (the engine fills them the same way). */
function defaults(stage: string): Record<string, unknown> {
  const s = JSON.parse(readFileSync(path.join(root, 'schemas', `${stage}.params.json`), 'utf8'));
  return Object.fromEntries(Object.entries(s.properties as Record<string, { default: unknown }>).map(([k, v]) => [k, v.default]));
}

const out = (json: Record<string, unknown>, tensors: StageOutput['tensors'], key: string): StageOutput => ({ json, tensors, key, outputHash: key });

export interface S3Timing {
  stage: string;
  medianMs: number;
  runsMs: number[];
}

export async function benchS3(reps = 5): Promise<{ stages: S3Timing[]; totalMedianMs: number }> {
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
  const stages: StageDef[] = [isomorphism, boolean, skipgrams, factorMap];
  const runs = new Map<string, number[]>(stages.map((s) => [s.name, []]));
  for (let r = 0; r < reps; r++) {
    for (const def of stages) {
      const t0 = performance.now();
      const res = await def.run({ params: defaults(def.name), inputs, externals: {}, progress: () => {}, warn: () => {}, env: {} });
      runs.get(def.name)!.push(performance.now() - t0);
      if (def.name === 'skipgrams') inputs.skipgrams = out(res.json, {}, 'skipgrams');
    }
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const timings = stages.map((s) => ({ stage: s.name, medianMs: median(runs.get(s.name)!), runsMs: runs.get(s.name)! }));
  return { stages: timings, totalMedianMs: timings.reduce((s, t) => s + t.medianMs, 0) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const reps = Number(process.argv[2] ?? 5);
  const { stages, totalMedianMs } = await benchS3(reps);
  for (const t of stages) console.log(`${t.stage.padEnd(12)} ${t.medianMs.toFixed(1).padStart(8)} ms  (median of ${reps}; first run ${t.runsMs[0].toFixed(1)} ms)`);
  console.log(`${'all §3'.padEnd(12)} ${totalMedianMs.toFixed(1).padStart(8)} ms  (budget 3000 ms)`);
}
