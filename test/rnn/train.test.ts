import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { evalBpc, initParams, train, type TrainOptions } from '../../lib/rnn/train.ts';
import { V, paramCount, parseWeightsFile, views } from '../../lib/rnn/weights.ts';
import { glibcRand, mulberry32 } from '../../lib/rnn/prng.ts';
import { maxDiff, randomBytes, REF_WEIGHTS, refBytes } from './helpers.ts';

const tiny: TrainOptions = { hidden: 8, epochs: 12, optimizer: 'adam', seed: 42, bptt: 10, evalEvery: 5 };

describe('init', () => {
  it('draws (U - 0.5f)/H in float32, per hidden row its Wx then its Wh entries, then Wy; biases 0 (both PRNGs)', () => {
    const H = 4;
    const f = Math.fround;
    const draws = {
      glibc: (() => {
        const r = glibcRand(42);
        return () => f(r()) / 2 ** 31; // (float)rand() / RAND_MAX, RAND_MAX -> 2^31 as a float
      })(),
      mulberry32: (() => {
        const r = mulberry32(42);
        return () => f(r.next());
      })(),
    };
    for (const init of ['glibc', 'mulberry32'] as const) {
      const v = views(initParams(H, 42, init), H);
      const u = draws[init];
      const w = () => f(f(u() - 0.5) / H);
      for (let i = 0; i < H; i++) {
        for (let x = 0; x < V; x++) expect(v.Wx[i * V + x], `${init} Wx[${i}][${x}]`).toBe(w());
        for (let j = 0; j < H; j++) expect(v.Wh[i * H + j], `${init} Wh[${i}][${j}]`).toBe(w());
      }
      for (let k = 0; k < v.Wy.length; k++) expect(v.Wy[k]).toBe(w());
      expect(v.bh.every((x) => x === 0) && v.by.every((x) => x === 0)).toBe(true);
      expect(v.Wx.every((x) => Math.abs(x) <= 0.5 / H)).toBe(true);
    }
    expect(initParams(H, 42)).toEqual(initParams(H, 42, 'glibc')); // glibc is the default
    expect(initParams(H, 43)).not.toEqual(initParams(H, 42));
  });
});

describe('training', () => {
  const xs = randomBytes(120, 11);

  it('lowers the loss within a few epochs (adam and sgd)', () => {
    for (const optimizer of ['adam', 'sgd'] as const) {
      const r = train(xs, { ...tiny, optimizer, epochs: 8 }, { backend: 'ts' });
      const c = r.curveTrainBpc;
      expect(c[0]).toBeGreaterThan(7); // ≈ log2(256) at init
      expect(c[7]).toBeLessThan(c[0] - 0.5);
      for (let e = 1; e < 8; e++) expect(c[e]).toBeLessThan(c[e - 1]);
      expect(r.finalEvalBpc).toBeLessThan(c[0]);
    }
  });

  it('gives bit-identical weights for the same seed, different ones for another seed', () => {
    const a = train(xs, tiny, { backend: 'ts' });
    const b = train(xs, tiny, { backend: 'ts' });
    expect(Buffer.from(a.params.buffer).equals(Buffer.from(b.params.buffer))).toBe(true);
    expect(Buffer.from(a.finalParams.buffer).equals(Buffer.from(b.finalParams.buffer))).toBe(true);
    expect(Array.from(a.curveTrainBpc)).toEqual(Array.from(b.curveTrainBpc));
    const c = train(xs, { ...tiny, seed: 43 }, { backend: 'ts' });
    expect(Buffer.from(a.params.buffer).equals(Buffer.from(c.params.buffer))).toBe(false);
  });

  it('keeps the best checkpoint by training bpc and evaluates it', () => {
    const r = train(xs, tiny, { backend: 'ts' });
    const c = r.curveTrainBpc;
    expect(r.bestTrainBpc).toBe(c[r.bestEpoch - 1]);
    let best = Infinity;
    let bestEpoch = 0;
    for (let e = 1; e <= c.length; e++) if (c[e - 1] < best - 1e-4) [best, bestEpoch] = [c[e - 1], e];
    expect(r.bestEpoch).toBe(bestEpoch);
    expect(r.bestEvalBpc).toBe(evalBpc(r.params, 8, xs));
    expect(r.finalEvalBpc).toBe(evalBpc(r.finalParams, 8, xs));
    expect(r.evalEpochs).toEqual([5, 10, 12]);
    expect(r.params.length).toBe(paramCount(8));
  });

  it('blocked kernel and naive twin agree after a few epochs (loss and weights)', () => {
    const opt = { ...tiny, hidden: 16, epochs: 3, bptt: 50 };
    const data = randomBytes(256, 12);
    const n = train(data, opt, { backend: 'naive' });
    const b = train(data, opt, { backend: 'ts' });
    const loss = maxDiff(b.curveTrainBpc, n.curveTrainBpc);
    const w = maxDiff(b.finalParams, n.finalParams);
    console.log(`ts vs naive after 3 epochs: bpc ${loss.msg}; weights ${w.msg}`);
    expect(loss.max).toBeLessThan(1e-6);
    expect(w.max).toBeLessThan(1e-5);
  });
});

describe('eval on the paper weights', () => {
  it.skipIf(!REF_WEIGHTS)('imports sat_model.bin and gets eval bpc 0.0792 over all 1023 positions', () => {
    const w = parseWeightsFile(new Uint8Array(readFileSync(REF_WEIGHTS)));
    const bpc = evalBpc(w.params, 128, refBytes());
    expect(Math.abs(bpc - 0.079201)).toBeLessThan(1e-4 * 0.079201);
  });
});
