// The two-row table and gradient kernels of asm/dense.ts (fillTables2, gradWeights2) against
// their one-row twins (fillTables, gradWeights, themselves tested against the JavaScript
// loops in test/rnn/wasm-dense.test.ts): the same sums in the same order, so the same bits,
// on shapes with odd row counts, odd block widths and odd K; and the forward pass's states
// where units saturate.
import { describe, expect, it } from 'vitest';
import { denseArena, denseModule } from '../../lib/rnn/wasm-dense.ts';
import { forwardStatesFast } from '../../lib/analysis/forward-fast.ts';
import { forwardStates } from '../../lib/rnn/forward.ts';
import { paramCount, weightsFrom } from '../../lib/rnn/weights.ts';
import { randomBytes, randomFill } from '../rnn/helpers.ts';

describe.skipIf(!denseModule())('two-row table kernels (asm/dense.ts fillTables2, gradWeights2)', () => {
  it('give the one-row kernels\' bits (odd U, w and K; blocks of different sizes)', () => {
    for (const [w, K, Us] of [[1, 5, [3]], [3, 7, [5, 2, 1]], [8, 53, [51, 50, 49]], [13, 4, [9, 10]], [128, 53, [301]], [6, 1, [7, 8]]] as const) {
      const G = Us.length;
      const H = G * w;
      const nR = Us.reduce((s, u) => s + u * w, 0);
      const nTab = Us.reduce((s, u) => s + u * K, 0);
      const d = denseArena({ tab: ['f64', nTab], tab2: ['f64', nTab], R: ['f64', nR], rOff: ['i32', G], U: ['i32', G], base: ['i32', G], W: ['f64', H * K], dW: ['f64', H * K], dW2: ['f64', H * K], A: ['f64', nTab] });
      expect(d).not.toBeNull();
      type X = NonNullable<typeof d>['x'];
      const x = d!.x as X & { fillTables2?: X['fillTables']; gradWeights2?: X['gradWeights'] };
      expect(typeof x.fillTables2, 'build/dense.wasm has fillTables2 (npm run build:wasm)').toBe('function');
      expect(typeof x.gradWeights2).toBe('function');
      const { v, p } = d!;
      let s = 7 + w;
      const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5) * 3;
      for (let i = 0; i < nR; i++) v.R[i] = i % 11 === 0 ? 0 : rnd();
      for (let i = 0; i < H * K; i++) v.W[i] = rnd();
      for (let i = 0; i < nTab; i++) v.A[i] = rnd();
      let r = 0;
      let b = 0;
      Us.forEach((u, g) => {
        v.rOff[g] = r;
        v.U[g] = u;
        v.base[g] = b;
        r += u * w;
        b += u * K;
      });
      x.fillTables(p.tab, nTab, p.R, p.rOff, p.U, p.base, G, w, K, p.W);
      x.fillTables2!(p.tab2, nTab, p.R, p.rOff, p.U, p.base, G, w, K, p.W);
      x.gradWeights(p.dW, H, p.A, p.R, p.rOff, p.U, p.base, G, w, K);
      x.gradWeights2!(p.dW2, H, p.A, p.R, p.rOff, p.U, p.base, G, w, K);
      const worst = (a: Float64Array, c: Float64Array) => a.reduce((m, y, i) => (Object.is(y, c[i]) ? m : Math.max(m, Math.abs(y - c[i]) || Infinity)), 0);
      expect(worst(v.tab, v.tab2), `w = ${w}, K = ${K}, U = ${Us}: tables, max difference`).toBe(0);
      expect(worst(v.dW, v.dW2), `w = ${w}, K = ${K}, U = ${Us}: dWᵀ, max difference`).toBe(0);
      expect(v.tab.some((y) => y !== 0) && v.dW.some((y) => y !== 0)).toBe(true);
    }
  });
});

describe('the forward pass in WebAssembly, two units at a time, where units saturate (asm/dense.ts forwardSteps)', () => {
  it.each([20, 21])('gives forwardStates\' z and S bit for bit when |z| spans 0 to 40 (±1 taken without tanh from |z| ≥ 9.25, units in pairs, H = %i)', (H) => {
    const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 77, 1), H);
    // inputs and biases from 0 to 40 in size, so that z falls on both sides of 9.25 and of 22
    for (let i = 0; i < w.Wx.length; i++) w.Wx[i] *= 1 + (i % 40);
    for (let i = 0; i < H; i++) w.bh[i] = (i % 2 ? -1 : 1) * (i % 11);
    const xs = randomBytes(400, 78, 'abcdefgh xyz');
    const a = forwardStatesFast(w, xs);
    const b = forwardStates(w, xs);
    let bad = 0;
    let big = 0;
    for (let i = 0; i < b.S.length; i++) {
      if (!Object.is(a.S[i], b.S[i]) || !Object.is(a.z[i], b.z[i])) bad++;
      if (Math.abs(b.z[i]) >= 9.25 && Math.abs(b.z[i]) < 22) big++;
    }
    expect(bad, `${bad} of ${b.S.length} states differ`).toBe(0);
    expect(big).toBeGreaterThan(100);
    expect(b.S.some((s) => Math.abs(s) < 0.9)).toBe(true);
  });
});
