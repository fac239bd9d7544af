import { beforeAll, describe, expect, it } from 'vitest';
import { rankBytes, reverseHidden, reverseIso, stateOffsetCounts } from '../../lib/analysis/reverse-iso.ts';
import { blockPositions, positionBlocks } from '../../lib/analysis/position-blocks.ts';
import { marginalBias } from '../../lib/analysis/construction.ts';
import {
  byteClasses, factorBlocks, factoredGd, factoredGrad, fromClasses, gdWork, naiveGrad, sampleFactored, sampleTargets, targetClasses, toClasses,
} from '../../lib/analysis/factored-readout.ts';
import { V } from '../../lib/rnn/weights.ts';
import stage from '../../stages/reverse-iso.ts';
import { ctx, dataOutput, output } from '../rnn/stage-ctx.ts';
import { maxDiff, randomFill, refBytes } from '../rnn/helpers.ts';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const PARAMS = { bytesPerOffset: 16, clip: 3, smoothing: 0.001, steps: 500, lr: 0.5, eps: 1e-10, maxPositions: 16384, blockLength: 256 };
const OFFSETS = [1, 8, 20, 3, 27, 2, 12, 7];

describe('reverse isomorphism: the hidden states (§4.2)', () => {
  it('counts skip-bigrams at a state offset over t = d..N-2', () => {
    // "abcab", d = 1: t = 1..3 pairs (x_{t-1}, x_{t+1}) = (a,c), (b,a), (c,b)
    const c = stateOffsetCounts(bytes('abcab'), 1);
    const a = 97;
    expect(c[a * V + 99]).toBe(1);
    expect(c[98 * V + a]).toBe(1);
    expect(c[99 * V + 98]).toBe(1);
    expect(c.reduce((s, v) => s + v)).toBe(3);
  });

  it('ranks bytes with the authors\' swap loop, which orders ties its own way', () => {
    const count = new Float64Array(V);
    count[5] = 3;
    count[2] = 3;
    count[7] = 5;
    // i = 0 takes 2 then 7; i = 1 takes 5 (2 is not strictly larger); i = 2 takes 2 back
    expect(Array.from(rankBytes(count).subarray(0, 8))).toEqual([7, 5, 2, 3, 4, 1, 6, 0]);
    expect(new Set(rankBytes(count)).size).toBe(256);
  });

  it('writes clipped log ratios p(y|a)/p(y), and 0 for a source byte never seen', () => {
    // N = 8, offset 1, one unit per offset: y_0 = 'a' (4 of 8)
    const xs = bytes('abababaz');
    const { Hs, H, m, bytes: top } = reverseHidden(xs, { offsets: [1], bytesPerOffset: 1, clip: 3, smoothing: 0.001 });
    expect([H, m, top[0]]).toEqual([1, 1, 97]);
    // c_1 over t = 1..6, (x_{t-1}, x_{t+1}): (a,a) ×3 [t = 1,3,5], (b,b) ×2 [t = 2,4], (b,z) ×1 [t = 6]
    const py = (4 + 0.001) / (8 + 0.256);
    // t = 2 reads x_1 = 'b': p(a|b) = 0.001 / (3 + 0.256): ln ratio < -3, clipped
    expect(Hs[2]).toBe(-3);
    // t = 1 reads x_0 = 'a': p(a|a) = 3.001 / 3.256
    expect(Hs[1]).toBeCloseTo(Math.log(3.001 / 3.256 / py), 14);
    const z = reverseHidden(bytes('abababza'), { offsets: [1], bytesPerOffset: 1, clip: 3, smoothing: 0.001 });
    // x_6 = 'z' is a source only for t = 7 = N-1, outside the counts' t ≤ N-2
    expect(z.Hs[7]).toBe(0);
  });
});

describe('reverse isomorphism: the readout (§4.2)', () => {
  const xs = refBytes();
  const N = xs.length;
  const spec = { offsets: OFFSETS, bytesPerOffset: 16, clip: 3, smoothing: 0.001 };
  const { Hs, H, m } = reverseHidden(xs, spec);

  it('fills positions t = 27..N-1 and factors into 8 blocks of one row per source byte', () => {
    expect([H, m]).toEqual([128, 27]);
    const F = factorBlocks(Hs, N, H, 16);
    const distinct = new Set(xs).size;
    for (const r of F.rows) expect(r.length / 16).toBeLessThanOrEqual(distinct + 1); // + the zero rows t < 27
  });

  it('computes the gradient with the fast kernel as the naive one does', () => {
    const F = factorBlocks(Hs, N, H, 16);
    const cls = byteClasses(xs);
    const W = randomFill(new Float64Array(cls.K * H), 3, 0.1);
    const b = toClasses(marginalBias(xs), 1, cls);
    const dW = new Float64Array(W.length);
    const db = new Float64Array(cls.K);
    const loss = factoredGrad(dW, db, F, W, b, cls, targetClasses(xs, cls), m, N - 1, 1e-10, gdWork(F, cls.K));
    const nW = new Float64Array(V * H);
    const nb = new Float64Array(V);
    const nloss = naiveGrad(nW, nb, Hs, H, fromClasses(W, H, cls), fromClasses(b, 1, cls), xs, m, N - 1, 1e-10);
    expect(loss).toBeCloseTo(nloss, 8);
    const d = maxDiff(fromClasses(dW, H, cls), nW);
    expect(d.max, d.msg).toBeLessThan(1e-12);
    const d2 = maxDiff(fromClasses(db, 1, cls), nb);
    expect(d2.max, d2.msg).toBeLessThan(1e-12);
  });

  it('above maxPositions descends on evenly spread blocks and reports the loss over every position', () => {
    const sched = { steps: 20, lr: 0.5, decay: 1, decayAt: [] };
    const r = reverseIso(xs, spec, sched, 1e-10, undefined, { maxPositions: 256, blockLength: 64 });
    const pb = positionBlocks(m, N - 2, 256, 64);
    expect([r.sample.sampled, r.sample.count, r.sample.of, r.sample.blocks.length]).toEqual([true, 256, N - 1 - m, 4]);
    // the same descent by hand: 19 steps on the sample, the naive loss over t = m..N-2, the last step
    const F = factorBlocks(Hs, N, H, 16);
    const cls = byteClasses(xs);
    const y = targetClasses(xs, cls);
    const pos = blockPositions(pb);
    const Fs = sampleFactored(F, pos);
    const W = new Float64Array(cls.K * H);
    const b = toClasses(marginalBias(xs), 1, cls);
    const lossAt = () => naiveGrad(new Float64Array(V * H), new Float64Array(V), Hs, H, fromClasses(W, H, cls), fromClasses(b, 1, cls), xs, m, N - 1, 1e-10) / (N - 1 - m) / Math.LN2;
    expect(r.firstBpc).toBeCloseTo(lossAt(), 10);
    factoredGd(Fs, W, b, cls, sampleTargets(y, pos), 0, pos.length, { ...sched, steps: 19 }, 1e-10);
    expect(r.bpc).toBeCloseTo(lossAt(), 10);
    factoredGd(Fs, W, b, cls, sampleTargets(y, pos), 0, pos.length, { ...sched, steps: 1 }, 1e-10);
    expect(Array.from(r.Wy)).toEqual(Array.from(fromClasses(W, H, cls)));
    // without the sample (the definition), the same call is the full descent
    const full = reverseIso(xs, spec, sched, 1e-10, undefined, { maxPositions: 4096, blockLength: 256 });
    expect(full.sample.sampled).toBe(false);
    expect(full.bpc).toBe(full.bits[19]);
  });
});

describe('the reverse-iso stage on the reference data (the cross-check figures (docs/definitions.md §V))', () => {
  const xs = refBytes();
  let out: Awaited<ReturnType<typeof stage.run>>;
  beforeAll(async () => {
    const skipgrams = output({ offsets: OFFSETS });
    out = await stage.run(ctx(PARAMS, { data: dataOutput(xs), skipgrams }));
  });

  it('reaches 0.1071 bpc in-sample at the start of the last of 500 steps', () => {
    const j = out.json as any;
    expect(j.bpc).toBeCloseTo(0.1071, 4);
    expect(j.positions).toEqual({ from: 27, to: 1022 });
    expect(j.fitSample).toEqual({ sampled: false, count: 996, of: 996, blocks: 1, blockLength: 996, maxPositions: 16384 });
    expect(j.offsets).toEqual(OFFSETS);
    expect(j.bytes.length).toBe(16);
    const bits = out.tensors!.bits.data as Float64Array;
    expect(bits[499]).toBe(j.bpc);
    expect(bits[0]).toBe(j.firstBpc);
    // lr 0.5 on features up to ±3 overshoots at first (step 2 is worse than step 1); it then settles
    expect(bits[499]).toBeLessThan(bits[0] / 10);
    for (let k = 400; k < bits.length; k++) expect(bits[k], `step ${k}`).toBeLessThanOrEqual(bits[k - 1]);
  });

  it('reads no trained weights: only the data and the skip-gram offsets', () => {
    expect(stage.inputs).toEqual(['data', 'skipgrams']);
    expect((out.json as any).usesTrainedWeights).toBe(false);
  });

  it('rejects an offset list it cannot use, with a hint', async () => {
    const bad = ctx(PARAMS, { data: dataOutput(xs), skipgrams: output({ offsets: [] }) });
    await expect(async () => stage.run(bad)).rejects.toThrow(/offsets[\s\S]*hint:/);
  });
});
