import { describe, expect, it } from 'vitest';
import {
  byteClasses, factorBlocks, factorBlocksNaive, factoredBitsBlocked, factoredGrad, factoredLogits, fromClasses, gdWork, naiveBits, naiveGrad,
  sampleFactored, sampleTargets, scoreScales, targetClasses, type Factored,
} from '../../lib/analysis/factored-readout.ts';
import { mean } from '../../lib/rnn/forward.ts';
import { V } from '../../lib/rnn/weights.ts';
import { maxDiff, randomBytes, randomFill } from '../rnn/helpers.ts';

describe('the factored readout kernels (§4)', () => {
  // A trajectory whose rows do not repeat, 3 blocks (not a multiple of 4), and unseen bytes.
  const T = 40;
  const H = 6;
  const xs = randomBytes(T, 11, 'abcde');
  const Hs = randomFill(new Float64Array(T * H), 5, 1);
  const F: Factored = factorBlocks(Hs, T, H, 2);
  const cls = byteClasses(xs);
  const y = targetClasses(xs, cls);
  const W = randomFill(new Float64Array(cls.K * H), 9, 0.5);
  const b = randomFill(new Float64Array(cls.K), 10, 0.5);

  it('factors blocks exactly and collapses the unseen bytes into one class', () => {
    expect(F.G).toBe(3);
    expect(F.rows.map((r) => r.length / 2)).toEqual([T, T, T]);
    expect(cls.K).toBe(6);
    expect(cls.mult[cls.of[0]]).toBe(251);
    expect(cls.mult[cls.of[97]]).toBe(1);
    const tiny = factorBlocks(Float32Array.from([1, 2, 1, 2, 1, 3]), 3, 2, 2);
    expect(Array.from(tiny.idx)).toEqual([0, 0, 1]);
  });

  it('finds the same distinct rows as its naive twin (text keys): repeats, 0 and -0, NaN', () => {
    // rows drawn from a few patterns, so that blocks repeat; some values -0, 0 or NaN
    const T2 = 300;
    const H2 = 12;
    const pool = [0, -0, NaN, 0.5, -0.25, 1 / 3, Math.fround(0.1), 7];
    for (const [w2, Arr] of [[3, Float32Array], [4, Float64Array], [12, Float32Array]] as const) {
      const Hs2 = new Arr(T2 * H2);
      let s = 12345;
      for (let i = 0; i < Hs2.length; i++) {
        s = (s * 1103515245 + 12345) >>> 0;
        Hs2[i] = pool[(s >>> 16) % (w2 === 12 ? 2 : pool.length)] ;
      }
      const fast = factorBlocks(Hs2, T2, H2, w2);
      const slow = factorBlocksNaive(Hs2, T2, H2, w2);
      expect(Array.from(fast.idx)).toEqual(Array.from(slow.idx));
      expect(fast.rows.map((r) => r.length)).toEqual(slow.rows.map((r) => r.length));
      fast.rows.forEach((r, g) => r.forEach((v, i) => expect(Object.is(v, slow.rows[g][i]), `block ${g} value ${i}`).toBe(true)));
      expect(Math.max(...fast.rows.map((r) => r.length / w2))).toBeLessThan(T2); // it did factor
    }
  });

  it('finds the same distinct rows as its naive twin on thousands of rows (hash collisions probed, float32 and float64)', () => {
    const T4 = 4000;
    const pool = [0, -0, NaN, ...Array.from({ length: 30 }, (_, i) => Math.fround(i / 7 - 2))];
    for (const [w4, Arr] of [[2, Float64Array], [3, Float32Array], [5, Float64Array]] as const) {
      const H4 = 2 * w4;
      const Hs4 = new Arr(T4 * H4);
      let s = 99;
      for (let i = 0; i < Hs4.length; i++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        Hs4[i] = pool[(s >>> 16) % pool.length];
      }
      const fast = factorBlocks(Hs4, T4, H4, w4);
      const slow = factorBlocksNaive(Hs4, T4, H4, w4);
      let bad = 0;
      fast.idx.forEach((u, i) => (bad += u === slow.idx[i] ? 0 : 1));
      expect(bad, `w = ${w4}: ${bad} ids differ`).toBe(0);
      expect(fast.rows.map((r) => r.length)).toEqual(slow.rows.map((r) => r.length));
      expect(Math.max(...fast.rows.map((r) => r.length / w4))).toBeGreaterThan(100); // many distinct rows
    }
  });

  it('matches the naive gradient on a trajectory that does not factor', () => {
    const dW = new Float64Array(W.length);
    const db = new Float64Array(cls.K);
    const loss = factoredGrad(dW, db, F, W, b, cls, y, 2, T - 1, 1e-10, gdWork(F, cls.K));
    const nW = new Float64Array(V * H);
    const nb = new Float64Array(V);
    const nloss = naiveGrad(nW, nb, Hs, H, fromClasses(W, H, cls), fromClasses(b, 1, cls), xs, 2, T - 1, 1e-10);
    expect(loss).toBeCloseTo(nloss, 10);
    const d = maxDiff(fromClasses(dW, H, cls), nW);
    expect(d.max, d.msg).toBeLessThan(1e-12);
    const d2 = maxDiff(fromClasses(db, 1, cls), nb);
    expect(d2.max, d2.msg).toBeLessThan(1e-12);
  });

  it('matches the naive gradient where contexts repeat (each context scattered once, n·p minus the onehots)', () => {
    // rows drawn from four patterns: positions share their context, so slots hold several positions
    const T3 = 90;
    const xs3 = randomBytes(T3, 13, 'abcdefg');
    const pats = randomFill(new Float64Array(4 * H), 14, 1);
    const Hs3 = new Float64Array(T3 * H);
    for (let t = 0; t < T3; t++) for (let i = 0; i < H; i++) Hs3[t * H + i] = pats[(t % 4) * H + i];
    const F3 = factorBlocks(Hs3, T3, H, 2);
    const cls3 = byteClasses(xs3);
    const y3 = targetClasses(xs3, cls3);
    const W3 = randomFill(new Float64Array(cls3.K * H), 15, 0.5);
    const b3 = randomFill(new Float64Array(cls3.K), 16, 0.5);
    const work = gdWork(F3, cls3.K);
    const dW = new Float64Array(W3.length);
    const db = new Float64Array(cls3.K);
    const loss = factoredGrad(dW, db, F3, W3, b3, cls3, y3, 1, T3 - 1, 1e-10, work);
    expect(work.ctx!.slots).toBe(4);
    const nW = new Float64Array(V * H);
    const nb = new Float64Array(V);
    const nloss = naiveGrad(nW, nb, Hs3, H, fromClasses(W3, H, cls3), fromClasses(b3, 1, cls3), xs3, 1, T3 - 1, 1e-10);
    // the sums run in another order: agreement to a few units in the last place of their size
    expect(Math.abs(loss - nloss), `loss ${loss} vs ${nloss}`).toBeLessThan(1e-12 * Math.abs(nloss));
    const d = maxDiff(fromClasses(dW, H, cls3), nW);
    expect(d.max, d.msg).toBeLessThan(1e-12);
    const d2 = maxDiff(fromClasses(db, 1, cls3), nb);
    expect(d2.max, d2.msg).toBeLessThan(1e-12);
  });

  it('has the gradient of the summed -ln p, by central finite differences', () => {
    const Wy = fromClasses(W, H, cls);
    const by = fromClasses(b, 1, cls);
    const f = () => mean(naiveBits(Hs, H, Wy, by, xs, 2, T - 1, 0)) * (T - 3) * Math.LN2;
    const dW = new Float64Array(W.length);
    const db = new Float64Array(cls.K);
    factoredGrad(dW, db, F, W, b, cls, y, 2, T - 1, 0, gdWork(F, cls.K));
    const h = 1e-6;
    // a seen byte ('a'), and an unseen one (0) whose gradient is its class's per-member value
    for (const o of [97, 0]) {
      for (const i of [0, 3, 5]) {
        const k = o * H + i;
        const v = Wy[k];
        Wy[k] = v + h;
        const up = f();
        Wy[k] = v - h;
        const down = f();
        Wy[k] = v;
        expect(dW[cls.of[o] * H + i], `Wy[${o}][${i}]`).toBeCloseTo((up - down) / (2 * h), 6);
      }
      const v = by[o];
      by[o] = v + h;
      const up = f();
      by[o] = v - h;
      const down = f();
      by[o] = v;
      expect(db[cls.of[o]], `by[${o}]`).toBeCloseTo((up - down) / (2 * h), 6);
    }
  });

  it('scores in blocks with the same bits as over the whole range, and on a sample as on those positions', () => {
    const scales = [1, 0.3, 2.5];
    const whole = new Float64Array(3);
    const L = new Float64Array((T - 1 - 2) * cls.K);
    factoredLogits(L, F, W, cls.K, 2, T - 1);
    scoreScales(whole, L, b, cls, y, 2, T - 1, scales, 1e-8);
    for (const block of [1, 5, 16, 1000]) {
      const got = new Float64Array(3);
      factoredBitsBlocked(got, F, W, b, cls, y, 2, T - 1, scales, 1e-8, block);
      expect(Array.from(got), `block ${block}`).toEqual(Array.from(whole));
    }
    // the sampled positions 3, 4, 10, 30 scored alone: the naive bits at those positions
    const pos = Int32Array.from([3, 4, 10, 30]);
    const got = new Float64Array(1);
    factoredBitsBlocked(got, sampleFactored(F, pos), W, b, cls, sampleTargets(y, pos), 0, pos.length, [1], 1e-8);
    const nb = naiveBits(Hs, H, fromClasses(W, H, cls), fromClasses(b, 1, cls), xs, 0, T - 1, 1e-8);
    const want = mean(Array.from(pos, (t) => nb[t]));
    expect(Math.abs(got[0] - want), `${got[0]} vs ${want}`).toBeLessThan(1e-12);
  });
});
