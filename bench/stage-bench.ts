// Shared by the section benchmarks: the paper's weights and data as upstream outputs, and a
// timer that calls stages' run(ctx) with their schema defaults, as the engine does.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StageDef, StageOutput, StageResult } from '../lib/engine/types.ts';
import { EMBEDDED_PATH } from '../lib/data/inputs.ts';
import { findPaperWeights } from '../lib/data/paper-weights.ts';
import { parseWeightsFile, V } from '../lib/rnn/weights.ts';
import { forwardTrace } from '../lib/rnn/forward.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The paper's weights (TOTAL_INTERP_PAPER_WEIGHTS or the download folder), or an error saying how to get them. */
export function paperWeightsFile(): string {
  const file = findPaperWeights(process.env);
  if (!file) throw new Error("this benchmark needs the paper's weights\nhint: TOTAL_INTERP_PAPER_WEIGHTS=/path/to/sat_model.bin, or run `npx tsx pipeline.ts run model --set model.source=paper` once to download them");
  return file;
}

/** Schema defaults of a stage's params (the engine fills them the same way). */
export function defaults(stage: string): Record<string, unknown> {
  const s = JSON.parse(readFileSync(path.join(root, 'schemas', `${stage}.params.json`), 'utf8'));
  return Object.fromEntries(Object.entries(s.properties as Record<string, { default: unknown }>).map(([k, v]) => [k, v.default]));
}

export const output = (json: Record<string, unknown>, tensors: StageOutput['tensors'], key: string): StageOutput => ({ json, tensors, key, outputHash: key });

export function runStage(def: StageDef, inputs: Record<string, StageOutput>): Promise<StageResult> {
  return Promise.resolve(def.run({ params: defaults(def.name), inputs, externals: {}, progress: () => {}, warn: () => {}, env: {} }));
}

/** data, model and trace outputs for the paper's weights on the reference bytes. */
export function referenceInputs(): Record<string, StageOutput> {
  const xs = new Uint8Array(readFileSync(EMBEDDED_PATH));
  const w = parseWeightsFile(new Uint8Array(readFileSync(paperWeightsFile())));
  const tr = forwardTrace(w, xs);
  const N = xs.length;
  const H = w.H;
  return {
    data: output({ bytes: N }, { bytes: { dtype: 'uint8', shape: [N], data: xs } }, 'data'),
    model: output({ H }, { params: { dtype: 'float32', shape: [w.params.length], data: w.params } }, 'model'),
    trace: output({ T: N, H }, {
      z: { dtype: 'float32', shape: [N, H], data: tr.z },
      S: { dtype: 'float32', shape: [N, H], data: tr.S },
      logp: { dtype: 'float64', shape: [N, V], data: tr.logp },
      lpNext: { dtype: 'float64', shape: [tr.lpNext.length], data: tr.lpNext },
      bits: { dtype: 'float64', shape: [N - 1], data: tr.bits },
    }, 'trace'),
  };
}

export interface StageTiming {
  stage: string;
  medianMs: number;
  runsMs: number[];
}

/** Run each stage `reps` times in turn; `after` sees each result (e.g. to feed a downstream stage). */
export async function timeStages(
  stages: StageDef[],
  inputs: Record<string, StageOutput>,
  reps: number,
  after?: (def: StageDef, res: StageResult) => void,
): Promise<{ stages: StageTiming[]; totalMedianMs: number }> {
  const runs = new Map<string, number[]>(stages.map((s) => [s.name, []]));
  for (let r = 0; r < reps; r++) {
    for (const def of stages) {
      const t0 = performance.now();
      const res = await runStage(def, inputs);
      runs.get(def.name)!.push(performance.now() - t0);
      after?.(def, res);
    }
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const timings = stages.map((s) => ({ stage: s.name, medianMs: median(runs.get(s.name)!), runsMs: runs.get(s.name)! }));
  return { stages: timings, totalMedianMs: timings.reduce((s, t) => s + t.medianMs, 0) };
}

export function printTimings(label: string, t: { stages: StageTiming[]; totalMedianMs: number }, budgetMs: number, reps: number): void {
  for (const s of t.stages) console.log(`${s.stage.padEnd(16)} ${s.medianMs.toFixed(1).padStart(8)} ms  (median of ${reps}; first run ${s.runsMs[0].toFixed(1)} ms)`);
  console.log(`${label.padEnd(16)} ${t.totalMedianMs.toFixed(1).padStart(8)} ms  budget ${budgetMs} ms: ${(t.totalMedianMs / budgetMs).toFixed(2)} of it, ${t.totalMedianMs <= budgetMs ? 'met' : 'NOT met'}`);
}

export const isMain = (url: string) => !!process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(url);
