// Paper §3.2 "Boolean automaton" (docs/definitions.md §3.2): how saturated the tanh units are (margins
// |z_t[j]| of eq. 3 over t = 0..N-2, all units, with a histogram), and what the model
// predicts with only signs: sign readout (real dynamics, readout from sign(S[t])) and sign
// dynamics (a ±1 state from all -1, s_t = sign(z) of the ±1 previous state). bpc with the
// §3.2 floor, and each one's difference from the float model at the same floor.
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/boolean.params.ts';

// Kernels are imported inside run: a no-op build loads this file only to learn its inputs.
export default defineStage<Params>({
  name: 'boolean',
  description: '§3.2: margins of z, a |z| histogram, sign readout and sign dynamics bpc',
  section: '§3.2',
  inputs: ['model', 'data', 'trace'],
  tensors: ['signReadoutBits', 'signDynamicsBits'],
  async run({ params, inputs }) {
    const { bytesOf, traceOf, weightsOf } = await import('../lib/rnn/io.ts');
    const { bitsOf, mean } = await import('../lib/rnn/forward.ts');
    const { marginStats, readoutBits, signDynamics, signOf } = await import('../lib/analysis/boolean.ts');
    const xs = bytesOf(inputs.data);
    const w = weightsOf(inputs.model);
    const trace = traceOf(inputs.trace);
    const N = xs.length;
    if (trace.T !== N) throw new Error(`boolean: trace has ${trace.T} positions, data has ${N} bytes\nhint: rebuild the trace: npx tsx pipeline.ts run trace --force trace`);
    const m = marginStats(trace.z, w.H, N - 1, params.threshold, params.binWidth, params.binMax);
    const floatBpc = mean(trace.lpNext.map((lp) => bitsOf(lp, params.floor)));
    const readout = readoutBits(w, signOf(trace.S), xs, params.floor);
    const dynamics = readoutBits(w, signDynamics(w, xs), xs, params.floor);
    const signReadoutBpc = mean(readout);
    const signDynamicsBpc = mean(dynamics);
    return {
      json: {
        N,
        H: w.H,
        positions: { from: 0, to: N - 2 },
        neuronSteps: m.count,
        meanAbsZ: m.meanAbs,
        threshold: params.threshold,
        fracAbove: m.fracAbove,
        histogram: { width: params.binWidth, max: params.binMax, counts: m.hist },
        floor: params.floor,
        floatBpc,
        signReadoutBpc,
        signReadoutDelta: signReadoutBpc - floatBpc,
        signDynamicsBpc,
        signDynamicsDelta: signDynamicsBpc - floatBpc,
      },
      tensors: {
        signReadoutBits: { dtype: 'float64', shape: [readout.length], data: readout },
        signDynamicsBits: { dtype: 'float64', shape: [dynamics.length], data: dynamics },
      },
    };
  },
});
