// The held-out curve along training (docs/definitions.md §6.4): it reads the weights and
// nothing else, so the training is bit for bit the same with it; each point equals a
// separate float32 forward over the held-out text; and the convergence rule on curves
// whose answer is known.
import { describe, expect, it } from 'vitest';
import { CONVERGED_TOL, convergedOf, evalBpc, train, type TrainOptions } from '../../lib/rnn/train.ts';
import { forwardStates, readoutLogp, bitsOf, DEFAULT_FLOOR, TRACE_BLOCK } from '../../lib/rnn/forward.ts';
import { V, paramCount, weightsFrom } from '../../lib/rnn/weights.ts';
import { randomBytes, randomFill } from './helpers.ts';

const bits = (a: Float32Array | Float64Array) => Array.from(new Uint32Array(a.slice().buffer));

/** The held-out bpc written out from lib/rnn/forward.ts, without evalBpc. */
function forwardBpc(params: Float32Array, H: number, hs: Uint8Array): number {
  const w = weightsFrom(params, H);
  const { S } = forwardStates(w, hs);
  const logp = new Float64Array(V);
  let sum = 0;
  for (let t = 0; t + 1 < hs.length; t++) {
    readoutLogp(w, S, t * H, logp);
    sum += bitsOf(logp[hs[t + 1]], DEFAULT_FLOOR);
  }
  return sum / (hs.length - 1);
}

describe('held-out curve during training', () => {
  const xs = randomBytes(300, 1);
  const heldout = randomBytes(120, 2);
  const base: TrainOptions = { hidden: 16, epochs: 9, optimizer: 'sgd', init: 'glibc', seed: 42, bptt: 20, evalEvery: 4 };

  for (const backend of ['auto', 'ts', 'naive'] as const) {
    it(`leaves training bit for bit as it was (${backend} kernel): curve, best and final weights`, () => {
      const plain = train(xs, base, { backend, threads: 1 });
      const scored = train(xs, { ...base, heldout, heldoutEvery: 2 }, { backend, threads: 1 });
      expect(bits(scored.curveTrainBpc)).toEqual(bits(plain.curveTrainBpc));
      expect(bits(scored.params)).toEqual(bits(plain.params));
      expect(bits(scored.finalParams)).toEqual(bits(plain.finalParams));
      expect(scored.evalBpc).toEqual(plain.evalBpc);
      expect(plain.heldoutEpochs).toEqual([]);
      expect(plain.bestCheckpointHeldoutBpc).toBeNull();
      // epoch 0 (the init), every 2 epochs and the last
      expect(scored.heldoutEpochs).toEqual([0, 2, 4, 6, 8, 9]);
    }, 60_000);
  }

  it('scores each point as a separate forward pass over the held-out text does', () => {
    const r = train(xs, { ...base, heldout, heldoutEvery: 3 }, { backend: 'ts' });
    const H = base.hidden;
    // the last point is the final weights, the first the init; the checkpoint's figure is its own forward
    expect(r.heldoutBpc.at(-1)).toBe(forwardBpc(r.finalParams, H, heldout));
    const init = train(xs, { ...base, epochs: 1, heldout }, { backend: 'ts' });
    expect(r.heldoutBpc[0]).toBe(init.heldoutBpc[0]);
    expect(r.bestCheckpointHeldoutBpc).toBe(forwardBpc(r.params, H, heldout));
    expect(r.bestCheckpointHeldoutBpc).toBe(evalBpc(r.params, H, heldout));
    // training lowers held-out bpc on text from the same source
    expect(Math.min(...r.heldoutBpc)).toBeLessThan(r.heldoutBpc[0]);
  });

  it('evalBpc (the readout over blocks, in WebAssembly where built) equals the one-row loop bit for bit, over more than one block', () => {
    const H = 16;
    const params = randomFill(new Float32Array(paramCount(H)), 5, 0.8);
    for (const n of [2, 3, TRACE_BLOCK + 7]) {
      const hs = randomBytes(n, n);
      expect(evalBpc(params, H, hs)).toBe(forwardBpc(params, H, hs));
    }
  });

  it('ignores a held-out text shorter than 2 bytes (no prediction to score)', () => {
    const r = train(xs, { ...base, epochs: 2, heldout: new Uint8Array(1) }, { backend: 'ts' });
    expect(r.heldoutEpochs).toEqual([]);
    expect(r.bestCheckpointHeldoutBpc).toBeNull();
  });
});

describe('the convergence rule: best held-out bpc improved by less than 0.01 over the last quarter', () => {
  it('on synthetic curves', () => {
    const ep = [0, 25, 50, 75, 100];
    // plateau: the best at epoch ≤ 75 is 3.000, the overall best 2.995 → 0.005 < 0.01
    expect(convergedOf(ep, [8, 4, 3.2, 3.0, 2.995], 100)).toEqual({ converged: true, improvement: 3.0 - 2.995, cut: 75 });
    // still falling: 3.0 → 2.9 in the last quarter
    expect(convergedOf(ep, [8, 4, 3.2, 3.0, 2.9], 100).converged).toBe(false);
    // overfitting: held-out rises after its best at 25; nothing improves late → converged
    expect(convergedOf(ep, [8, 4, 4.5, 5, 6], 100)).toMatchObject({ converged: true, improvement: 0 });
    // E = 1: the last quarter is the one epoch after the init (cut 0)
    expect(convergedOf([0, 1], [1, 1 - 2 * CONVERGED_TOL], 1)).toMatchObject({ cut: 0, converged: false });
    expect(convergedOf([0, 1], [1, 1 - CONVERGED_TOL / 2], 1)).toMatchObject({ cut: 0, converged: true });
    // the cut is floor(3E/4): with E = 9, points at epochs ≤ 6 count as "before"
    expect(convergedOf([0, 6, 7, 9], [5, 3, 2, 2], 9)).toMatchObject({ cut: 6, converged: false });
    expect(convergedOf([0, 6, 7, 9], [5, 2.005, 2, 2], 9)).toMatchObject({ cut: 6, converged: true });
    // no curve: unknown
    expect(convergedOf([], [], 10).converged).toBeNull();
  });
});
