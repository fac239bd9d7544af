// Paper §6.2, open question 4, second half (SPEC §6.3): write every weight of an Elman
// RNN of the same shape from each description and the data ONLY (inputs: describe, data;
// never model, trace or train: test/stages/s6-dag.test.ts checks the graph), and evaluate
// it over all N-1 positions. The gap to the trained bpc is the paper's "honest measure of
// remaining mystery"; the report computes it (this stage cannot see the trained model).
// Kernels: lib/analysis/rebuild.ts.
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/rebuild.params.ts';


export default defineStage<Params>({
  name: 'rebuild',
  description: 'Q4: every weight written back from each description and the data; bpc per level',
  section: '§6.2',
  inputs: ['describe', 'data'],
  async run({ params, inputs, progress }) {
    const { bytesOf } = await import('../lib/rnn/io.ts');
    const rb = await import('../lib/analysis/rebuild.ts');
    const xs = bytesOf(inputs.data);
    const N = xs.length;
    if (N < 3) throw new Error(`stage rebuild: need at least 3 bytes, got ${N}`);
    const dec = new TextDecoder();
    const levels = (inputs.describe.json.levels as { level: string; bytes: number; numbers: number }[]).map((l, i, all) => {
      progress(i, all.length, l.level);
      const t = inputs.describe.tensors[`desc_${l.level}`];
      if (!t) throw new Error(`stage rebuild: describe has no tensor desc_${l.level}`);
      const d = JSON.parse(dec.decode(t.data as Uint8Array));
      let fit: number | null = null;
      let bpc: number;
      if (l.level === 'full') bpc = rb.evalBpc(rb.rebuildFull(d), xs, params.floor);
      else if (l.level === 'marginal') bpc = rb.evalBpc(rb.rebuildMarginal(d, xs), xs, params.floor);
      else {
        const r = rb.fitReadout(rb.rebuildRules(d, xs, params).w, xs, params.readoutSteps, params.floor);
        fit = r.losses.length ? r.losses[r.losses.length - 1] : null;
        bpc = r.bpc;
      }
      return { level: l.level, bytes: l.bytes, numbers: l.numbers, bpc, readoutFitBpc: fit };
    });
    // The unigram entropy of the targets x_1..x_{N-1}: what `marginal` must give.
    const n = new Float64Array(256);
    for (let t = 1; t < N; t++) n[xs[t]]++;
    let unigram = 0;
    for (const c of n) if (c > 0) unigram -= (c / (N - 1)) * Math.log2(c / (N - 1));
    return { json: { N, positions: { first: 0, last: N - 2, count: N - 1 }, floor: params.floor, unigramEntropy: unigram, levels } };
  },
});
