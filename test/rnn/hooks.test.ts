import { describe, expect, it } from 'vitest';
import { paperWeights } from '../helpers/reference.ts';
import { readFileSync } from 'node:fs';
import { V, paramCount, parseWeightsFile, weightsFrom, type Weights } from '../../lib/rnn/weights.ts';
import { forwardStates, forwardTrace } from '../../lib/rnn/forward.ts';
import { HOOK_POINTS, ablate, patch, runWithHooks, type Hook } from '../../lib/rnn/hooks.ts';
import { maxDiff, randomBytes, randomFill } from './helpers.ts';

/** The paper's weights (test/helpers/reference.ts), or null: the tests that need them skip. */
const PAPER = paperWeights();

function tiny(H: number, seed: number, N = 40, amp = 1): { w: Weights; xs: Uint8Array } {
  return { w: weightsFrom(randomFill(new Float32Array(paramCount(H)), seed, amp), H), xs: randomBytes(N, seed + 1) };
}

/** Bitwise equality of two arrays, with the first difference in the message. */
function expectSame(a: ArrayLike<number>, b: ArrayLike<number>, what: string) {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) expect.fail(`${what}: first difference at ${i}: ${a[i]} vs ${b[i]} (${maxDiff(a, b).msg})`);
  }
}

describe('hook forward with no hooks', () => {
  it('equals forwardStates bit for bit, from zero and from a given h0 (odd and even H)', () => {
    for (const H of [5, 8]) {
      const { w, xs } = tiny(H, 3 + H);
      const a = runWithHooks(w, xs);
      const b = forwardStates(w, xs);
      expectSame(a.z, b.z, `H=${H} z`);
      expectSame(a.S, b.S, `H=${H} S`);
      expect(a.logp).toBeNull();
      const h0 = randomFill(new Float32Array(H), 9, 0.9);
      expectSame(runWithHooks(w, xs, { h0 }).S, forwardStates(w, xs, h0).S, `H=${H} S from h0`);
    }
  });

  it('gives the trace log-probabilities bit for bit with readout on', () => {
    const { w, xs } = tiny(6, 21);
    expectSame(runWithHooks(w, xs, { readout: true }).logp!, forwardTrace(w, xs).logp, 'logp');
  });

  it.skipIf(!PAPER)('equals forwardStates on the paper weights', () => {
    const w = parseWeightsFile(new Uint8Array(readFileSync(PAPER!)));
    const xs = randomBytes(200, 5, 'the quick brown fox <page> </title>\n');
    const a = runWithHooks(w, xs, { readout: true });
    const tr = forwardTrace(w, xs);
    expectSame(a.S, tr.S, 'S');
    expectSame(a.z, tr.z, 'z');
    expectSame(a.logp!, tr.logp, 'logp');
  });
});

describe('hook points', () => {
  it('change nothing when every point is read at every step, and record what the forward pass computes', () => {
    const H = 5;
    const { w, xs } = tiny(H, 31);
    const seen: Record<string, number> = {};
    const hooks: Hook[] = HOOK_POINTS.map((point) => ({ point, fn: () => void (seen[point] = (seen[point] ?? 0) + 1) }));
    const run = runWithHooks(w, xs, { hooks, readout: true, cache: HOOK_POINTS });
    const tr = forwardTrace(w, xs);
    expectSame(run.z, tr.z, 'z');
    expectSame(run.S, tr.S, 'S');
    expectSame(run.logp!, tr.logp, 'logp');
    for (const p of HOOK_POINTS) expect(seen[p], p).toBe(xs.length);
    const { cache } = run;
    expectSame(Float32Array.from(cache.S!), tr.S, 'cached S');
    expectSame(cache.readout!, cache.S!, 'cached readout');
    expectSame(cache.logp!, tr.logp, 'cached logp');
    // carrier = Wh·S[t-1] + bh (float64), input = Wx[:, x_t], z = fround(input + carrier) up to the sum order
    let worst = 0;
    for (let t = 0; t < xs.length; t++) {
      for (let i = 0; i < H; i++) {
        let c = w.bh[i];
        for (let j = 0; j < H; j++) c += w.Wh[i * H + j] * (t > 0 ? tr.S[(t - 1) * H + j] : 0);
        worst = Math.max(worst, Math.abs(cache.carrier![t * H + i] - c));
        expect(cache.input![t * H + i]).toBe(w.Wx[i * V + xs[t]]);
        expect(Math.abs(cache.z![t * H + i] - (cache.input![t * H + i] + cache.carrier![t * H + i]))).toBeLessThan(1e-6);
      }
    }
    expect(worst).toBeLessThan(1e-12);
  });

  it('ablates the input term of one step: z = fround(Wh·S + bh) there, and the change runs on', () => {
    const H = 6;
    const { w, xs } = tiny(H, 41);
    const s = 17;
    const tr = forwardTrace(w, xs);
    const run = runWithHooks(w, xs, { hooks: [ablate('input', { steps: [s] })] });
    expectSame(run.S.subarray(0, s * H), tr.S.subarray(0, s * H), 'S before s');
    for (let i = 0; i < H; i++) {
      let a = 0;
      for (let j = 0; j < H; j++) a += w.Wh[i * H + j] * tr.S[(s - 1) * H + j];
      expect(run.z[s * H + i]).toBe(Math.fround(a + w.bh[i]));
    }
    // the following step reads the ablated state
    const after = forwardStates(w, xs.subarray(s + 1), run.S.subarray(s * H, (s + 1) * H));
    expectSame(run.S.subarray((s + 1) * H), after.S, 'S after s');
    expect(maxDiff(run.S, tr.S).max).toBeGreaterThan(1e-3);
  });

  it('sums z from a replaced carrier as fround(Wx[x_t] + c)', () => {
    const H = 4;
    const { w, xs } = tiny(H, 51);
    const run = runWithHooks(w, xs, { hooks: [{ point: 'carrier', steps: [3], fn: (c) => { c[2] = 0.25; } }] });
    expect(run.z[3 * H + 2]).toBe(Math.fround(w.Wx[2 * V + xs[3]] + 0.25));
  });

  it('feeds a replaced S forward, but not a replaced readout', () => {
    const H = 5;
    const { w, xs } = tiny(H, 61);
    const tr = forwardTrace(w, xs);
    const r = runWithHooks(w, xs, { readout: true, hooks: [ablate('readout', { steps: [10], units: [0, 3] })] });
    expectSame(r.S, tr.S, 'S under a readout hook');
    expect(maxDiff(r.logp!.subarray(10 * V, 11 * V), tr.logp.subarray(10 * V, 11 * V)).max).toBeGreaterThan(0);
    expectSame(r.logp!.subarray(11 * V), tr.logp.subarray(11 * V), 'logp after the hooked step');
    const s = runWithHooks(w, xs, { hooks: [ablate('S', { steps: [10], units: [0, 3] })] });
    expect(s.S[10 * H + 0]).toBe(0);
    expect(s.S[10 * H + 1]).toBe(tr.S[10 * H + 1]);
    expect(maxDiff(s.S.subarray(11 * H), tr.S.subarray(11 * H)).max).toBeGreaterThan(0);
  });

  it('runs a hook only at its steps, numbered from t0, and rounds written states to float32', () => {
    const H = 3;
    const { w, xs } = tiny(H, 71);
    const at: number[] = [];
    runWithHooks(w, xs.subarray(0, 10), { t0: 100, hooks: [{ point: 'z', steps: [99, 102, 105, 110], fn: (_, step) => void at.push(step.t) }] });
    expect(at).toEqual([102, 105]);
    const odd: number[] = [];
    runWithHooks(w, xs.subarray(0, 6), { hooks: [{ point: 'logp', steps: (t) => t % 2 === 1, fn: (_, step) => void odd.push(step.t) }] });
    expect(odd).toEqual([1, 3, 5]);
    const r = runWithHooks(w, xs, { hooks: [{ point: 'S', steps: [4], fn: (v) => { v[1] = 0.1; } }] });
    expect(r.S[4 * H + 1]).toBe(Math.fround(0.1));
  });

  it('patches a point from another run: every state of run B patched into run A gives B', () => {
    const H = 5;
    const { w, xs } = tiny(H, 81);
    const other = randomBytes(xs.length, 82);
    const b = forwardTrace(w, other);
    const r = runWithHooks(w, xs, { readout: true, hooks: [patch('S', b.S)] });
    expectSame(r.S, b.S, 'S');
    // logits read the patched state; unit subset leaves the rest alone
    expectSame(r.logp!, b.logp, 'logp');
    const one = runWithHooks(w, xs, { hooks: [patch('S', b.S, { steps: [7], units: [2] })] });
    expect(one.S[7 * H + 2]).toBe(b.S[7 * H + 2]);
  });

  it('refuses an unknown point or a wrong-sized h0', () => {
    const { w, xs } = tiny(3, 91);
    expect(() => runWithHooks(w, xs, { hooks: [{ point: 'h' as never, fn: () => {} }] })).toThrow(/unknown hook point "h".*valid: input, carrier/);
    expect(() => runWithHooks(w, xs, { h0: new Float32Array(4) })).toThrow(/h0 has 4 values, expected H = 3/);
  });
});
