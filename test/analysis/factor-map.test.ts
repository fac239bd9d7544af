import { describe, expect, it } from 'vitest';
import { REF_WEIGHTS, refBytes } from '../rnn/helpers.ts';
import { readFileSync } from 'node:fs';
import { V, paramCount, parseWeightsFile, weightsFrom } from '../../lib/rnn/weights.ts';
import { TRACE_BLOCK, bitsOf, forwardTrace, mean, readoutLogp } from '../../lib/rnn/forward.ts';
import { greedySkipgrams } from '../../lib/analysis/skipgrams.ts';
import {
  cellR2,
  cellR2Naive,
  denseIds,
  explainedPercent,
  explanationLadder,
  factorMap,
  inTag,
  pairGroups,
  pairsInOrder,
  readoutBpc,
  wordLength,
} from '../../lib/analysis/factor-map.ts';

function lcg(seed: number) {
  return () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

/**
 * A constructed signal over a 4-letter alphabet: neuron j is a fixed random function of the
 * bytes at its true state offsets deps[j] (an empty list: constant).
 */
function constructed(deps: number[][], N: number, seed: number) {
  const rnd = lcg(seed);
  const xs = Uint8Array.from({ length: N }, () => Math.floor(rnd() * 4));
  const H = deps.length;
  const tables = deps.map(() => Array.from({ length: 16 }, () => rnd() * 2 - 1));
  const S = new Float32Array(N * H);
  for (let t = Math.max(0, ...deps.flat()); t < N; t++) {
    deps.forEach((ds, j) => {
      let k = 0;
      for (const d of ds) k = k * 4 + xs[t - d];
      S[t * H + j] = ds.length ? tables[j][k] : 0.5;
    });
  }
  return { xs, S, H };
}

describe('factor map (§3.3 Table 1)', () => {
  it('enumerates the 28 pairs in list order, so (8,2) is a label', () => {
    const L = [1, 8, 20, 3, 27, 2, 12, 7];
    const pairs = pairsInOrder(8);
    expect(pairs.length).toBe(28);
    expect(pairs.slice(0, 2)).toEqual([[0, 1], [0, 2]]);
    expect(pairs.map(([a, b]) => `(${L[a]},${L[b]})`)).toContain('(8,2)');
    expect(pairs.map(([a, b]) => `(${L[a]},${L[b]})`)).not.toContain('(2,8)');
  });

  it('agrees with its naive twin on random cells', () => {
    const rnd = lcg(3);
    const H = 5;
    const P = 300;
    const keys = Array.from({ length: P }, () => Math.floor(rnd() * 12));
    const Sn = Float64Array.from({ length: H * P }, () => rnd() * 2 - 1);
    const { ids, nCells } = denseIds(keys);
    const fast = new Float64Array(H);
    cellR2(fast, Sn, ids, nCells, H, P);
    let maxDiff = 0;
    for (let j = 0; j < H; j++) {
      const naive = cellR2Naive([...Sn.subarray(j * P, (j + 1) * P)], keys.map(String));
      maxDiff = Math.max(maxDiff, Math.abs(fast[j] - naive));
    }
    expect(maxDiff, `max |fast - naive| = ${maxDiff}`).toBeLessThan(1e-12);
  });

  it('finds the true pair of a constructed signal', () => {
    const L = [1, 8, 2, 5]; // pairs: (1,8) (1,2) (1,5) (8,2) (8,5) (2,5)
    const deps = [[8, 2], [5, 1], [], [2], [2, 8]];
    const { xs, S, H } = constructed(deps, 3000, 11);
    const fm = factorMap(xs, S, H, L);
    expect(fm.m).toBe(8);
    expect(fm.P).toBe(3000 - 8);
    const label = (j: number) => fm.pairs[fm.best[j]].map((a) => L[a]);
    expect(label(0)).toEqual([8, 2]);
    expect(fm.bestR2[0]).toBeCloseTo(1, 12);
    expect(label(1)).toEqual([1, 5]); // labelled in list order
    expect(label(2)).toEqual([1, 8]); // constant: every R² is 0, ties to the first pair
    expect(fm.bestR2[2]).toBe(0);
    expect(label(3)).toEqual([1, 2]); // one offset: (1,2) (8,2) (2,5) tie at 1, the first wins
    expect(L[fm.bestSingle[3]]).toBe(2);
    expect(fm.bestSingleR2[3]).toBeCloseTo(1, 12);
    // the wrong pairs explain much less
    for (let q = 0; q < fm.pairs.length; q++) if (q !== fm.best[0]) expect(fm.r2[0 * fm.pairs.length + q]).toBeLessThan(0.9);
    const groups = pairGroups(fm);
    expect(groups[0]).toMatchObject({ pair: [8, 2], neurons: 2 });
    expect(groups.slice(1).map((g) => g.pair)).toEqual([[1, 8], [1, 2], [1, 5]]); // count ties: loop order
  });

  it('counts word length and in-tag as docs/definitions.md §3.3 says', () => {
    const xs = new Uint8Array(Buffer.from('ab cd\n<xyz>w\tq', 'latin1'));
    expect([...wordLength(xs, 3)]).toEqual([1, 2, 0, 1, 2, 0, 1, 2, 3, 3, 3, 3, 0, 1]);
    expect([...inTag(xs)]).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0]);
  });

  it('reproduces the readout exactly when every neuron is a cell function of (x_{t-1}, x_{t-d2})', () => {
    const L = [1, 8, 2, 5];
    const deps = [[1, 8], [1, 2], [1, 5], [1, 2]];
    const { xs, S, H } = constructed(deps, 2000, 5);
    const rnd = lcg(9);
    const w = weightsFrom(Float32Array.from({ length: paramCount(H) }, () => rnd() * 4 - 2), H);
    const fm = factorMap(xs, S, H, L);
    const lad = explanationLadder(w, xs, S, fm, 1, 15, 1e-10);
    expect([...lad.d2]).toEqual([8, 2, 5, 2]);
    const logp = new Float64Array(V);
    let sum = 0;
    for (let t = fm.m; t < xs.length - 1; t++) {
      readoutLogp(w, S, t * H, logp);
      sum += bitsOf(logp[xs[t + 1]], 1e-10);
    }
    const exact = sum / (xs.length - 1 - fm.m);
    expect(lad.nScore).toBe(xs.length - 1 - fm.m);
    for (const v of [lad.twoOffset, lad.wordLen, lad.inTag, lad.freeBestPair]) expect(v).toBeCloseTo(exact, 5);
  });

  it('readoutBpc (blocks of positions) equals the one-row readout over more than one block', () => {
    const H = 4;
    const rnd = lcg(3);
    const w = weightsFrom(Float32Array.from({ length: paramCount(H) }, () => rnd() - 0.5), H);
    const P = TRACE_BLOCK + 5;
    const xs = Uint8Array.from({ length: P + 3 }, () => Math.floor(rnd() * 256));
    const hs = Float64Array.from({ length: P * H }, () => rnd() * 2 - 1);
    const lp = new Float64Array(V);
    let sum = 0;
    for (let p = 0; p < P; p++) {
      readoutLogp(w, hs, p * H, lp);
      sum += bitsOf(lp[xs[1 + p + 1]], 1e-8);
    }
    expect(readoutBpc(w, hs, xs, 1, P, 1e-8)).toBe(sum / P);
  });

  it('computes X% of eq. 2', () => {
    expect(explainedPercent(8, 0.5)).toBe(0);
    expect(explainedPercent(0.5, 0.5)).toBe(100);
    expect(explainedPercent(4.25, 0.5)).toBe(50);
  });

  it.skipIf(!REF_WEIGHTS)('gives Table 1 and the ladder of the cross-check figures (docs/definitions.md §V) on the reference weights', () => {
    const xs = refBytes();
    const w = parseWeightsFile(new Uint8Array(readFileSync(REF_WEIGHTS)));
    const tr = forwardTrace(w, xs);
    const L = greedySkipgrams(xs, 30, 8)[7].offsets;
    const fm = factorMap(xs, tr.S, w.H, L);
    expect(fm.m).toBe(27);
    expect(mean(fm.bestR2)).toBeCloseTo(0.83693, 5);
    const top = pairGroups(fm).slice(0, 5);
    expect(top.map((g) => [g.pair, g.neurons])).toEqual([
      [[1, 7], 52],
      [[1, 8], 20],
      [[8, 2], 18],
      [[1, 12], 9],
      [[2, 7], 8],
    ]);
    const lad = explanationLadder(w, xs, tr.S, fm, 1, 15, 1e-10);
    expect(lad.nScore).toBe(996);
    expect(Math.abs(lad.wordLen / 0.499 - 1)).toBeLessThan(1e-4);
    expect(Math.abs(lad.inTag / 0.4298 - 1)).toBeLessThan(1e-4);
    // Level 1: docs/definitions.md §3.3's text fits cell means on t = 27..1023 and gives 0.85269; the cross-check's
    // 0.8529 is what a fit on the scored positions t = 27..1022 gives (0.85288).
    expect(Math.abs(lad.twoOffset / 0.8529 - 1)).toBeLessThan(5e-4);
    const fitScored = explanationLadder(w, xs, tr.S, fm, 1, 15, 1e-10, false);
    expect(Math.abs(fitScored.twoOffset / 0.8529 - 1)).toBeLessThan(1e-4);
  });
});
