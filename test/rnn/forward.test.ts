// The blocked forward kernels against their naive twins: bit for bit, for H not a multiple
// of 4, for T not a multiple of 4, from a given h0, and on the paper's weights.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { paramCount, parseWeightsFile, weightsFrom, type Weights } from '../../lib/rnn/weights.ts';
import { forwardStates, forwardStatesNaive, forwardTrace, forwardTraceNaive } from '../../lib/rnn/forward.ts';
import { PAPER_DATA, PAPER_WEIGHTS, maxDiff, randomBytes, randomFill } from './helpers.ts';

function tiny(H: number, seed: number, N: number): { w: Weights; xs: Uint8Array } {
  return { w: weightsFrom(randomFill(new Float32Array(paramCount(H)), seed, 1), H), xs: randomBytes(N, seed + 1) };
}

function expectSame(a: ArrayLike<number>, b: ArrayLike<number>, what: string) {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) expect.fail(`${what}: first difference at ${i}: ${a[i]} vs ${b[i]} (${maxDiff(a, b).msg})`);
  }
}

describe('forward kernels', () => {
  it('forwardStates (four rows of Wh at a time) equals its naive twin bit for bit (H = 1, 5, 8, 13)', () => {
    for (const H of [1, 5, 8, 13]) {
      const { w, xs } = tiny(H, 10 + H, 37);
      const a = forwardStates(w, xs);
      const b = forwardStatesNaive(w, xs);
      expectSame(a.z, b.z, `H=${H} z`);
      expectSame(a.S, b.S, `H=${H} S`);
      const h0 = randomFill(new Float32Array(H), 99, 0.9);
      expectSame(forwardStates(w, xs, h0).S, forwardStatesNaive(w, xs, h0).S, `H=${H} S from h0`);
    }
  });

  it('forwardTrace (four rows × two outputs of the readout at a time) equals its naive twin bit for bit (T = 0, 1, 3, 4, 38)', () => {
    for (const N of [0, 1, 3, 4, 38]) {
      const { w, xs } = tiny(6, 3 + N, N);
      const a = forwardTrace(w, xs);
      const b = forwardTraceNaive(w, xs);
      expectSame(a.logp, b.logp, `N=${N} logp`);
      expectSame(a.bits, b.bits, `N=${N} bits`);
      expectSame(a.S, b.S, `N=${N} S`);
    }
  });

  it.skipIf(!PAPER_WEIGHTS || !PAPER_DATA || !existsSync(PAPER_DATA))('equals its naive twin on the paper weights and bytes', () => {
    const w = parseWeightsFile(new Uint8Array(readFileSync(PAPER_WEIGHTS!)));
    const xs = new Uint8Array(readFileSync(PAPER_DATA!)).subarray(0, 203);
    const a = forwardTrace(w, xs);
    const b = forwardTraceNaive(w, xs);
    expectSame(a.z, b.z, 'z');
    expectSame(a.logp, b.logp, 'logp');
  });
});
