import { describe, expect, it } from 'vitest';
import { V, paramCount, weightsFrom, type Weights } from '../../lib/rnn/weights.ts';
import { forwardTrace } from '../../lib/rnn/forward.ts';
import { gradientAttribution, gradientAttributionNaive, normalizeRows } from '../../lib/analysis/gradient-attribution.ts';
import { maxDiff, randomBytes, randomFill } from '../rnn/helpers.ts';

function tiny(H: number, seed: number, amp: number, N = 40) {
  const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), seed, amp), H);
  const xs = randomBytes(N, seed + 1);
  return { w, xs, tr: forwardTrace(w, xs) };
}

/** float64 forward over xs[0..T] with the input term of step s scaled by alpha; returns the logit of x_{T+1}. */
function logitWithInputScale(w: Weights, xs: Uint8Array, s: number, alpha: number, T: number): number {
  const { H, Wx, Wh, bh, Wy, by } = w;
  let prev = new Float64Array(H);
  for (let t = 0; t <= T; t++) {
    const next = new Float64Array(H);
    for (let i = 0; i < H; i++) {
      let z = (t === s ? alpha : 1) * Wx[i * V + xs[t]] + bh[i];
      for (let k = 0; k < H; k++) z += Wh[i * H + k] * prev[k];
      next[i] = Math.tanh(z);
    }
    prev = next;
  }
  const o = xs[T + 1];
  return prev.reduce((acc, h, j) => acc + Wy[o * H + j] * h, by[o] as number);
}

describe('gradient attribution (§5.1)', () => {
  it('is |dL/dα| for the input term of step T-d scaled by α (float64 central differences)', () => {
    const { w, xs } = tiny(5, 51, 0.9, 24);
    const H = 5;
    const S = new Float64Array(xs.length * H); // float64 trajectory
    let prev = new Float64Array(H);
    for (let t = 0; t < xs.length; t++) {
      for (let i = 0; i < H; i++) {
        let z = w.Wx[i * V + xs[t]] + w.bh[i];
        for (let k = 0; k < H; k++) z += w.Wh[i * H + k] * prev[k];
        S[t * H + i] = Math.tanh(z);
      }
      prev = S.slice(t * H, (t + 1) * H);
    }
    const D = 6;
    const raw = gradientAttribution(w, xs, S, 10, 20, D);
    const fd = new Float64Array(raw.length);
    const eps = 1e-6;
    for (let T = 10; T <= 20; T++) {
      for (let d = 0; d < D; d++) {
        const s = T - d;
        fd[(T - 10) * D + d] = Math.abs((logitWithInputScale(w, xs, s, 1 + eps, T) - logitWithInputScale(w, xs, s, 1 - eps, T)) / (2 * eps));
      }
    }
    const diff = maxDiff(raw, fd);
    expect(diff.max, diff.msg).toBeLessThan(1e-8);
  });

  it('four positions at a time equals the naive per-position kernel', () => {
    const { w, xs, tr } = tiny(7, 61, 1);
    const d = maxDiff(gradientAttribution(w, xs, tr.S, 9, 36, 10), gradientAttributionNaive(w, xs, tr.S, 9, 36, 10));
    expect(d.max, d.msg).toBeLessThan(1e-13);
  });

  it('normalizes each position to sum 1', () => {
    const n = normalizeRows(Float64Array.from([1, 3, 0, 0, 2, 2]), 2);
    expect([...n]).toEqual([0.25, 0.75, 0, 0, 0.5, 0.5]);
  });
});
