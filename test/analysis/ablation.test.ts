import { describe, expect, it } from 'vitest';
import { paperWeights } from '../helpers/reference.ts';
import { readFileSync } from 'node:fs';
import { V, paramCount, parseWeightsFile, weightsFrom, type Weights } from '../../lib/rnn/weights.ts';
import { bitsOf, forwardStates, forwardTrace, readoutLogp } from '../../lib/rnn/forward.ts';
import { ablation, ablationFast } from '../../lib/analysis/ablation.ts';
import { maxDiff, randomBytes, randomFill, refBytes } from '../rnn/helpers.ts';

/** The paper's weights (test/helpers/reference.ts), or null: the tests that need them skip. */
const PAPER = paperWeights();

function tiny(H: number, seed: number, amp: number, N = 40) {
  const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), seed, amp), H);
  const xs = randomBytes(N, seed + 1);
  return { w, xs, tr: forwardTrace(w, xs) };
}

/**
 * docs/definitions.md §5.1 ablation spelled out without hooks: for every (T, d) a fresh run — step s = T-d
 * as fround(Wh·S[s-1] + bh), then forwardStates on to T — and the bits of x_{T+1}.
 */
function ablationSpelledOut(w: Weights, xs: Uint8Array, S: Float32Array, logp: Float64Array, firstT: number, lastT: number, D: number, floor: number): Float64Array {
  const { H, Wh, bh } = w;
  const out = new Float64Array((lastT - firstT + 1) * D);
  const lp = new Float64Array(V);
  for (let T = firstT; T <= lastT; T++) {
    for (let d = 0; d < D; d++) {
      const s = T - d;
      const h0 = new Float32Array(H);
      for (let i = 0; i < H; i++) {
        let acc = 0;
        for (let j = 0; j < H; j++) acc += Wh[i * H + j] * (s > 0 ? S[(s - 1) * H + j] : 0);
        h0[i] = Math.tanh(Math.fround(acc + bh[i]));
      }
      const rest = forwardStates(w, xs.subarray(s + 1, T + 1), h0).S;
      const hT = d === 0 ? h0 : rest.subarray((d - 1) * H, d * H);
      readoutLogp(w, hT, 0, lp);
      out[(T - firstT) * D + d] = bitsOf(lp[xs[T + 1]], floor) - bitsOf(logp[T * V + xs[T + 1]], floor);
    }
  }
  return out;
}

describe('ablation (§5.1)', () => {
  it('on the hook forward equals a fresh re-run for every (T, d) on tiny models (odd and even H)', () => {
    for (const H of [5, 6]) {
      const { w, xs, tr } = tiny(H, 31, 1.2);
      const hooked = ablation(w, xs, tr.S, tr.lpNext, 10, 37, 8, 1e-8);
      const d = maxDiff(hooked, ablationSpelledOut(w, xs, tr.S, tr.logp, 10, 37, 8, 1e-8));
      expect(d.max, `H=${H}: ${d.msg}`).toBe(0);
      expect(hooked.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    }
  });

  it('the fast kernel (four runs in lock step) equals the hook forward bit for bit (odd and even H, ragged ends)', () => {
    for (const H of [5, 6]) {
      const { w, xs, tr } = tiny(H, 31, 1.2);
      for (const [firstT, lastT, D] of [[10, 37, 8], [7, 30, 8], [3, 36, 1]]) {
        const d = maxDiff(ablationFast(w, xs, tr.S, tr.lpNext, firstT, lastT, D, 1e-8), ablation(w, xs, tr.S, tr.lpNext, firstT, lastT, D, 1e-8));
        expect(d.max, `H=${H} T=${firstT}..${lastT} D=${D}: ${d.msg}`).toBe(0);
      }
    }
  });

  it.skipIf(!PAPER)('the fast kernel equals the hook forward on the paper weights (T = 50..56, all 50 offsets)', () => {
    const w = parseWeightsFile(new Uint8Array(readFileSync(PAPER!)));
    const xs = refBytes();
    const tr = forwardTrace(w, xs);
    const d = maxDiff(ablationFast(w, xs, tr.S, tr.lpNext, 50, 56, 50, 1e-8), ablation(w, xs, tr.S, tr.lpNext, 50, 56, 50, 1e-8));
    expect(d.max, d.msg).toBe(0);
  });

  it('changes nothing when the ablated byte has no input weights', () => {
    const { w, xs } = tiny(4, 41, 1);
    const b = xs[12];
    for (let j = 0; j < 4; j++) w.Wx[j * V + b] = 0;
    const tr = forwardTrace(w, xs);
    const D = 6;
    for (const out of [ablation(w, xs, tr.S, tr.lpNext, 10, 30, D, 1e-8), ablationFast(w, xs, tr.S, tr.lpNext, 10, 30, D, 1e-8)]) {
      let checked = 0;
      for (let T = 10; T <= 30; T++) {
        for (let d = 0; d < D; d++) {
          if (xs[T - d] !== b) continue;
          expect(out[(T - 10) * D + d]).toBe(0);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(0);
    }
  });
});
