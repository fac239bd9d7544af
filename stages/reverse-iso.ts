// Paper §4.2 "The reverse isomorphism" (docs/definitions.md §4.2). Hidden states are written from data
// alone: unit 16g + i carries clip(ln(p(y_i | x_{t-d_g}) / p(y_i)), ±3), the skip-bigram
// log-likelihood ratio of the i-th most frequent byte y_i given the byte d_g steps back
// (d_g: the §3.3 offset list from skipgrams, used as state offsets). Only the readout
// (Wy, by) is trained, by 500 full-batch gradient-descent steps.
//
// This construction uses NO trained weights: it reads the data and the offset list only
// (the paper says it "retains the trained Wx and Wh"; it does not). Kernels:
// lib/analysis/reverse-iso.ts and factored-readout.ts.
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/reverse-iso.params.ts';

// Kernels are imported inside run: a no-op build loads this file only to learn its inputs.
export default defineStage<Params>({
  name: 'reverse-iso',
  description: '§4.2: skip-bigram log-ratio hidden states (no trained weights), readout trained by GD',
  section: '§4.2',
  inputs: ['data', 'skipgrams'],
  expectSeconds: 0.5,
  tensors: ['Wy', 'by', 'bits'],
  async run({ params: p, inputs, progress }) {
    const { bytesOf } = await import('../lib/rnn/io.ts');
    const { V } = await import('../lib/rnn/weights.ts');
    const { reverseIso } = await import('../lib/analysis/reverse-iso.ts');
    const xs = bytesOf(inputs.data);
    const N = xs.length;
    const offsets = inputs.skipgrams.json.offsets as unknown;
    if (!Array.isArray(offsets) || offsets.length === 0 || !offsets.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new Error(`reverse-iso: expected skipgrams.json.offsets to be a non-empty list of offsets ≥ 1, got ${JSON.stringify(offsets)}\nhint: rerun the skipgrams stage`);
    }
    const m = Math.max(...offsets);
    if (m >= N - 1) {
      throw new Error(`reverse-iso: the largest offset ${m} leaves no positions t = ${m}..N-2 with N = ${N}\nhint: more data (--set data.bytes=1024) or a smaller skipgrams.maxOffset`);
    }
    const spec = { offsets, bytesPerOffset: p.bytesPerOffset, clip: p.clip, smoothing: p.smoothing };
    const sched = { steps: p.steps, lr: p.lr, decay: 1, decayAt: [] };
    // above maxPositions positions the descent fits on evenly spread blocks of them; bpc is over every position
    const fit = { maxPositions: p.maxPositions, blockLength: p.blockLength };
    const r = reverseIso(xs, spec, sched, p.eps, (k, n) => progress(k, n, `GD step ${k}/${n}`), fit);
    const pb = r.sample;
    const fitSample = { sampled: pb.sampled, count: pb.count, of: pb.of, blocks: pb.blocks.length, blockLength: pb.blocks[0][1] - pb.blocks[0][0] + 1, maxPositions: p.maxPositions };
    return {
      json: {
        bpc: r.bpc,
        offsets,
        bytes: r.bytes,
        H: r.H,
        N,
        positions: { from: r.m, to: N - 2 },
        steps: p.steps,
        firstBpc: r.firstBpc,
        fitSample,
        usesTrainedWeights: false,
        spec: { bytesPerOffset: p.bytesPerOffset, clip: p.clip, smoothing: p.smoothing },
      },
      tensors: {
        Wy: { dtype: 'float64', shape: [V, r.H], data: r.Wy },
        by: { dtype: 'float64', shape: [V], data: r.by },
        bits: { dtype: 'float64', shape: [p.steps], data: r.bits },
      },
    };
  },
});
