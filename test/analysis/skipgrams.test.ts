import { describe, expect, it } from 'vitest';
import { refBytes } from '../rnn/helpers.ts';
import { greedySkipgrams, skipgramScore, skipgramScoreNaive } from '../../lib/analysis/skipgrams.ts';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

describe('skip-gram counting (§3.4)', () => {
  it('matches a conditional entropy worked out by hand', () => {
    // "abacad", offsets [1]: t = 1..5 gives a→b, b→a, a→c, c→a, a→d (M = 5).
    // Context a is followed by b, c, d once each: H = 3 · (1/5) · log2 3; b and c are certain.
    const s = skipgramScore(bytes('abacad'), [1]);
    expect(s.bpc).toBeCloseTo(0.6 * Math.log2(3), 12);
    expect(s.patterns).toBe(5);
    expect(s.contexts).toBe(3);
    // "abcabd", offsets [1]: a→b twice, b→c, b→d, c→a: H = (2/5)·1 (context b splits 1:1)
    expect(skipgramScore(bytes('abcabd'), [1])).toEqual({ offsets: [1], bpc: 0.4, patterns: 4, contexts: 3 });
    // offsets [2]: t = 2..5 gives a→c, b→a, c→b, a→d: H = (2/4)·1
    expect(skipgramScore(bytes('abcabd'), [2]).bpc).toBeCloseTo(0.5, 12);
    // offsets [1, 3]: t = 3..5, contexts (c,a), (a,b), (b,c) all distinct: H = 0
    expect(skipgramScore(bytes('abcabd'), [1, 3])).toEqual({ offsets: [1, 3], bpc: 0, patterns: 3, contexts: 3 });
  });

  it('adds the offset with the strictly lowest entropy', () => {
    // from [1] (H = 0.4): [1,2] gives 0.5, [1,3] gives 0 -> 3
    const path = greedySkipgrams(bytes('abcabd'), 3, 2);
    expect(path.map((s) => s.offsets)).toEqual([[1], [1, 3]]);
  });

  it('breaks ties toward the smaller offset', () => {
    // a period-2 sequence: every offset list has H = 0, so the greedy walks 2, 3, 4
    const path = greedySkipgrams(bytes('ab'.repeat(20)), 10, 4);
    expect(path.map((s) => s.bpc)).toEqual([0, 0, 0, 0]);
    expect(path[3].offsets).toEqual([1, 2, 3, 4]);
  });

  it('agrees with its naive twin on random data and offsets', () => {
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const xs = Uint8Array.from({ length: 400 }, () => Math.floor(rnd() * rnd() * 20));
    let maxDiff = 0;
    for (let trial = 0; trial < 30; trial++) {
      const k = 1 + Math.floor(rnd() * 5);
      const offsets = [...new Set(Array.from({ length: k }, () => 1 + Math.floor(rnd() * 30)))];
      const fast = skipgramScore(xs, offsets);
      const naive = skipgramScoreNaive(xs, offsets);
      maxDiff = Math.max(maxDiff, Math.abs(fast.bpc - naive.bpc));
      expect([fast.patterns, fast.contexts], `offsets ${offsets}`).toEqual([naive.patterns, naive.contexts]);
    }
    expect(maxDiff, `max |fast - naive| = ${maxDiff}`).toBeLessThan(1e-12);
  });

  it('finds the the cross-check figures (docs/definitions.md §V) greedy path on the reference data', () => {
    const xs = refBytes();
    const g = greedySkipgrams(xs, 30, 8);
    expect(g.map((s) => s.offsets.length)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(g[7].offsets).toEqual([1, 8, 20, 3, 27, 2, 12, 7]);
    expect(g[0].bpc).toBeCloseTo(2.04687, 5);
    expect(g[3].bpc).toBeCloseTo(0.069273, 6);
    expect(g[3].patterns).toBe(712);
    expect(g[7].bpc).toBeCloseTo(0.042937, 6);
    expect(g[7].patterns).toBe(834);
  });
});
