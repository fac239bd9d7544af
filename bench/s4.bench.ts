// Benchmark: the two §4 stages (construction, reverse-iso) on the reference data, each
// called through run(ctx) as the engine calls it, with its schema's default params.
// Budget (issue 5): both together ≤ 10 s (the authors' C tools take about 250 s).
// Prints the median ms per stage over `reps`.
//   node --import tsx bench/s4.bench.ts [reps]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StageDef, StageOutput } from '../lib/engine/types.ts';
import construction from '../stages/construction.ts';
import reverseIso from '../stages/reverse-iso.ts';
import skipgrams from '../stages/skipgrams.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const reference = path.resolve(root, '../shared/reference');

/** Schema defaults of a stage's params (the engine fills them the same way). */
function defaults(stage: string): Record<string, unknown> {
  const s = JSON.parse(readFileSync(path.join(root, 'schemas', `${stage}.params.json`), 'utf8'));
  return Object.fromEntries(Object.entries(s.properties as Record<string, { default: unknown }>).map(([k, v]) => [k, v.default]));
}

const out = (json: Record<string, unknown>, tensors: StageOutput['tensors'], key: string): StageOutput => ({ json, tensors, key, outputHash: key });
const run = (def: StageDef, inputs: Record<string, StageOutput>) =>
  def.run({ params: defaults(def.name), inputs, externals: {}, progress: () => {}, warn: () => {}, env: {} });

export interface S4Timing {
  stage: string;
  medianMs: number;
  runsMs: number[];
}

export async function benchS4(reps = 3): Promise<{ stages: S4Timing[]; totalMedianMs: number; figures: Record<string, number> }> {
  const xs = new Uint8Array(readFileSync(path.join(reference, 'enwik_1024.txt')));
  const N = xs.length;
  const inputs: Record<string, StageOutput> = { data: out({ bytes: N }, { bytes: { dtype: 'uint8', shape: [N], data: xs } }, 'data') };
  // the offset list comes from the real skipgrams stage (not timed here: it is §3.4's)
  inputs.skipgrams = out((await run(skipgrams, inputs)).json, {}, 'skipgrams');
  const stages: StageDef[] = [construction, reverseIso];
  const runs = new Map<string, number[]>(stages.map((s) => [s.name, []]));
  const figures: Record<string, number> = {};
  for (let r = 0; r < reps; r++) {
    for (const def of stages) {
      const t0 = performance.now();
      const res = await run(def, inputs);
      runs.get(def.name)!.push(performance.now() - t0);
      const j = res.json as Record<string, number>;
      if (def.name === 'construction') Object.assign(figures, { analyticBpc: j.analyticBpc, alpha: j.alpha, scale: j.scale, optimizedBpc: j.optimizedBpc });
      else figures.reverseIsoBpc = j.bpc;
    }
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const timings = stages.map((s) => ({ stage: s.name, medianMs: median(runs.get(s.name)!), runsMs: runs.get(s.name)! }));
  return { stages: timings, totalMedianMs: timings.reduce((s, t) => s + t.medianMs, 0), figures };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const reps = Number(process.argv[2] ?? 3);
  const { stages, totalMedianMs, figures } = await benchS4(reps);
  for (const t of stages) console.log(`${t.stage.padEnd(13)} ${t.medianMs.toFixed(1).padStart(8)} ms  (median of ${reps}; first run ${t.runsMs[0].toFixed(1)} ms)`);
  console.log(`${'all §4'.padEnd(13)} ${totalMedianMs.toFixed(1).padStart(8)} ms  (budget 10000 ms)`);
  console.log(Object.entries(figures).map(([k, v]) => `${k} ${v}`).join(', '));
}
