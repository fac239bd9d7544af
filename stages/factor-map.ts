// Paper §3.3 "Factor map" (docs/definitions.md §3.3): Table 1 and the explanation ladder. The candidate
// offsets are the §3.4 greedy skip-gram list read from the `skipgrams` stage, used as
// *state* offsets (x_{t-d} for the state S[t]), positions t = m..N-1, m = max offset.
// Table 1: each neuron's best pair (d1, d2) by the R² of its in-sample cell means over
// (x_{t-d1}, x_{t-d2}). Ladder: neurons replaced by cell means of (x_{t-1}, x_{t-d2}),
// + word length, + in-tag, read out through the trained Wy, by; X% of eq. 2.
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/factor-map.params.ts';

/** The ladder's fixed first offset (docs/definitions.md §3.3: state offset 1; the greedy list starts from it). */
const LADDER_D1 = 1;

// Kernels are imported inside run: a no-op build loads this file only to learn its inputs.
export default defineStage<Params>({
  name: 'factor-map',
  description: '§3.3: Table 1 (best 2-offset pair per neuron) and the explanation ladder',
  section: '§3.3',
  inputs: ['data', 'model', 'trace', 'skipgrams'],
  expectSeconds: 0.2,
  tensors: ['r2', 'bestPair', 'bestR2', 'r2Single', 'd2'],
  async run({ params, inputs }) {
    const { bytesOf, traceOf, weightsOf } = await import('../lib/rnn/io.ts');
    const { mean } = await import('../lib/rnn/forward.ts');
    const { explainedPercent, explanationLadder, factorMap, pairGroups } = await import('../lib/analysis/factor-map.ts');
    const xs = bytesOf(inputs.data);
    const w = weightsOf(inputs.model);
    const trace = traceOf(inputs.trace);
    const offsets = inputs.skipgrams.json.offsets as number[];
    const N = xs.length;
    const H = w.H;
    if (trace.T !== N) throw new Error(`factor-map: trace has ${trace.T} positions, data has ${N} bytes\nhint: rebuild the trace: npx tsx pipeline.ts run trace --force trace`);
    if (Math.max(...offsets) >= N - 1) throw new Error(`factor-map: the largest candidate offset (${Math.max(...offsets)}) leaves no position in N = ${N} bytes\nhint: lower skipgrams.maxOffset`);

    const fm = factorMap(xs, trace.S, H, offsets);
    const groups = pairGroups(fm);
    const top = groups.slice(0, params.topGroups);
    const rest = groups.slice(params.topGroups);
    const restN = rest.reduce((s, g) => s + g.neurons, 0);
    const restR2 = rest.reduce((s, g) => s + g.meanR2 * g.neurons, 0);

    const lad = explanationLadder(w, xs, trace.S, fm, LADDER_D1, params.wordLenCap, params.floor, params.ladderFit === 'all');
    const hTrained = mean(trace.bits); // all N-1 positions: eq. 2's H_trained
    const row = (bpc: number) => ({ bpc, x: explainedPercent(bpc, hTrained) });
    const d2Counts: Record<string, number> = {};
    for (const d of lad.d2) d2Counts[d] = (d2Counts[d] ?? 0) + 1;
    const pairLabel = (q: number) => fm.pairs[q].map((a) => offsets[a]);

    return {
      json: {
        N,
        H,
        offsets,
        positions: { from: fm.m, to: N - 1 },
        pairs: fm.pairs.map((_, q) => pairLabel(q)),
        groups: groups.map((g) => ({ pair: g.pair, neurons: g.neurons, meanR2: g.meanR2 })),
        top: top.map((g) => ({ pair: g.pair, neurons: g.neurons, meanR2: g.meanR2 })),
        other: { neurons: restN, meanR2: restN ? restR2 / restN : null },
        all: { neurons: H, meanR2: mean(fm.bestR2) },
        singleOffsetMeanR2: mean(fm.bestSingleR2),
        ladder: {
          fit: { from: fm.m, to: params.ladderFit === 'all' ? N - 1 : N - 2 },
          scored: { from: fm.m, to: N - 2 },
          d1: LADDER_D1,
          d2Counts,
          floor: params.floor,
          wordLenCap: params.wordLenCap,
          hTrained,
          uniform: row(8),
          twoOffset: row(lad.twoOffset),
          wordLen: row(lad.wordLen),
          inTag: row(lad.inTag),
          trained: row(mean(trace.bits.subarray(fm.m, N - 1))),
          freeBestPair: row(lad.freeBestPair),
        },
      },
      tensors: {
        r2: { dtype: 'float64', shape: [H, fm.pairs.length], data: fm.r2 },
        bestPair: { dtype: 'int32', shape: [H], data: fm.best },
        bestR2: { dtype: 'float64', shape: [H], data: fm.bestR2 },
        r2Single: { dtype: 'float64', shape: [H, offsets.length], data: fm.r2Single },
        d2: { dtype: 'int32', shape: [H], data: lad.d2 },
      },
    };
  },
});
