// Paper §5.2 "The carrier/pattern decomposition", Table 2. Implements docs/definitions.md §5, eq. 5:
//   z_t[j] = c_t[j] + Wx[j][x_t],  c_t = Wh·S[t-1] + bh;  unit j is pattern-sensitive (PS)
//   at t iff min_v (c_t[j] + Wx[j][v]) ≤ 0 ≤ max_v (c_t[j] + Wx[j][v]).
// Over positions t = 0..N-2: PS and carrier-determined units per position, the actual
// bpc, the carrier-only bpc (PS units take tanh(c_t), one position at a time, never fed
// forward), the pattern gain and its fraction, and each unit's PS count.
// Kernels: lib/analysis/carrier.ts. The PS mask and counts read the trace's S; the
// carrier-only bits are the carrier-only intervention, defined on the hook forward
// (lib/rnn/hooks.ts, carrierOnlyBits) and run here by its bitwise-equal batch twin
// carrierOnlyBitsFast, which reads the trace (positions are independent: not fed forward).
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/carrier-pattern.params.ts';

// Kernels are imported inside run: a no-op build loads this file only to learn its inputs.
export default defineStage<Params>({
  name: 'carrier-pattern',
  description: 'Table 2: pattern-sensitive units, carrier-only bpc and the pattern gain',
  section: '§5.2',
  inputs: ['model', 'data', 'trace'],
  tensors: ['ps', 'carrierOnlyBits'],
  async run({ params, inputs }) {
    const { bitsOf, mean } = await import('../lib/rnn/forward.ts');
    const { carrier, carrierOnlyBitsFast, patternSensitive, psCounts } = await import('../lib/analysis/carrier.ts');
    const { traceInputs } = await import('../lib/analysis/trace-inputs.ts');
    const { w, xs, tr, N, H } = traceInputs('carrier-pattern', inputs);
    if (N < 2) throw new Error(`stage carrier-pattern: need at least 2 bytes, got ${N}`);
    const c = carrier(w, tr.S, N);
    const ps = patternSensitive(w, c);
    const last = N - 2; // positions t = 0..N-2 predict x_{t+1}
    const nPos = last + 1;

    const actual = new Float64Array(nPos);
    for (let t = 0; t <= last; t++) actual[t] = bitsOf(tr.lpNext[t], params.floor);
    const coBits = carrierOnlyBitsFast(w, xs, tr.S, c, params.floor);
    const { perPosition, perUnit } = psCounts(ps, H, 0, last);

    const actualBpc = mean(actual);
    const carrierOnlyBpc = mean(coBits);
    const patternGain = carrierOnlyBpc - actualBpc;
    const psPerPosition = mean(perPosition);
    const topUnits = [...perUnit]
      .map((count, unit) => ({ unit, count }))
      .sort((a, b) => b.count - a.count || a.unit - b.unit)
      .slice(0, params.topUnits);

    return {
      json: {
        H,
        N,
        positions: { first: 0, last, count: nPos },
        floor: params.floor,
        psPerPosition,
        carrierPerPosition: H - psPerPosition,
        psFraction: psPerPosition / H,
        carrierFraction: 1 - psPerPosition / H,
        actualBpc,
        carrierOnlyBpc,
        patternGain,
        byteIdentityFraction: carrierOnlyBpc > 0 ? patternGain / carrierOnlyBpc : 0,
        psCountPerUnit: [...perUnit],
        topUnits,
      },
      tensors: {
        ps: { dtype: 'uint8', shape: [N, H], data: ps },
        carrierOnlyBits: { dtype: 'float64', shape: [nPos], data: coBits },
      },
    };
  },
});
