import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { V, paramCount, parseWeightsFile, weightsFrom, type Weights } from '../../lib/rnn/weights.ts';
import { forwardTrace } from '../../lib/rnn/forward.ts';
import { carrier, deviation, patternSensitive } from '../../lib/analysis/carrier.ts';
import { bandMean, forEachGradient, gradientsAt, influenceTable, summarizeByOffset, type InfluenceTable } from '../../lib/analysis/influence.ts';
import { REF_WEIGHTS, maxDiff, randomBytes, randomFill, refBytes } from '../rnn/helpers.ts';

/** float64 forward from state `h0` (as S[start-1]) over xs[start..end]; returns S[end]. */
function run64(w: Weights, xs: Uint8Array, h0: Float64Array, start: number, end: number): Float64Array {
  const { H, Wx, Wh, bh } = w;
  let prev = Float64Array.from(h0);
  for (let t = start; t <= end; t++) {
    const next = new Float64Array(H);
    for (let i = 0; i < H; i++) {
      let z = Wx[i * V + xs[t]] + bh[i];
      for (let k = 0; k < H; k++) z += Wh[i * H + k] * prev[k];
      next[i] = Math.tanh(z);
    }
    prev = next;
  }
  return prev;
}

describe('backward gradient G (§5.3, eq. 7)', () => {
  it('is the derivative of the target logit with respect to each earlier state (float64 central differences)', () => {
    const H = 5;
    const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 21, 0.9), H);
    const xs = randomBytes(20, 22);
    // float64 trajectory S (N, H)
    const S = new Float64Array(xs.length * H);
    for (let t = 0; t < xs.length; t++) S.set(run64(w, xs, t > 0 ? S.subarray((t - 1) * H, t * H) : new Float64Array(H), t, t), t * H);
    const T = 15;
    const D = 10;
    const o = xs[T + 1];
    const G = new Float64Array(D * H);
    gradientsAt(w, S, o, T, D, G, new Float64Array(H));
    const logit = (h: Float64Array) => h.reduce((acc, x, j) => acc + w.Wy[o * H + j] * x, w.by[o] as number);
    const eps = 1e-6;
    const fd = new Float64Array(D * H);
    for (let d = 0; d < D; d++) {
      const s = T - d;
      for (let k = 0; k < H; k++) {
        const plus = Float64Array.from(S.subarray(s * H, (s + 1) * H));
        const minus = Float64Array.from(plus);
        plus[k] += eps;
        minus[k] -= eps;
        fd[d * H + k] = (logit(run64(w, xs, plus, s + 1, T)) - logit(run64(w, xs, minus, s + 1, T))) / (2 * eps);
      }
    }
    const diff = maxDiff(G, fd);
    expect(diff.max, diff.msg).toBeLessThan(1e-8);
    expect(Math.max(...G.map(Math.abs))).toBeGreaterThan(1e-3); // not vacuous
  });

  it.skipIf(!REF_WEIGHTS)('four positions at a time equals one at a time, bitwise (shipped weights)', () => {
    const w = parseWeightsFile(new Uint8Array(readFileSync(REF_WEIGHTS)));
    const xs = refBytes();
    const tr = forwardTrace(w, xs);
    const D = 50;
    const G1 = new Float64Array(D * w.H);
    const u = new Float64Array(w.H);
    const seen: number[] = [];
    let worst = 0;
    forEachGradient(w, tr.S, xs, 60, 70, D, (T, G, base) => {
      seen.push(T);
      gradientsAt(w, tr.S, xs[T + 1], T, D, G1, u);
      const d = maxDiff(G.subarray(base, base + D * w.H), G1);
      worst = Math.max(worst, d.max);
    });
    expect(seen).toEqual([60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70]);
    expect(worst).toBe(0);
  });
});

describe('influence table (Table 3)', () => {
  it('gives the same bits with the WebAssembly steps (gradients4) as with the JavaScript loops, from the first position the offsets allow', () => {
    const H = 128;
    const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 77, 0.2), H);
    const xs = randomBytes(120, 78);
    const tr = forwardTrace(w, xs);
    const D = 50;
    const collect = () => {
      const out: number[] = [];
      forEachGradient(w, tr.S, xs, D - 1, 110, D, (T, G, base) => out.push(T, ...G.subarray(base, base + D * H)));
      return out;
    };
    const wasm = collect();
    process.env.TOTAL_INTERP_DENSE = 'js';
    let js: number[];
    try {
      js = collect();
    } finally {
      delete process.env.TOTAL_INTERP_DENSE;
    }
    expect(wasm.length).toBe(js.length);
    const d = maxDiff(wasm, js);
    expect(d.max, `max difference ${d.max}`).toBe(0);
    for (let i = 0; i < js.length; i++) if (!Object.is(wasm[i], js[i])) expect.fail(`differs at ${i}: ${wasm[i]} vs ${js[i]}`);
  });

  it('four positions at a time equals one at a time, bitwise, for odd and even H (two rows of Whᵀ per pass, a last odd row alone)', () => {
    for (const H of [1, 5, 8]) {
      const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 40 + H, 1), H);
      const xs = randomBytes(30, 41 + H);
      const tr = forwardTrace(w, xs);
      const D = 7;
      const G1 = new Float64Array(D * H);
      const u = new Float64Array(H);
      const seen: number[] = [];
      forEachGradient(w, tr.S, xs, 6, 28, D, (T, G, base) => {
        seen.push(T);
        gradientsAt(w, tr.S, xs[T + 1], T, D, G1, u);
        for (let i = 0; i < D * H; i++) if (!Object.is(G[base + i], G1[i])) expect.fail(`H=${H} T=${T}: differs at ${i}: ${G[base + i]} vs ${G1[i]}`);
      });
      expect(seen.length).toBe(23);
    }
  });

  it('is G[T-d]·δ_{T-d}, with Wy[o]·δ_T at d = 0', () => {
    const H = 6;
    const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 5, 1.5), H);
    const xs = randomBytes(30, 6);
    const tr = forwardTrace(w, xs);
    const c = carrier(w, tr.S, xs.length);
    const delta = deviation(tr.S, c, patternSensitive(w, c));
    const D = 6;
    const t = influenceTable(w, xs, tr.S, delta, 8, 27, D);
    const G = new Float64Array(D * H);
    const u = new Float64Array(H);
    const want = new Float64Array(t.influence.length);
    const norm = new Float64Array(t.influence.length);
    for (let T = 8; T <= 27; T++) {
      gradientsAt(w, tr.S, xs[T + 1], T, D, G, u);
      for (let d = 0; d < D; d++) {
        let dot = 0;
        let sq = 0;
        for (let j = 0; j < H; j++) {
          dot += G[d * H + j] * delta[(T - d) * H + j];
          sq += G[d * H + j] ** 2;
        }
        want[(T - 8) * D + d] = dot;
        norm[(T - 8) * D + d] = Math.sqrt(sq);
      }
      let d0 = 0;
      for (let j = 0; j < H; j++) d0 += w.Wy[xs[T + 1] * H + j] * delta[T * H + j];
      expect(t.influence[(T - 8) * D]).toBeCloseTo(d0, 12);
    }
    const a = maxDiff(t.influence, want);
    expect(a.max, a.msg).toBeLessThan(1e-12);
    const b = maxDiff(t.gradNorm, norm);
    expect(b.max, b.msg).toBeLessThan(1e-12);
    expect(t.influence.some((v) => v !== 0)).toBe(true);
  });

  it('summarizes signed, unsigned, |∇| and decay per offset, and band means', () => {
    // nT = 2 positions, D = 3 offsets
    const t: InfluenceTable = {
      firstT: 0,
      lastT: 1,
      D: 3,
      influence: Float64Array.from([2, -1, 0.5, /**/ 2, 3, -0.5]),
      gradNorm: Float64Array.from([1, 2, 3, /**/ 3, 4, 5]),
    };
    const rows = summarizeByOffset(t);
    expect(rows).toEqual([
      { d: 0, signed: 2, unsigned: 2, grad: 2, decay: 1 },
      { d: 1, signed: 1, unsigned: 2, grad: 3, decay: 1 },
      { d: 2, signed: 0, unsigned: 0.5, grad: 4, decay: 0.25 },
    ]);
    expect(bandMean(rows, 1, 2)).toEqual({ from: 1, to: 2, signed: 0.5, unsigned: 1.25, grad: 3.5, decay: 0.625 });
  });

  it('refuses a first position before the last offset exists', () => {
    const H = 2;
    const w = weightsFrom(new Float32Array(paramCount(H)), H);
    const xs = new Uint8Array(20);
    const S = new Float32Array(20 * H);
    expect(() => influenceTable(w, xs, S, new Float64Array(20 * H), 3, 10, 5)).toThrow(/firstT \(3\) must be ≥ maxOffset - 1 \(4\)/);
  });
});
