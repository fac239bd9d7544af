// The counting baseline (docs/definitions.md §6.5): byte-level interpolated Kneser–Ney of
// orders k = 1..maxOrder, counted on the training bytes x_0..x_{N-1} and scored on the
// held-out text (the data stage's `heldout`, by default bytes N..2N−1 of enwik9). The
// authors' next experiment after the paper; here the yardstick for what counting alone
// predicts. Held-out figures only: a counting model's in-sample bpc is meaningless (it
// has counted the byte it predicts). Kernels in lib/analysis/kn.ts.
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/kn.params.ts';

export default defineStage<Params>({
  name: 'kn',
  description: '§6.5: byte-level interpolated Kneser–Ney, orders 1..maxOrder, held-out bpc',
  section: '§6.5',
  inputs: ['data'],
  async run({ params, inputs, progress }) {
    const { bytesOf, heldoutOf } = await import('../lib/rnn/io.ts');
    const { knTrain, knScore } = await import('../lib/analysis/kn.ts');
    const xs = bytesOf(inputs.data);
    const K = params.maxOrder;
    const D = params.discount;
    // A source with nothing after the training prefix (a user's own text of exactly N bytes)
    // has no held-out text: nothing to score, and the report leaves the section out.
    const h = inputs.data.tensors.heldout;
    if (!h || h.data.length < 2) {
      return { json: { N: xs.length, heldout: { offset: inputs.data.json.heldout?.offset ?? xs.length, bytes: 0 }, positions: 0, discount: D, unigram_heldout_bpc: null, orders: [], best: null } };
    }
    const held = heldoutOf(inputs.data);
    progress(0, 2, `counting ${xs.length} bytes, orders 1..${K}`);
    const model = knTrain(xs, K);
    progress(1, 2, `scoring ${held.bytes.length} held-out bytes`);
    const s = knScore(model, held.bytes, D);
    const orders = Array.from({ length: K }, (_, i) => ({
      k: i + 1,
      heldout_bpc: s.bpc[i + 1],
      contexts: model.contextsPerOrder[i],
      patterns: model.patternsPerOrder[i],
    }));
    // the lowest held-out bpc; the lower order wins a tie
    const best = orders.reduce((a, b) => (b.heldout_bpc < a.heldout_bpc ? b : a));
    progress(2, 2, `best order ${best.k}: ${best.heldout_bpc.toFixed(4)} bpc`);
    return {
      json: {
        N: xs.length,
        heldout: { offset: held.offset, bytes: held.bytes.length },
        positions: s.positions,
        discount: D,
        unigram_heldout_bpc: s.bpc[0],
        orders,
        best: { order: best.k, heldout_bpc: best.heldout_bpc },
      },
    };
  },
});
