import { describe, expect, it } from 'vitest';
import { paperWeights } from '../helpers/reference.ts';
import { readFileSync } from 'node:fs';
import { V, paramCount, parseWeightsFile, weightsFrom, zeroWeights, type Weights } from '../../lib/rnn/weights.ts';
import { bitsOf, forwardTrace, readoutLogp } from '../../lib/rnn/forward.ts';
import { runWithHooks } from '../../lib/rnn/hooks.ts';
import {
  carrier,
  carrierOnly,
  carrierNaive,
  carrierOnlyBits,
  carrierOnlyBitsFast,
  deviation,
  patternSensitive,
  patternSensitiveNaive,
  psCounts,
} from '../../lib/analysis/carrier.ts';
import { maxDiff, randomBytes, randomFill, refBytes } from '../rnn/helpers.ts';

/** The paper's weights (test/helpers/reference.ts), or null: the tests that need them skip. */
const PAPER = paperWeights();

const ref = PAPER ? (() => {
  const w = parseWeightsFile(new Uint8Array(readFileSync(PAPER)));
  const xs = refBytes();
  const tr = forwardTrace(w, xs);
  const c = carrier(w, tr.S, xs.length);
  return { w, xs, tr, c, ps: patternSensitive(w, c) };
})() : null!;

function tinyModel(H: number, seed: number, amp = 1) {
  const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), seed, amp), H);
  const xs = randomBytes(40, seed + 1);
  return { w, xs, tr: forwardTrace(w, xs) };
}

describe('carrier and pattern-sensitivity test (§5.2, eq. 5)', () => {
  it.skipIf(!PAPER)('adds up with Wx[x_t] to the trace pre-activation', () => {
    const { w, xs, tr, c } = ref;
    const H = w.H;
    let worst = 0;
    for (let t = 0; t < xs.length; t++) {
      for (let j = 0; j < H; j++) {
        const z = tr.z[t * H + j];
        worst = Math.max(worst, Math.abs(c[t * H + j] + w.Wx[j * V + xs[t]] - z) / Math.max(1, Math.abs(z)));
      }
    }
    expect(worst, `max rel diff ${worst}`).toBeLessThan(1e-6); // float32 rounding of z only
  });

  it('marks PS by hand: the closed interval [c + min Wx, c + max Wx] contains 0', () => {
    const w = zeroWeights(1);
    for (let v = 0; v < V; v++) w.Wx[v] = -1 + (3 * v) / (V - 1); // row range [-1, 2]
    const c = Float64Array.from([-0.5, 3, 1, -2, 0.999, -2.5]);
    // c + [-1, 2]: [-1.5, 1.5] PS; [2, 5] no; [0, 3] PS (boundary); [-3, 0] PS; [-0.001, 2.999] PS; [-3.5, -0.5] no
    expect([...patternSensitive(w, c)]).toEqual([1, 0, 1, 1, 1, 0]);
  });

  it('matches the 256-byte naive test on the shipped weights and a random model', () => {
    const mismatches = (a: Uint8Array, b: Uint8Array) => a.reduce((n, x, i) => n + (x !== b[i] ? 1 : 0), 0);
    if (PAPER) expect(mismatches(patternSensitive(ref.w, ref.c), patternSensitiveNaive(ref.w, ref.c))).toBe(0);
    const { w, xs, tr } = tinyModel(7, 11, 2);
    const c = carrier(w, tr.S, xs.length);
    const ps = patternSensitive(w, c);
    expect(mismatches(ps, patternSensitiveNaive(w, c))).toBe(0);
    expect(ps.some((p) => p === 1) && ps.some((p) => p === 0)).toBe(true);
  });

  it.skipIf(!PAPER)('marks a unit PS exactly when some byte can flip its sign (shipped weights, all positions)', () => {
    const { w, c, ps } = ref;
    const H = w.H;
    let flippable = 0;
    let boundary = 0;
    let carrierFlips = 0;
    for (let i = 0; i < c.length; i++) {
      const j = i % H;
      let pos = 0;
      let neg = 0;
      for (let v = 0; v < V; v++) {
        if (c[i] + w.Wx[j * V + v] >= 0) pos++; // sign(0) = +1
        else neg++;
      }
      const flips = pos > 0 && neg > 0;
      if (ps[i] && !flips) boundary++; // only when c + min Wx = 0 exactly
      if (!ps[i] && flips) carrierFlips++;
      if (flips) flippable++;
    }
    expect(carrierFlips, 'carrier-determined units that some byte flips').toBe(0);
    expect(boundary).toBe(0);
    let psTotal = 0;
    for (const p of ps) psTotal += p;
    expect(flippable).toBe(psTotal);
    expect(psTotal).toBeGreaterThan(1000); // the test is not vacuous
  });

  it('counts PS units per position and per unit', () => {
    const ps = Uint8Array.from([1, 0, 1, /**/ 0, 0, 1, /**/ 1, 1, 1]); // (N, H) = (3, 3)
    const { perPosition, perUnit } = psCounts(ps, 3, 0, 1);
    expect([...perPosition]).toEqual([2, 1]);
    expect([...perUnit]).toEqual([1, 0, 2]);
  });
});

/** Table 2's carrier-only bits spelled out on the trace, without hooks: tanh(c) on PS units, S elsewhere, readout. */
function carrierOnlyBitsOnTrace(w: Weights, xs: Uint8Array, S: Float32Array, floor: number): Float64Array {
  const H = w.H;
  const c = carrier(w, S, xs.length);
  const ps = patternSensitive(w, c);
  const bits = new Float64Array(xs.length - 1);
  const h = new Float64Array(H);
  const lp = new Float64Array(V);
  for (let t = 0; t + 1 < xs.length; t++) {
    for (let j = 0; j < H; j++) h[j] = ps[t * H + j] ? Math.tanh(c[t * H + j]) : S[t * H + j];
    readoutLogp(w, h, 0, lp);
    bits[t] = bitsOf(lp[xs[t + 1]], floor);
  }
  return bits;
}

describe('carrier-only state and deviation (Table 2, eq. 6)', () => {
  it('on the hook forward gives the carrier-only bits spelled out on the trace, bit for bit', () => {
    const { w, xs, tr } = tinyModel(7, 11, 2);
    const d = maxDiff(carrierOnlyBits(w, xs, 1e-8), carrierOnlyBitsOnTrace(w, xs, tr.S, 1e-8));
    expect(d.max, d.msg).toBe(0);
    expect(maxDiff(carrierOnlyBits(w, xs, 1e-8), tr.bits).max).toBeGreaterThan(1e-3); // the intervention does something
    if (PAPER) {
      const e = maxDiff(carrierOnlyBits(ref.w, ref.xs, 1e-8), carrierOnlyBitsOnTrace(ref.w, ref.xs, ref.tr.S, 1e-8));
      expect(e.max, e.msg).toBe(0);
    }
  });

  it('splits S into the carrier-only state plus δ, with δ zero off the PS mask, and reports the mask it used', () => {
    const { w, xs, tr } = PAPER ? ref : tinyModel(7, 11, 2);
    const c = carrier(w, tr.S, xs.length);
    const ps = patternSensitive(w, c);
    const delta = deviation(tr.S, c, ps);
    const used = new Uint8Array(ps.length);
    const run = runWithHooks(w, xs, { hooks: [carrierOnly(w, used)], cache: ['readout'] });
    expect(maxDiff(used, ps).max).toBe(0);
    const h = run.cache.readout!;
    let offMask = 0;
    let worst = 0;
    for (let i = 0; i < h.length; i++) {
      if (!ps[i] && delta[i] !== 0) offMask++;
      worst = Math.max(worst, Math.abs(h[i] + delta[i] - tr.S[i]));
    }
    expect(offMask).toBe(0);
    expect(worst).toBeLessThan(1e-15);
    expect(ps.some((p) => p === 1)).toBe(true);
  });

  it('gives the trace bits back when no unit is pattern-sensitive', () => {
    // every byte has the same input weight: nothing depends on the byte, so nothing is PS
    const { w } = tinyModel(5, 3);
    for (let j = 0; j < 5; j++) for (let v = 0; v < V; v++) w.Wx[j * V + v] = 0.3 * (j - 2) + 0.05;
    const xs = randomBytes(30, 4);
    const tr = forwardTrace(w, xs);
    const c = carrier(w, tr.S, xs.length);
    const ps = patternSensitive(w, c);
    expect(ps.every((p) => p === 0)).toBe(true);
    const d = maxDiff(carrierOnlyBits(w, xs, 1e-8), tr.bits);
    expect(d.max, d.msg).toBe(0);
  });
});

describe('fast carrier kernels against their twins (bit for bit)', () => {
  const same = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
    expect(a.length, what).toBe(b.length);
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) expect.fail(`${what}: first difference at ${i}: ${a[i]} vs ${b[i]}`);
  };

  it('carrier (four rows at a time) equals carrierNaive for H = 1, 5, 8, 13', () => {
    for (const H of [1, 5, 8, 13]) {
      const { w, xs, tr } = tinyModel(H, 20 + H);
      same(carrier(w, tr.S, xs.length), carrierNaive(w, tr.S, xs.length), `H=${H}`);
    }
  });

  it('carrierOnlyBitsFast (from the trace, four positions at a time) equals the hooked forward run, ragged ends included', () => {
    for (const [H, N] of [[5, 40], [8, 7], [13, 2], [6, 1]] as const) {
      const { w } = tinyModel(H, 30 + H, 2.5);
      const xs = randomBytes(N, 31 + H);
      const tr = forwardTrace(w, xs);
      const c = carrier(w, tr.S, N);
      expect(patternSensitive(w, c).some((p) => p === 1) || N < 3).toBe(true);
      same(carrierOnlyBitsFast(w, xs, tr.S, c, 1e-8), carrierOnlyBits(w, xs, 1e-8), `H=${H} N=${N}`);
    }
  });

  it.skipIf(!PAPER)('carrierOnlyBitsFast equals the hooked forward run on the paper weights', () => {
    const { w, xs, tr, c } = ref;
    same(carrierOnlyBitsFast(w, xs, tr.S, c, 1e-8), carrierOnlyBits(w, xs, 1e-8), 'paper');
  });
});
