import { describe, expect, it } from 'vitest';
import { forwardStatesFast, forwardTraceFast } from '../../lib/analysis/forward-fast.ts';
import { forwardStatesNaive, forwardTraceNaive } from '../../lib/rnn/forward.ts';
import { paramCount, weightsFrom } from '../../lib/rnn/weights.ts';
import { maxDiff, randomBytes, randomFill } from '../rnn/helpers.ts';

/** Number of indices where a and b differ bit for bit. */
function differ(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (!Object.is(a[i], b[i])) n++;
  return n;
}

describe('the analyses\' forward pass (forward-fast)', () => {
  const H = 24;
  const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 7, 0.8), H);
  const xs = randomBytes(200, 8, 'abc de<>\n');

  for (const mode of ['wasm', 'js'] as const) {
    it(`gives forwardTraceNaive's states, log-probabilities and bits bit for bit (${mode === 'js' ? 'TOTAL_INTERP_DENSE=js: the JavaScript loops' : 'with the WebAssembly kernel when built'})`, () => {
      if (mode === 'js') process.env.TOTAL_INTERP_DENSE = 'js';
      try {
        const naive = forwardTraceNaive(w, xs, 1e-8);
        const fast = forwardTraceFast(w, xs, 1e-8);
        for (const k of ['z', 'S', 'logp', 'bits'] as const) expect(differ(fast[k], naive[k]), `${k}: ${maxDiff(fast[k], naive[k]).msg}`).toBe(0);
        const h0 = randomFill(new Float32Array(H), 9, 1);
        const s = forwardStatesFast(w, xs, h0);
        const n = forwardStatesNaive(w, xs, h0);
        expect(differ(s.S, n.S), maxDiff(s.S, n.S).msg).toBe(0);
      } finally {
        delete process.env.TOTAL_INTERP_DENSE;
      }
    });
  }
});
