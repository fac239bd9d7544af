import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { paramCount, parseWeightsFile, weightsFrom, zeroWeights } from '../../lib/rnn/weights.ts';
import { forwardTrace } from '../../lib/rnn/forward.ts';
import { decisiveDepth, reachFractions, reachesNaive } from '../../lib/analysis/decisive-chains.ts';
import { REF_WEIGHTS, randomBytes, randomFill, refBytes } from '../rnn/helpers.ts';

describe('decisive chains (§5.1)', () => {
  it('follows decisive terms back by hand', () => {
    // H = 2, Wh[j][k]: unit 0 leans on itself, unit 1 on itself; z and S given directly
    const w = zeroWeights(2);
    w.Wh.set([1, 0.1, 0.1, 1]);
    const S = Float32Array.from([1, 1, /**/ 0.5, 0.5, /**/ 0, 0]);
    const z = Float32Array.from([0, 0, /**/ 0.5, 2, /**/ 0.2, -0.01]);
    // t=1: (1,0): 0.5 - 1·1 < 0 flips (k=0); 0.5 - 0.1 does not. (1,1): 2 - 0.1, 2 - 1 stay > 0
    // t=2: (2,0): 0.2 - 1·0.5 < 0 flips (k=0) -> 1 + depth(1,0) = 2. (2,1): -0.01 - 0.05, -0.01 - 0.5 stay < 0
    expect([...decisiveDepth(w, z, S, 3)]).toEqual([0, 0, 1, 0, 2, 0]);
  });

  it('memoized depth agrees with the naive path search on a random tiny model', () => {
    const H = 4;
    const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 71, 0.3), H);
    randomFill(w.Wh, 72, 1.5); // strong recurrent terms, weak input: single terms often decide
    const xs = randomBytes(30, 73);
    const tr = forwardTrace(w, xs);
    const depth = decisiveDepth(w, tr.z, tr.S, xs.length);
    let bad = 0;
    for (let t = 0; t < xs.length; t++) {
      for (let j = 0; j < H; j++) {
        for (let d = 1; d <= 8; d++) if (reachesNaive(w, tr.z, tr.S, t, j, d) !== depth[t * H + j] >= d) bad++;
      }
    }
    expect(bad).toBe(0);
    expect(Math.max(...depth)).toBeGreaterThanOrEqual(3); // chains exist: the test is not vacuous
  });

  it.skipIf(!REF_WEIGHTS)('memoized depth (with its |z| > max |Wh| skip) agrees with the naive path search on the paper weights', () => {
    const w = parseWeightsFile(new Uint8Array(readFileSync(REF_WEIGHTS)));
    const xs = refBytes().subarray(0, 90);
    const tr = forwardTrace(w, xs);
    const depth = decisiveDepth(w, tr.z, tr.S, xs.length);
    let bad = 0;
    let reached = 0;
    for (let t = 0; t < xs.length; t++) {
      for (let j = 0; j < w.H; j++) {
        for (let d = 1; d <= 3; d++) {
          const r = reachesNaive(w, tr.z, tr.S, t, j, d);
          if (r) reached++;
          if (r !== depth[t * w.H + j] >= d) bad++;
        }
      }
    }
    expect(bad).toBe(0);
    expect(reached).toBeGreaterThan(0);
  });

  it('reports the fraction of nodes reaching each depth', () => {
    const depth = Int32Array.from([9, 9, /**/ 0, 1, /**/ 3, 2]); // (N, H) = (3, 2); nodes t = 1..2
    expect(reachFractions(depth, 2, 1, 2, 4)).toEqual([0.75, 0.5, 0.25, 0]);
  });
});
