import { describe, expect, it } from 'vitest';
import { maxDiff, randomBytes, refBytes } from '../rnn/helpers.ts';
import { IdTable, knDistribution, knNaiveBpc, knNaiveProb, knScore, knTrain } from '../../lib/analysis/kn.ts';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

describe('byte-level interpolated Kneser–Ney (docs/definitions.md §6.5)', () => {
  it('matches held-out probabilities worked out by hand on a two-letter text', () => {
    // Train "abab" (N = 4): count(a) = count(b) = 2, so P_0(a) = P_0(b) = 2.5/132.
    // Order 1: after a comes b twice (c(a) = 2, τ(a) = 1); after b comes a once (c(b) = 1, τ(b) = 1).
    // Order 2: "ab" → a once, "ba" → b once.
    // Held out "abb": t = 0 predicts b after "a"; t = 1 predicts b after "ab" (order 2) / "b" (order 1).
    const D = 0.8;
    const m = knTrain(bytes('abab'), 2);
    const pBa = (2 - D) / 2 + ((D * 1) / 2) * (2.5 / 132); // P_1(b | a) = 0.6 + 1/132
    const pBb = 0 + ((D * 1) / 1) * (2.5 / 132); // P_1(b | b) = 2/132: b never followed b
    const pBab = 0 + ((D * 1) / 1) * pBb; // P_2(b | ab) = 1.6/132: "ab" was followed by a only
    expect(pBa).toBeCloseTo(0.6 + 1 / 132, 15);
    expect(pBab).toBeCloseTo(1.6 / 132, 15);
    const s = knScore(m, bytes('abb'), D);
    expect(s.positions).toBe(2);
    expect(s.bpc[0]).toBeCloseTo(-Math.log2(2.5 / 132), 12);
    expect(s.bpc[1]).toBeCloseTo((-Math.log2(pBa) - Math.log2(pBb)) / 2, 12);
    // t = 0 has one byte of context, so order 2 uses order 1 there
    expect(s.bpc[2]).toBeCloseTo((-Math.log2(pBa) - Math.log2(pBab)) / 2, 12);
    // an unseen context passes the lower order through: "c" never occurred
    expect(knDistribution(m, bytes('c'), 1, D)[0x61]).toBeCloseTo(2.5 / 132, 15);
    expect(m.contextsPerOrder).toEqual([2, 2]);
    expect(m.patternsPerOrder).toEqual([2, 2]);
  });

  it('agrees with the naive twin (the definition evaluated by rescanning) to 1e-12, orders 1..6', () => {
    for (const [seed, D] of [[1, 0.8], [2, 0.5], [3, 1]] as const) {
      const xs = randomBytes(300, seed, 'abc d');
      const hs = randomBytes(60, seed + 10, 'abc de');
      const m = knTrain(xs, 6);
      const fast = knScore(m, hs, D);
      const naive = [0, 1, 2, 3, 4, 5, 6].map((k) => knNaiveBpc(xs, hs, k, D));
      const d = maxDiff(fast.bpc, naive);
      expect(d.max, d.msg).toBeLessThan(1e-12);
      // and single probabilities, at contexts seen and unseen
      for (const ctx of ['ab', 'c d', 'aaaaaaa', 'e', '']) {
        const dist = knDistribution(m, bytes(ctx), 4, D);
        for (const y of [0x61, 0x20, 0x65, 0x7a]) expect(Math.abs(dist[y] - knNaiveProb(xs, bytes(ctx), y, 4, D))).toBeLessThan(1e-12);
      }
    }
  });

  it('agrees with the naive twin on enwik9 text (the shipped 1024 bytes, held out from their second half)', () => {
    const ref = refBytes();
    const xs = ref.subarray(0, 700);
    const hs = ref.subarray(700, 800);
    const fast = knScore(knTrain(xs, 4), hs, 0.8);
    const naive = [0, 1, 2, 3, 4].map((k) => knNaiveBpc(xs, hs, k, 0.8));
    const d = maxDiff(fast.bpc, naive);
    expect(d.max, d.msg).toBeLessThan(1e-12);
  });

  it('gives a distribution over the 256 byte values that sums to 1 in every context', () => {
    const xs = refBytes();
    const m = knTrain(xs, 6);
    for (const ctx of ['', 'e', 'th', '<page>', 'mediaw', 'zzzzzz', 'xmlns=']) {
      for (const k of [1, 3, 6]) {
        const dist = knDistribution(m, bytes(ctx), k, 0.8);
        let sum = 0;
        for (const p of dist) {
          expect(p).toBeGreaterThan(0);
          sum += p;
        }
        expect(Math.abs(sum - 1)).toBeLessThan(1e-12);
      }
    }
  });

  it('a longer context helps on repetitive text and the held-out bpc falls from order 0', () => {
    const text = bytes('the cat sat on the mat. '.repeat(40));
    const s = knScore(knTrain(text.subarray(0, 600), 6), text.subarray(600), 0.8);
    expect(s.bpc[1]).toBeLessThan(s.bpc[0]);
    expect(s.bpc[6]).toBeLessThan(s.bpc[1]);
    expect(s.bpc[6]).toBeLessThan(0.5);
  });

  it('IdTable gives dense ids in order of insertion, finds them after growing, and knows absent keys', () => {
    const t = new IdTable(4);
    const keys = Array.from({ length: 5000 }, (_, i) => (i * 2654435761) % 2 ** 52);
    keys.forEach((k, i) => expect(t.findOrAdd(k)).toBe(i));
    expect(t.size).toBe(5000);
    keys.forEach((k, i) => expect(t.find(k)).toBe(i));
    expect(t.findOrAdd(keys[17])).toBe(17);
    expect(t.find(2 ** 52 + 1)).toBe(-1);
    expect(t.size).toBe(5000);
  });
});
