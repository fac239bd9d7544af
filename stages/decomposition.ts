// Paper §5.4 "Output decomposition". Implements SPEC §5 (§5.4): at position t (param, the
// paper's 29) with target o = x_{t+1}, the model's logit Wy[o]·S[t] + by[o] splits into
//   carrier logit  Wy[o]·h'_t + by[o]   (h'_t: PS units at tanh(c_t), the others at S[t])
//   pattern logit  Wy[o]·δ_t            (δ_t: eq. 6)
// whose sum is the model's logit exactly (S[t] = h'_t + δ_t); the fractions of the total;
// the units by |Wy[o][j]·δ_t[j]|; and the bits of x_{t+1} under h'_t and under S[t].
// Kernels: lib/analysis/carrier.ts.
import { defineStage } from '../lib/engine/types.ts';
import { bitsOf, readoutLogp } from '../lib/rnn/forward.ts';
import { V } from '../lib/rnn/weights.ts';
import type { Params } from '../schemas/decomposition.params.ts';

// Kernels are imported inside run: a no-op build loads this file only to learn its inputs.
export default defineStage<Params>({
  name: 'decomposition',
  description: '§5.4: carrier logit + pattern logit at one position, and the top pattern units',
  section: '§5.4',
  inputs: ['model', 'data', 'trace'],
  async run({ params, inputs }) {
    const { carrierOnlyState, outputDecomposition } = await import('../lib/analysis/carrier.ts');
    const { byteChar, s5Inputs } = await import('../lib/analysis/s5-inputs.ts');
    const { w, xs, tr, N, H, c, ps } = s5Inputs('decomposition', inputs);
    const t = params.position;
    if (t > N - 2) {
      throw new Error(`stage decomposition: position must be ≤ N - 2 = ${N - 2} (it predicts x_{t+1}), got ${t}\nhint: set decomposition.position`);
    }
    const dec = outputDecomposition(w, xs, tr.S, c, ps, t);
    const total = dec.carrierLogit + dec.patternLogit;

    const h = new Float64Array(H);
    const lp = new Float64Array(V);
    carrierOnlyState(tr.S, c, ps, H, t, h);
    readoutLogp(w, h, 0, lp);
    const carrierOnlyBits = bitsOf(lp[dec.target], params.floor);
    const actualBits = bitsOf(tr.logp[t * V + dec.target], params.floor);

    let psUnits = 0;
    for (let j = 0; j < H; j++) psUnits += ps[t * H + j];
    const topUnits = [...dec.unitContribution]
      .map((contribution, unit) => ({
        unit,
        contribution,
        wy: w.Wy[dec.target * H + unit],
        delta: ps[t * H + unit] ? tr.S[t * H + unit] - Math.tanh(c[t * H + unit]) : 0,
      }))
      .filter((u) => u.contribution !== 0)
      .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.unit - b.unit)
      .slice(0, params.topUnits);

    const from = Math.max(0, t - params.context + 1);
    return {
      json: {
        H,
        N,
        position: t,
        byte: { code: xs[t], char: byteChar(xs[t]) },
        target: { code: dec.target, char: byteChar(dec.target) },
        context: [...xs.subarray(from, t + 1)].map(byteChar).join(''),
        carrierLogit: dec.carrierLogit,
        patternLogit: dec.patternLogit,
        totalLogit: total,
        actualLogit: dec.actualLogit,
        carrierFraction: total !== 0 ? dec.carrierLogit / total : 0,
        patternFraction: total !== 0 ? dec.patternLogit / total : 0,
        psUnits,
        floor: params.floor,
        carrierOnlyBits,
        actualBits,
        topUnits,
      },
    };
  },
});
