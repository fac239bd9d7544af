// Paper §5.4 "Output decomposition". Implements docs/definitions.md §5 (§5.4): at each position t with
// target o = x_{t+1}, the model's logit Wy[o]·S[t] + by[o] splits into
//   carrier logit  Wy[o]·h'_t + by[o]   (h'_t: PS units at tanh(c_t), the others at S[t])
//   pattern logit  Wy[o]·δ_t            (δ_t: eq. 6)
// whose sum is the model's logit (S[t] = h'_t + δ_t). Tensors hold it at every position
// t = 0..N-2 with the top units by |Wy[o][j]·δ_t[j]|; the JSON is the paper's row at one
// position (param, the paper's 29): the fractions of the total, the top units with Wy
// and δ, and the bits of x_{t+1} under h'_t and under S[t].
// Kernel: lib/analysis/decomposition.ts: defined as one run of the hook forward
// (lib/rnn/hooks.ts, decompose); run here by decomposeFast, its bitwise-equal batch twin
// on the trace (positions are independent: the carrier-only state is not fed forward).
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/decomposition.params.ts';

// Kernels are imported inside run: a no-op build loads this file only to learn its inputs.
export default defineStage<Params>({
  name: 'decomposition',
  description: '§5.4: carrier logit + pattern logit at every position, the top pattern units, and the paper\'s row',
  section: '§5.4',
  inputs: ['model', 'data', 'trace'],
  tensors: ['carrierLogit', 'patternLogit', 'totalLogit', 'topUnits', 'topContributions'],
  async run({ params, inputs }) {
    const { bitsOf } = await import('../lib/rnn/forward.ts');
    const { decomposeFast } = await import('../lib/analysis/decomposition.ts');
    const { carrier } = await import('../lib/analysis/carrier.ts');
    const { byteChar } = await import('../lib/analysis/byte-char.ts');
    const { traceInputs } = await import('../lib/analysis/trace-inputs.ts');
    const { w, xs, tr, N, H } = traceInputs('decomposition', inputs);
    const t = params.position;
    if (t > N - 2) {
      throw new Error(`stage decomposition: position must be ≤ N - 2 = ${N - 2} (it predicts x_{t+1}), got ${t}\nhint: set decomposition.position`);
    }
    const K = params.topUnits;
    const dec = decomposeFast(w, xs, tr.S, carrier(w, tr.S, N), K);
    const T = dec.T;
    const o = xs[t + 1];
    const total = dec.totalLogit[t];
    const topUnits = [];
    for (let k = 0; k < K && dec.topUnits[t * K + k] >= 0; k++) {
      const unit = dec.topUnits[t * K + k];
      topUnits.push({ unit, contribution: dec.topContributions[t * K + k], wy: w.Wy[o * H + unit], delta: dec.delta[t * H + unit] });
    }

    const from = Math.max(0, t - params.context + 1);
    return {
      json: {
        H,
        N,
        position: t,
        positions: { first: 0, last: T - 1, count: T, topK: K },
        byte: { code: xs[t], char: byteChar(xs[t]) },
        target: { code: o, char: byteChar(o) },
        context: [...xs.subarray(from, t + 1)].map(byteChar).join(''),
        carrierLogit: dec.carrierLogit[t],
        patternLogit: dec.patternLogit[t],
        totalLogit: total,
        actualLogit: dec.actualLogit[t],
        carrierFraction: total !== 0 ? dec.carrierLogit[t] / total : 0,
        patternFraction: total !== 0 ? dec.patternLogit[t] / total : 0,
        psUnits: dec.psUnits[t],
        floor: params.floor,
        carrierOnlyBits: bitsOf(dec.carrierOnlyLogp[t], params.floor),
        actualBits: bitsOf(tr.lpNext[t], params.floor), // log p(x_{t+1} = o)
        topUnits,
      },
      tensors: {
        carrierLogit: { dtype: 'float64', shape: [T], data: dec.carrierLogit },
        patternLogit: { dtype: 'float64', shape: [T], data: dec.patternLogit },
        totalLogit: { dtype: 'float64', shape: [T], data: dec.totalLogit },
        topUnits: { dtype: 'int32', shape: [T, K], data: dec.topUnits },
        topContributions: { dtype: 'float64', shape: [T, K], data: dec.topContributions },
      },
    };
  },
});
