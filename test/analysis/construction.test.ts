import { beforeAll, describe, expect, it } from 'vitest';
import {
  analyticGrid, analyticWy, distinctCodes, grid, marginalBias, shiftRegister, signCodes, signHash, splitCounts,
} from '../../lib/analysis/construction.ts';
import {
  byteClasses, factorBlocks, factoredGrad, factoredLogits, fromClasses, gdWork, lrAt, naiveBits, naiveGrad,
  scoreScales, targetClasses, toClasses,
} from '../../lib/analysis/factored-readout.ts';
import { forwardStates, forwardTrace, mean } from '../../lib/rnn/forward.ts';
import { V, weightsFrom } from '../../lib/rnn/weights.ts';
import stage from '../../stages/construction.ts';
import { build } from '../../lib/report/sections/construction.ts';
import figures from '../../lib/report/paper-figures.json' with { type: 'json' };
import { ctx, dataOutput, output } from '../rnn/stage-ctx.ts';
import { maxDiff, randomBytes, randomFill, refBytes } from '../rnn/helpers.ts';

const NET = { groups: 16, units: 8, inputWeight: 10, shiftWeight: 5 };
const PARAMS = {
  ...NET, alphaStep: 0.5, alphaCount: 10, scaleStep: 0.05, scaleCount: 60, floor: 1e-30,
  steps: 1000, lr: 0.5, decay: 0.3, decayAt: [300, 600, 800], gdFirst: 16, maxPositions: 4096, blockLength: 256,
};

/** s(x, j) in BigInt arithmetic mod 2^32: an implementation independent of Math.imul. */
function signHashBig(x: number, j: number): number {
  const M = (1n << 32n) - 1n;
  let h = BigInt(x);
  h = (((h >> 4n) ^ h) * 0x45d9f3bn) & M;
  h ^= h >> 16n;
  h = (h + BigInt(j) * 2654435761n) & M;
  h = (((h >> 4n) ^ h) * 0x45d9f3bn) & M;
  h ^= h >> 16n;
  return h & 1n ? 1 : -1;
}

describe('the sign hash (§4.1)', () => {
  it('agrees with a 32-bit BigInt evaluation for every byte and unit', () => {
    for (let x = 0; x < 256; x++) for (let j = 0; j < 16; j++) expect(signHash(x, j), `x=${x} j=${j}`).toBe(signHashBig(x, j));
  });

  it('gives 170 distinct 8-unit codes over the 256 bytes', () => {
    expect(distinctCodes(signCodes(8), 8)).toBe(170);
  });
});

describe('the shift-register network (§4.1)', () => {
  const xs = refBytes();
  const N = xs.length;
  const codes = signCodes(8);
  const net = shiftRegister(codes, NET);
  const { S } = forwardStates(net, xs);

  it('holds in group g the sign code of the byte read g steps earlier, at every position', () => {
    let bad = 0;
    let first = '';
    for (let t = 0; t < N; t++) {
      for (let g = 0; g < 16; g++) {
        for (let j = 0; j < 8; j++) {
          const v = S[t * 128 + g * 8 + j];
          const ok = t >= g ? Math.sign(v) === signHash(xs[t - g], j) && Math.abs(v) > 0.99 : v === 0;
          if (!ok && bad++ === 0) first = `t=${t} g=${g} j=${j}: S=${v}`;
        }
      }
    }
    expect(bad, first).toBe(0);
  });

  it('has by = the smoothed marginal, a distribution', () => {
    const by = marginalBias(xs);
    let z = 0;
    for (let o = 0; o < V; o++) z += Math.exp(by[o]);
    expect(z).toBeCloseTo(1, 12);
    expect(by[0]).toBeCloseTo(Math.log(0.5 / (N + 128)), 14);
  });

  it('builds the analytic Wy from the sign-split next-byte histogram, as defined', () => {
    const ys = randomBytes(200, 3);
    const H = 3 * 8;
    const { plus, minus } = splitCounts(ys, codes, 3, 8);
    const Wy = analyticWy(plus, minus, H, 1.5);
    // unit 8g + j, directly from the definition
    for (const [g, j] of [[0, 0], [1, 5], [2, 7]]) {
      const np = new Float64Array(V);
      const nm = new Float64Array(V);
      for (let t = g; t <= ys.length - 2; t++) (signHash(ys[t - g], j) > 0 ? np : nm)[ys[t + 1]]++;
      const sp = np.reduce((a, b) => a + b) + 256 * 1.5;
      const sm = nm.reduce((a, b) => a + b) + 256 * 1.5;
      for (const o of [0, 97, 98, 104, 32]) {
        expect(Wy[o * H + 8 * g + j]).toBeCloseTo(Math.log((np[o] + 1.5) / sp) - Math.log((nm[o] + 1.5) / sm), 12);
      }
    }
  });

  it('generates grids without accumulated float error', () => {
    const s = grid(0.05, 60);
    expect([s[0], s[1], s[2], s[59]]).toEqual([0.05, 0.1, 0.15, 3]);
    expect(grid(0.5, 10)).toEqual([0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5]);
  });

  it('decays the learning rate once 300, 600 and 800 steps are done', () => {
    const s = { steps: 1000, lr: 0.5, decay: 0.3, decayAt: [300, 600, 800] };
    expect([lrAt(s, 0), lrAt(s, 299), lrAt(s, 300), lrAt(s, 599), lrAt(s, 600), lrAt(s, 800), lrAt(s, 999)]).toEqual([
      0.5, 0.5, 0.5 * 0.3, 0.5 * 0.3, 0.5 * 0.3 * 0.3, 0.5 * 0.3 * 0.3 * 0.3, 0.5 * 0.3 * 0.3 * 0.3,
    ]);
  });

  it('scores the grid with the fast kernel as the naive full readout does', () => {
    const F = factorBlocks(S, N, 128, 8);
    const cls = byteClasses(xs);
    const by = marginalBias(xs);
    const { plus, minus } = splitCounts(xs, codes, 16, 8);
    const Wy = analyticWy(plus, minus, 128, 2.5);
    const L = new Float64Array((N - 1) * cls.K);
    factoredLogits(L, F, toClasses(Wy, 128, cls), cls.K, 0, N - 1);
    const scales = [0.1, 1.35];
    const fast = new Float64Array(2);
    scoreScales(fast, L, toClasses(by, 1, cls), cls, targetClasses(xs, cls), 0, N - 1, scales, 1e-30);
    const naive = scales.map((s) => mean(naiveBits(S, 128, Wy.map((v) => v * s), by, xs, 0, N - 1, 1e-30)));
    const d = maxDiff(fast, naive);
    expect(d.max, d.msg).toBeLessThan(1e-12);
  });

  it('scores every grid point as a naive evaluation does and keeps the first best', () => {
    // a small network (3 groups × 4 units) on 80 bytes, where the whole grid can be checked
    const ys = randomBytes(80, 21, 'abcdefg hij');
    const c4 = signCodes(4);
    const small = shiftRegister(c4, { groups: 3, units: 4, inputWeight: 10, shiftWeight: 5 });
    const S4 = forwardStates(small, ys).S;
    const by = marginalBias(ys);
    const { plus, minus } = splitCounts(ys, c4, 3, 4);
    const alphas = [0.5, 1, 2];
    const scales = grid(0.25, 8);
    const g = analyticGrid(factorBlocks(S4, 80, 12, 4), byteClasses(ys), ys, plus, minus, by, alphas, scales, 0, 79, 1e-30);
    const naive: number[] = [];
    for (const a of alphas) {
      const Wy = analyticWy(plus, minus, 12, a);
      for (const s of scales) naive.push(mean(naiveBits(S4, 12, Wy.map((v) => v * s), by, ys, 0, 79, 1e-30)));
    }
    const d = maxDiff(g.bpc, naive);
    expect(d.max, d.msg).toBeLessThan(1e-12);
    const first = g.bpc.indexOf(Math.min(...g.bpc));
    expect([g.alpha, g.scale, g.best]).toEqual([alphas[Math.floor(first / 8)], scales[first % 8], g.bpc[first]]);
  });

  it('takes a gradient step with the fast kernel as the naive one does, and lowers the loss', () => {
    const F = factorBlocks(S, N, 128, 8);
    const cls = byteClasses(xs);
    const W = randomFill(new Float64Array(cls.K * 128), 7, 0.05);
    const b = toClasses(marginalBias(xs), 1, cls);
    const dW = new Float64Array(W.length);
    const db = new Float64Array(cls.K);
    const y = targetClasses(xs, cls);
    const loss = factoredGrad(dW, db, F, W, b, cls, y, 16, N - 2, 0, gdWork(F, cls.K));
    const nW = new Float64Array(V * 128);
    const nb = new Float64Array(V);
    const nloss = naiveGrad(nW, nb, S, 128, fromClasses(W, 128, cls), fromClasses(b, 1, cls), xs, 16, N - 2, 0);
    expect(loss).toBeCloseTo(nloss, 8);
    const dw = maxDiff(fromClasses(dW, 128, cls), nW);
    const dbb = maxDiff(fromClasses(db, 1, cls), nb);
    expect(dw.max, dw.msg).toBeLessThan(1e-12);
    expect(dbb.max, dbb.msg).toBeLessThan(1e-12);
    // one step of docs/definitions.md §4.1 (lr 0.5 / positions) lowers the summed loss
    const step = 0.5 / (N - 2 - 16);
    const W2 = W.map((v, i) => v - step * dW[i]);
    const b2 = b.map((v, i) => v - step * db[i]);
    const after = factoredGrad(dW, db, F, W2, b2, cls, y, 16, N - 2, 0, gdWork(F, cls.K));
    expect(after).toBeLessThan(loss);
  });
});

describe('the construction stage on the reference data (the cross-check figures (docs/definitions.md §V))', () => {
  const xs = refBytes();
  const N = xs.length;
  let out: Awaited<ReturnType<typeof stage.run>>;
  // The stage at its real size (1000 steps of gradient descent): about 4 s of CPU.
  beforeAll(async () => {
    out = await stage.run(ctx(PARAMS, { data: dataOutput(xs) }));
  }, 60_000);

  it('finds the analytic Wy 2.4906 bpc at α 2.5, s 0.10 and optimizes Wy to 0.3738', () => {
    const j = out.json as any;
    expect(j.distinctCodes).toBe(170);
    expect(j.alpha).toBe(2.5);
    expect(j.scale).toBe(0.1);
    expect(j.analyticBpc).toBeCloseTo(2.4906, 4);
    expect(j.optimizedBpc).toBeCloseTo(0.3738, 4);
    expect(j.evalPositions).toEqual({ from: 0, to: 1022 });
    expect(j.gdPositions).toEqual({ from: 16, to: 1021 });
    const g = out.tensors!.gridBpc;
    expect(g.shape).toEqual([10, 60]);
    expect(Math.min(...(g.data as Float64Array))).toBe(j.analyticBpc);
  });

  it('gives at its best grid point the bpc of a direct evaluation of the constructed RNN', () => {
    const j = out.json as any;
    const net = shiftRegister(signCodes(8), NET);
    const { plus, minus } = splitCounts(xs, signCodes(8), 16, 8);
    const Wy = analyticWy(plus, minus, 128, j.alpha).map((v) => v * j.scale);
    const { S } = forwardStates(net, xs); // full forward, then the plain float64 readout
    expect(mean(naiveBits(S, 128, Wy, marginalBias(xs), xs, 0, N - 1, 1e-30))).toBeCloseTo(j.analyticBpc, 12);
    // and the stored float32 weights run through the ordinary forward pass
    const tr = forwardTrace(weightsFrom(out.tensors!.paramsAnalytic.data as Float32Array, 128), xs, 1e-30);
    expect(Math.abs(mean(tr.bits) / j.analyticBpc - 1)).toBeLessThan(1e-5);
    const to = forwardTrace(weightsFrom(out.tensors!.paramsOptimized.data as Float32Array, 128), xs, 1e-30);
    expect(Math.abs(mean(to.bits) / j.optimizedBpc - 1)).toBeLessThan(1e-4);
  });

  it('lowers the training loss along the gradient descent', () => {
    const bits = out.tensors!.gdBits.data as Float64Array;
    expect(bits.length).toBe(1000);
    for (let k = 1; k < bits.length; k++) expect(bits[k], `step ${k}`).toBeLessThanOrEqual(bits[k - 1]);
  });

  it('feeds the report its construction table and metrics', () => {
    const trace = output({ T: N, H: 128, bpc: 0.0792, positions: N - 1 });
    const rev = output({ bpc: 0.11, offsets: [1, 8, 20, 3, 27, 2, 12, 7], H: 128, positions: { from: 27, to: 1022 }, steps: 500 });
    const part = build({ construction: output(out.json), 'reverse-iso': rev, trace });
    const [t] = part.tables;
    expect(t.id).toBe('construction');
    expect(t.rows.map((r) => r.construction)).toEqual(['Analytic Wy (shift register)', 'Optimized Wy (shift register)', 'Reverse isomorphism', 'Trained model']);
    for (const r of t.rows) for (const c of ['bpc', 'x']) expect((r[c] as any).ref in figures, `${r.construction} ${c}`).toBe(true);
    expect((t.rows[3].x as any).ours).toBeCloseTo(100, 12);
    expect((t.rows[0].x as any).ours).toBeCloseTo(((8 - (out.json as any).analyticBpc) / (8 - 0.0792)) * 100, 12);
    expect(part.metrics.map((m) => m.id)).toEqual(['analytic_wy_bpc', 'optimized_wy_bpc', 'reverse_iso_bpc']);
    expect(t.notes!.join(' ')).toMatch(/NO trained weights/);
  });
});

describe('the construction stage on long data', () => {
  // 6000 bytes with maxPositions 1024: the grid and the descent fit on evenly spread blocks,
  // both bpc figures are over every position.
  const xs = randomBytes(6000, 5, 'abcdefgh ijklmnop\n<>');
  const P = { ...PARAMS, steps: 40, decayAt: [20], maxPositions: 1024, blockLength: 128 };
  it('samples the fits above maxPositions, says so, and scores every position', async () => {
    const out = await stage.run(ctx(P, { data: dataOutput(xs) }));
    const j = out.json as any;
    expect(j.gridSample).toEqual({ sampled: true, count: 1024, of: 5999, blocks: 8, blockLength: 128, maxPositions: 1024 });
    expect(j.gdSample).toEqual({ sampled: true, count: 1024, of: 5982, blocks: 8, blockLength: 128, maxPositions: 1024 });
    const net = shiftRegister(signCodes(8), NET);
    const { S } = forwardStates(net, xs);
    const { plus, minus } = splitCounts(xs, signCodes(8), 16, 8);
    const Wy = analyticWy(plus, minus, 128, j.alpha).map((v) => v * j.scale);
    expect(mean(naiveBits(S, 128, Wy, marginalBias(xs), xs, 0, xs.length - 1, 1e-30))).toBeCloseTo(j.analyticBpc, 12);
    const to = forwardTrace(weightsFrom(out.tensors!.paramsOptimized.data as Float32Array, 128), xs, 1e-30);
    expect(Math.abs(mean(to.bits) / j.optimizedBpc - 1)).toBeLessThan(1e-4);
    const bits = out.tensors!.gdBits.data as Float64Array;
    for (let k = 1; k < bits.length; k++) expect(bits[k], `step ${k}`).toBeLessThanOrEqual(bits[k - 1]);
    // the report's table says where and how many (the Q3 aggregate finds "evenly spread")
    expect(build({ construction: output(out.json) }).tables[0].positions).toMatch(/gradient descent on 1024 of 5982 positions, in 8 evenly spread blocks/);
  }, 60_000);
});
