// Paper §3.1 "RNN–UM isomorphism" (docs/definitions.md §3.1): the RNN rewritten as a UM in the doubled
// event space {h_j+, h_j-}, P(h_j+) = σ(2 z_j), each weight a pattern of strength |w|,
// evaluated on its own in float64 (lib/analysis/isomorphism.ts) and compared with the
// float32 forward trace: bpc of both, and max_{t,j} |P(h_j+) - P(h_j-) - S[t]_j|.
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/isomorphism.params.ts';

// Kernels are imported inside run: a no-op build loads this file only to learn its inputs.
export default defineStage<Params>({
  name: 'isomorphism',
  description: '§3.1: the RNN as a UM in the doubled event space, its own float64 evaluation vs the trace',
  section: '§3.1',
  inputs: ['model', 'data', 'trace'],
  tensors: ['umBits'],
  async run({ params, inputs }) {
    const { bytesOf, traceOf, weightsOf } = await import('../lib/rnn/io.ts');
    const { mean } = await import('../lib/rnn/forward.ts');
    const { buildPatterns, evaluateUm, maxStateDiff } = await import('../lib/analysis/isomorphism.ts');
    const xs = bytesOf(inputs.data);
    const w = weightsOf(inputs.model);
    const trace = traceOf(inputs.trace);
    const N = xs.length;
    if (trace.T !== N) throw new Error(`isomorphism: trace has ${trace.T} positions, data has ${N} bytes\nhint: rebuild the trace: npx tsx pipeline.ts run trace --force trace`);
    const patterns = buildPatterns(w);
    const um = evaluateUm(w, patterns, xs, params.floor);
    const rnnBpc = mean(trace.bits);
    const diff = maxStateDiff(um.u, trace.S, w.H);
    return {
      json: {
        N,
        H: w.H,
        positions: { from: 0, to: N - 2 },
        events: patterns.nEvents,
        patterns: um.nPatterns,
        umBpc: um.bpc,
        rnnBpc,
        bpcDiff: um.bpc - rnnBpc,
        maxStateDiff: diff.max,
        maxStateDiffAt: { t: diff.t, j: diff.j },
      },
      tensors: { umBits: { dtype: 'float64', shape: [um.bits.length], data: um.bits } },
    };
  },
});
