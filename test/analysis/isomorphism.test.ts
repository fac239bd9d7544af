import { describe, expect, it } from 'vitest';
import { REF_WEIGHTS, refBytes } from '../rnn/helpers.ts';
import { readFileSync } from 'node:fs';
import { V, paramCount, parseWeightsFile, weightsFrom, type Weights } from '../../lib/rnn/weights.ts';
import { TRACE_BLOCK, bitsOf, forwardTrace, mean, readoutLogp } from '../../lib/rnn/forward.ts';
import { BIAS_EVENT, buildPatterns, evaluateUm, maxStateDiff, minusEvent, plusEvent, umStates, umStatesDense } from '../../lib/analysis/isomorphism.ts';
import { denseModule } from '../../lib/rnn/wasm-dense.ts';

function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomModel(H: number, scale: number, seed: number): Weights {
  const rnd = mulberry32(seed);
  const p = new Float32Array(paramCount(H));
  for (let i = 0; i < p.length; i++) p[i] = (rnd() - 0.5) * 2 * scale;
  return weightsFrom(p, H);
}

/** float64 RNN forward written out (the isomorphism's exact counterpart). */
function forward64(w: Weights, xs: Uint8Array): Float64Array {
  const { H, Wx, Wh, bh } = w;
  const S = new Float64Array(xs.length * H);
  const prev = new Float64Array(H);
  for (let t = 0; t < xs.length; t++) {
    for (let i = 0; i < H; i++) {
      let z = Wx[i * V + xs[t]] + bh[i];
      for (let k = 0; k < H; k++) z += Wh[i * H + k] * prev[k];
      S[t * H + i] = Math.tanh(z);
    }
    prev.set(S.subarray(t * H, (t + 1) * H));
  }
  return S;
}

describe('UM isomorphism (doubled event space)', () => {
  it('equals the RNN within float error on random small weights', () => {
    const rnd = mulberry32(7);
    const xs = Uint8Array.from({ length: 300 }, () => Math.floor(rnd() * 256));
    for (const seed of [1, 2, 3]) {
      const w = randomModel(8, 0.8, seed);
      const um = evaluateUm(w, buildPatterns(w), xs, 1e-8);
      const exact = forward64(w, xs);
      let d64 = 0;
      for (let i = 0; i < exact.length; i++) d64 = Math.max(d64, Math.abs(um.u[i] - exact[i]));
      expect(d64, `max |UM - float64 RNN| = ${d64}`).toBeLessThan(1e-12);
      const tr = forwardTrace(w, xs);
      const d32 = maxStateDiff(um.u, tr.S, w.H).max;
      expect(d32, `max |UM - float32 RNN| = ${d32}`).toBeLessThan(1e-5);
      expect(Math.abs(um.bpc - mean(tr.bits))).toBeLessThan(1e-5);
    }
  });

  it.skipIf(!denseModule())('the UM\'s states with the hidden evidence in WebAssembly are the pattern-by-pattern ones, bit for bit (H not a multiple of 8, missing patterns, saturated units)', () => {
    for (const [H, scale] of [[13, 1], [8, 6], [2, 0.3]] as const) {
      const w = randomModel(H, scale, H);
      for (let i = 0; i < H * H; i += 3) w.Wh[i] = 0; // no pattern there
      w.bh[0] = 0;
      const xs = new Uint8Array(Array.from({ length: 120 }, (_, t) => 'ab <c>\n'.charCodeAt(t % 7)));
      const pat = buildPatterns(w);
      const [slow, fast] = [umStates(pat, xs), umStatesDense(pat, xs)!];
      const differ = [...slow.keys()].filter((i) => !Object.is(slow[i], fast[i]));
      expect(differ.length, `H=${H}: first at ${differ[0]}: ${fast[differ[0]]} vs ${slow[differ[0]]}`).toBe(0);
    }
    // a source reaching one target twice is not a pattern set the kernel takes: the definition runs
    const w = randomModel(3, 1, 9);
    const pat = buildPatterns(w);
    const s = plusEvent(1);
    pat.target[pat.start[s] + 1] = pat.target[pat.start[s]];
    expect(umStatesDense(pat, new Uint8Array([1, 2, 3]))).toBeNull();
  });

  it('scores the UM states by the readout over blocks of positions: each bit as readoutLogp of its row gives it, over more than one block', () => {
    const rnd = mulberry32(9);
    const xs = Uint8Array.from({ length: TRACE_BLOCK + 9 }, () => Math.floor(rnd() * 256));
    const w = randomModel(4, 0.8, 5);
    const um = evaluateUm(w, buildPatterns(w), xs, 1e-8);
    const lp = new Float64Array(V);
    let sum = 0;
    for (let t = 0; t + 1 < xs.length; t++) {
      readoutLogp(w, um.u, t * w.H, lp);
      expect(um.bits[t]).toBe(bitsOf(lp[xs[t + 1]], 1e-8));
      sum += um.bits[t];
    }
    expect(um.bpc).toBe(sum / (xs.length - 1));
  });

  it('makes one pattern per non-zero Wx and bh weight and a mirrored pair per Wh weight', () => {
    const w = randomModel(3, 1, 5);
    w.Wh[0 * 3 + 1] = 0; // no pattern from h_1 to h_0
    w.bh[2] = -0.25; // bias -> h_2- with strength 0.25
    const pat = buildPatterns(w);
    expect(pat.nEvents).toBe(V + 1 + 6);
    expect(pat.target.length).toBe(3 * V + 3 + 2 * (9 - 1));
    const fromBias = [...pat.target.subarray(pat.start[BIAS_EVENT], pat.start[BIAS_EVENT + 1])];
    const s2 = pat.strength[pat.start[BIAS_EVENT] + fromBias.indexOf(minusEvent(2))];
    expect(s2).toBeCloseTo(0.25, 7);
    // a positive Wh[0][2] gives h_2+ -> h_0+ and h_2- -> h_0-
    w.Wh[0 * 3 + 2] = 0.5;
    const p2 = buildPatterns(w);
    const targets = (s: number) => [...p2.target.subarray(p2.start[s], p2.start[s + 1])];
    expect(targets(plusEvent(2))).toContain(plusEvent(0));
    expect(targets(minusEvent(2))).toContain(minusEvent(0));
  });

  it.skipIf(!REF_WEIGHTS)('reproduces the trained bpc on the reference weights (the cross-check figures (docs/definitions.md §V))', () => {
    const xs = refBytes();
    const w = parseWeightsFile(new Uint8Array(readFileSync(REF_WEIGHTS)));
    const tr = forwardTrace(w, xs);
    const um = evaluateUm(w, buildPatterns(w), xs, 1e-8);
    expect(mean(tr.bits)).toBeCloseTo(0.079201, 5);
    expect(Math.abs(um.bpc / 0.079201 - 1)).toBeLessThan(1e-4);
    // float64 UM vs float32 trace: rounding drift only
    expect(maxStateDiff(um.u, tr.S, w.H).max).toBeLessThan(2e-3);
  });
});
