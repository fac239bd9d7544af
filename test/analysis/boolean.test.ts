import { describe, expect, it } from 'vitest';
import { REF_WEIGHTS, refBytes } from '../rnn/helpers.ts';
import { readFileSync } from 'node:fs';
import { parseWeightsFile, zeroWeights } from '../../lib/rnn/weights.ts';
import { forwardTrace, mean } from '../../lib/rnn/forward.ts';
import { bitsFromLogp, marginStats, readoutBits, readoutBitsNaive, signDynamics, signDynamicsNaive, signOf } from '../../lib/analysis/boolean.ts';
import { paramCount, weightsFrom } from '../../lib/rnn/weights.ts';
import { randomBytes, randomFill } from '../rnn/helpers.ts';

describe('boolean automaton (§3.2)', () => {
  it('computes margins and the |z| histogram by hand', () => {
    // (T, H) = (3, 2); only the first 2 steps count
    const z = Float32Array.from([0.25, -1.5, 0.75, 12, 99, 99]);
    const m = marginStats(z, 2, 2, 1, 0.5, 10);
    expect(m.count).toBe(4);
    expect(m.meanAbs).toBeCloseTo((0.25 + 1.5 + 0.75 + 12) / 4, 12);
    expect(m.fracAbove).toBe(0.5);
    expect(m.hist.length).toBe(21);
    expect(m.hist[0]).toBe(1); // 0.25
    expect(m.hist[1]).toBe(1); // 0.75
    expect(m.hist[3]).toBe(1); // 1.5 in [1.5, 2)
    expect(m.hist[20]).toBe(1); // 12: overflow
  });

  it('gives its naive twins\' bits: the sign dynamics (in WebAssembly when built) and the readout four rows at a time', () => {
    for (const H of [16, 11]) {
      const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), H, 0.7), H);
      w.Wx[3] = 0; // a z of exactly 0 somewhere is possible: sign(0) = +1 in both
      const xs = randomBytes(90, H + 1, 'ab c<>');
      const [s, sn] = [signDynamics(w, xs), signDynamicsNaive(w, xs)];
      expect([...s.keys()].filter((i) => !Object.is(s[i], sn[i]))).toEqual([]);
      const hs = randomFill(new Float64Array(xs.length * H), 5, 1);
      const [b, bn] = [readoutBits(w, hs, xs, 1e-8), readoutBitsNaive(w, hs, xs, 1e-8)];
      expect([...b.keys()].filter((i) => !Object.is(b[i], bn[i]))).toEqual([]);
      // in blocks of 8 rows and of 13 (rounded down to 12; 89 rows: a short last block, a tail
      // of one row), and from int8 states as the stage gives them: the same bits
      for (const block of [8, 13]) {
        const bb = readoutBits(w, hs, xs, 1e-8, block);
        expect([...bb.keys()].filter((i) => !Object.is(bb[i], bn[i]))).toEqual([]);
      }
      const s8 = signOf(Float32Array.from(hs));
      const [c, cn] = [readoutBits(w, s8, xs, 1e-8, 8), readoutBitsNaive(w, s8, xs, 1e-8)];
      expect([...c.keys()].filter((i) => !Object.is(c[i], cn[i]))).toEqual([]);
    }
  });

  it('reads sign(0) as +1', () => {
    expect([...signOf(Float32Array.from([0, -0, -2, 3e-9]))]).toEqual([1, 1, -1, 1]);
  });

  it('runs sign dynamics from the all -1 state', () => {
    // one unit, Wh = -1, no input or bias: z_0 = -1·(-1) = +1, then it alternates
    const w = zeroWeights(1);
    w.Wh[0] = -1;
    expect([...signDynamics(w, new Uint8Array(5))]).toEqual([1, -1, 1, -1, 1]);
    // with everything 0, z = 0 and sign(0) = +1
    expect([...signDynamics(zeroWeights(2), new Uint8Array(2))]).toEqual([1, 1, 1, 1]);
  });

  it('re-floors the float bpc and scores a readout with the given floor', () => {
    const w = zeroWeights(1); // uniform readout: every byte 8 bits
    const xs = Uint8Array.from([1, 2, 3]);
    expect([...readoutBits(w, new Float64Array(3), xs, 1e-30)]).toEqual([8, 8]);
    const logp = new Float64Array(3 * 256).fill(-1000); // p = e^-1000 < any floor
    expect(mean(bitsFromLogp(logp, xs, 1e-30))).toBeCloseTo(-Math.log2(1e-30), 9);
  });

  it.skipIf(!REF_WEIGHTS)('gives the the cross-check figures (docs/definitions.md §V) margins and sign readout on the reference weights', () => {
    const xs = refBytes();
    const w = parseWeightsFile(new Uint8Array(readFileSync(REF_WEIGHTS)));
    const tr = forwardTrace(w, xs);
    const m = marginStats(tr.z, w.H, xs.length - 1, 1, 0.5, 10);
    expect(m.count).toBe(128 * 1023);
    expect(m.meanAbs).toBeCloseTo(1.3068, 4);
    expect(m.fracAbove).toBeCloseTo(0.4758, 4);
    expect(m.hist.reduce((a, b) => a + b, 0)).toBe(m.count);
    const signReadout = mean(readoutBits(w, signOf(tr.S), xs, 1e-30));
    expect(Math.abs(signReadout / 0.1294 - 1)).toBeLessThan(5e-4); // §V prints 4 digits
    const dyn = mean(readoutBits(w, signDynamics(w, xs), xs, 1e-30));
    expect(Number.isFinite(dyn)).toBe(true);
  });
});
