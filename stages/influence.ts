// Paper §5.3 "Jacobian × pattern deviation", Table 3. Implements SPEC §5, eqs. 6-7:
//   δ_t[j] = S[t][j] - tanh(c_t[j]) if unit j is pattern-sensitive at t, else 0   (eq. 6)
//   G[T] = Wy[o], G[s] = Whᵀ (G[s+1] ⊙ (1 - S[s+1]²))    (o = x_{T+1}, float64)
//   influence(T, d) = G[T-d] · δ_{T-d}                                            (eq. 7)
// for state offsets d = 0..maxOffset-1 and output positions T = firstT..N-3 (the SPEC's
// range: 972 positions at N = 1024). Per d: signed mean, unsigned mean |·|, mean ‖G[T-d]‖
// and decay = unsigned(d) / unsigned(0); all rows are kept, plus the band means of Table 3.
// Kernels: lib/analysis/carrier.ts (δ), lib/analysis/influence.ts (G, eq. 7).
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/influence.params.ts';

/** Table 3's bands of offsets (inclusive), clipped to the offsets computed. */
const BANDS: [number, number][] = [
  [5, 9],
  [10, 19],
  [20, 49],
];

// Kernels are imported inside run: a no-op build loads this file only to learn its inputs.
export default defineStage<Params>({
  name: 'influence',
  description: 'Table 3: byte-to-output influence G·δ by state offset (eq. 7)',
  section: '§5.3',
  inputs: ['model', 'data', 'trace'],
  tensors: ['influence', 'gradNorm'],
  async run({ params, inputs, progress }) {
    const { carrier, deviation, patternSensitive } = await import('../lib/analysis/carrier.ts');
    const { bandMean, influenceTable, summarizeByOffset } = await import('../lib/analysis/influence.ts');
    const { traceInputs } = await import('../lib/analysis/trace-inputs.ts');
    const { w, xs, tr, N, H } = traceInputs('influence', inputs);
    const D = params.maxOffset;
    const firstT = params.firstT;
    const lastT = N - 3;
    if (firstT < D - 1 || lastT < firstT) {
      throw new Error(
        `stage influence: need maxOffset - 1 ≤ firstT ≤ N - 3, got maxOffset=${D}, firstT=${firstT}, N=${N}` +
          `\nhint: set influence.firstT ≥ influence.maxOffset - 1, or use more data (data.bytes)`,
      );
    }
    const c = carrier(w, tr.S, N);
    const delta = deviation(tr.S, c, patternSensitive(w, c));
    const table = influenceTable(w, xs, tr.S, delta, firstT, lastT, D, (done, total) => progress(done, total, 'G·δ'));
    const rows = summarizeByOffset(table);
    const bands = BANDS.filter(([a]) => a < D).map(([a, b]) => bandMean(rows, a, Math.min(b, D - 1)));
    const nT = lastT - firstT + 1;
    return {
      json: { H, N, firstT, lastT, count: nT, maxOffset: D, rows, bands },
      tensors: {
        influence: { dtype: 'float64', shape: [nT, D], data: table.influence },
        gradNorm: { dtype: 'float64', shape: [nT, D], data: table.gradNorm },
      },
    };
  },
});
