import { describe, expect, it } from 'vitest';
import { carrier, patternSensitive } from '../../lib/analysis/carrier.ts';
import { inTag, wordLength } from '../../lib/analysis/factor-map.ts';
import {
  cellMeans, cellsOf, patternTable, prefixFeatures, seenBytes, substituted, substitutedNaive, tableAccuracy, timingRow,
} from '../../lib/analysis/timing-carrier.ts';
import { featureLayout, writeFeatureUnits } from '../../lib/analysis/rebuild.ts';
import { forwardTrace } from '../../lib/rnn/forward.ts';
import { V, weightsFrom, paramCount, zeroWeights, type Weights } from '../../lib/rnn/weights.ts';
import { randomBytes, randomFill } from '../rnn/helpers.ts';

const TEXT = new TextEncoder().encode('<page> <title>An example</title>\n\t<id>12345678901234567890</id> a bb ccc <x y="z">w</x> supercalifragilistic ok');

function randomModel(H: number, seed: number, amp = 0.8): Weights {
  return weightsFrom(randomFill(new Float32Array(paramCount(H)), seed, amp), H);
}

/** A model whose every carrier is a function of word_len[t-1]: thermometer units plus readers of them. */
function wordLengthModel(cap: number, readers: number, seed: number): Weights {
  const H = cap + readers;
  const w = zeroWeights(H);
  writeFeatureUnits(w, featureLayout({ set: 'wl', features: { wl: { cap } } }), 20);
  const r = randomModel(H, seed);
  for (let u = cap; u < H; u++) {
    for (let k = 0; k < cap; k++) w.Wh[u * H + k] = r.Wh[u * H + k];
    w.bh[u] = r.bh[u];
    for (let v = 0; v < V; v++) w.Wx[u * V + v] = r.Wx[u * V + v];
  }
  w.Wy.set(r.Wy);
  w.by.set(r.by);
  return w;
}

describe('timing-carrier kernels (docs/definitions.md §6.1)', () => {
  it('prefix features are word_len, in_tag and the bytes of t-1, t-2 (−1 before the data)', () => {
    const f = prefixFeatures(TEXT, 15);
    const wl = wordLength(TEXT, 15);
    const tag = inTag(TEXT);
    expect([f.wl[0], f.tag[0], f.x1[0], f.x2[0], f.x2[1]]).toEqual([-1, -1, -1, -1, -1]);
    for (let t = 1; t < TEXT.length; t++) {
      expect([f.wl[t], f.tag[t], f.x1[t]]).toEqual([wl[t - 1], tag[t - 1], TEXT[t - 1]]);
      if (t >= 2) expect(f.x2[t]).toBe(TEXT[t - 2]);
    }
  });

  it('t = 0 is its own cell and `none` has exactly one more', () => {
    const f = prefixFeatures(TEXT, 15);
    const c = cellsOf(f, 'none', TEXT.length - 1);
    expect(c.nCells).toBe(2);
    expect(c.ids[0]).toBe(0);
    expect(new Set(c.ids.subarray(1))).toEqual(new Set([1]));
  });

  it('a model whose carrier is a function of word length gets carrier R² = 1 from wl, and less from none', () => {
    const w = wordLengthModel(15, 6, 7);
    const tr = forwardTrace(w, TEXT);
    const c = carrier(w, tr.S, TEXT.length);
    const f = prefixFeatures(TEXT, 15);
    const wl = timingRow(w, TEXT, tr.S, c, f, 'wl', 1e-8);
    const none = timingRow(w, TEXT, tr.S, c, f, 'none', 1e-8);
    expect(wl.carrierR2).toBeGreaterThan(1 - 1e-12);
    expect(wl.signAgreement).toBe(1);
    expect(none.carrierR2).toBeLessThan(0.9);
    // in-sample substitution of exact carriers gives the model's own bpc
    let bits = 0;
    for (let t = 0; t + 1 < TEXT.length; t++) bits += tr.bits[t];
    expect(Math.abs(wl.bpc - bits / (TEXT.length - 1))).toBeLessThan(1e-5);
  });

  it('the memoised substituted readout equals its naive twin, with and without a mask', () => {
    const xs = randomBytes(300, 3, 'ab cd<e>f ');
    const w = randomModel(12, 11);
    const tr = forwardTrace(w, xs);
    const c = carrier(w, tr.S, xs.length);
    const P = xs.length - 1;
    const cells = cellsOf(prefixFeatures(xs, 15), 'wl+tag', P);
    const odd = new Uint8Array(P).map((_, t) => t % 2);
    for (const mask of [undefined, odd]) {
      const { chat } = cellMeans(c, w.H, cells, P, mask ? odd.map((v) => 1 - v) : undefined);
      const fast = substituted(w, xs, tr.S, chat, cells.ids, P, 1e-8, mask);
      const slow = substitutedNaive(w, xs, tr.S, chat, cells.ids, P, 1e-8, mask);
      expect(Math.abs(fast.bpc - slow.bpc)).toBeLessThan(1e-12);
      expect(fast.signAgreement).toBe(slow.signAgreement);
    }
  });

  it('a held-out cell with no fitted position takes the mean carrier of the fitted positions', () => {
    const H = 2;
    const c = Float64Array.from([1, 10, 2, 20, 3, 30, 5, 50]); // 4 positions
    const cells = { ids: Int32Array.from([0, 1, 0, 2]), nCells: 3, first: Int32Array.from([0, 1, 3]) };
    const fit = Uint8Array.from([1, 0, 1, 0]);
    const { chat, count } = cellMeans(c, H, cells, 4, fit);
    expect([...count]).toEqual([2, 0, 0]);
    expect([...chat]).toEqual([2, 20, 2, 20, 2, 20]);
  });
});

describe('pattern-table kernels (docs/definitions.md §6.2)', () => {
  it('the on-set is {v seen : ĉ + Wx[j][v] ≥ 0}, PS counts add up, accuracy matches a brute-force count', () => {
    const xs = randomBytes(400, 5, 'abc <d>e\n');
    const w = randomModel(10, 21, 1.5);
    const tr = forwardTrace(w, xs);
    const c = carrier(w, tr.S, xs.length);
    const ps = patternSensitive(w, c);
    const P = xs.length - 1;
    const cells = cellsOf(prefixFeatures(xs, 15), 'wl+tag', P);
    const { chat } = cellMeans(c, w.H, cells, P);
    const seen = seenBytes(xs);
    expect(seen.map((v) => String.fromCharCode(v)).join('')).toBe('\n <>abcde');
    for (let j = 0; j < w.H; j++) {
      const rows = patternTable(w, seen, chat, cells, ps, j, P);
      expect(rows.reduce((s, r) => s + r.positions, 0)).toBe(P);
      let psj = 0;
      for (let t = 0; t < P; t++) psj += ps[t * w.H + j];
      expect(rows.reduce((s, r) => s + r.ps, 0)).toBe(psj);
      rows.forEach((r, k) => {
        for (const v of seen) expect(r.on.includes(v)).toBe(chat[k * w.H + j] + w.Wx[j * V + v] >= 0);
      });
    }
    const acc = tableAccuracy(w, xs, tr.S, chat, cells.ids, P);
    for (let j = 0; j < w.H; j++) {
      let n = 0;
      for (let t = 0; t < P; t++) n += Math.sign(chat[cells.ids[t] * w.H + j] + w.Wx[j * V + xs[t]] || 1) === Math.sign(tr.S[t * w.H + j] || 1) ? 1 : 0;
      expect(acc[j]).toBeCloseTo(n / P, 12);
    }
  });
});
