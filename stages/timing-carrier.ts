// Paper §6.2, open question 1 (docs/definitions.md §6.1): can timing rules build the carrier?
// The carrier c_t = Wh·S[t-1] + bh (eq. 5) is replaced by its mean ĉ over cells of prefix
// features (word length, in-tag, previous bytes); S'[t] = tanh(ĉ_t + Wx[:, x_t]) is read
// out through the trained Wy, by. Per feature set: cells, carrier R², sign agreement, bpc,
// X% (eq. 2), and the same fitted on even t and scored on odd t.
// Kernels: lib/analysis/timing-carrier.ts. Reads the trace; no forward pass of its own.
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/timing-carrier.params.ts';


export default defineStage<Params>({
  name: 'timing-carrier',
  description: 'Q1: the carrier rebuilt from timing features (word length, in-tag, previous bytes)',
  section: '§6.2',
  inputs: ['model', 'data', 'trace'],
  expectSeconds: 0.3,
  async run({ params, inputs, progress }) {
    const { traceInputs } = await import('../lib/analysis/trace-inputs.ts');
    const { carrier } = await import('../lib/analysis/carrier.ts');
    const { FEATURE_SETS, prefixFeatures, setId, timingRow } = await import('../lib/analysis/timing-carrier.ts');
    const { explainedPercent } = await import('../lib/analysis/factor-map.ts');
    const { mean } = await import('../lib/rnn/forward.ts');
    const { w, xs, tr, N, H } = traceInputs('timing-carrier', inputs);
    const c = carrier(w, tr.S, N);
    if (N < 3) throw new Error(`stage timing-carrier: need at least 3 bytes, got ${N}`);
    const trainedBpc = mean(tr.bits);
    const f = prefixFeatures(xs, params.wordLenCap);
    const tensors: Record<string, any> = {};
    const rows = FEATURE_SETS.map((set, i) => {
      progress(i, FEATURE_SETS.length, set);
      const r = timingRow(w, xs, tr.S, c, f, set, params.floor);
      const id = setId(set);
      tensors[`chat_${id}`] = { dtype: 'float64', shape: [r.cells, H], data: r.chat };
      tensors[`cells_${id}`] = { dtype: 'int32', shape: [N - 1], data: r.ids };
      return {
        set, id, cells: r.cells, carrierR2: r.carrierR2, signAgreement: r.signAgreement,
        bpc: r.bpc, x: explainedPercent(r.bpc, trainedBpc),
        heldoutBpc: r.heldoutBpc, heldoutSignAgreement: r.heldoutSignAgreement,
        unitR2: [...r.unitR2],
      };
    });
    // The best rule set: the lowest held-out bpc (in-sample cell means flatter themselves).
    const best = rows.reduce((a, b) => (b.heldoutBpc < a.heldoutBpc ? b : a));
    return {
      json: {
        H, N, floor: params.floor, wordLenCap: params.wordLenCap,
        positions: { first: 0, last: N - 2, count: N - 1 },
        trainedBpc,
        rows: rows.map(({ unitR2, ...r }) => r),
        best: { set: best.set, unitR2: best.unitR2 },
      },
      tensors,
    };
  },
});
