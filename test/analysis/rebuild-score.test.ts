import { describe, expect, it } from 'vitest';
import {
  distinctReadout, klBits, meanBits, readoutLogpAll, readoutLogpAllNaive, reverseRows, reverseStatesOn, rnnRows, rnnRowsCarried, scoreOnBlocks, scoreOnText, signAgreement, traceRows, worthBits,
} from '../../lib/analysis/rebuild-score.ts';
import { forwardTrace, readoutLogpRows } from '../../lib/rnn/forward.ts';
import { paramCount, weightsFrom } from '../../lib/rnn/weights.ts';
import { reverseHidden } from '../../lib/analysis/reverse-iso.ts';
import { naiveBits } from '../../lib/analysis/factored-readout.ts';
import { V } from '../../lib/rnn/weights.ts';
import { randomBytes, randomFill } from '../rnn/helpers.ts';

describe('rebuild scores (docs/definitions.md §6.3)', () => {
  it('kl_train is 0 for the same distributions and Σ p (log2 p − log2 q) otherwise', () => {
    const T = 3;
    const a = new Float64Array(T * V).fill(Math.log(1 / V));
    expect(klBits(a, a, 0, T)).toBe(0);
    // p puts 1/2 on byte 0 and 1/2 on byte 1; q is uniform: KL = 1·log2(0.5·256) = 7 bits
    const p = new Float64Array(T * V).fill(-Infinity);
    for (let t = 0; t < T; t++) p[t * V] = p[t * V + 1] = Math.log(0.5);
    expect(klBits(p, a, 0, T)).toBeCloseTo(7, 12);
  });

  it('sign agreement counts only mapped units, sign(0) = +1', () => {
    const SR = Float64Array.from([1, -1, 0, /* t1 */ -1, -1, 2]);
    const ST = Float64Array.from([5, 0, /* t1 */ 3, -2]);
    // rebuilt unit 0 ↔ model unit 1, unit 2 ↔ model unit 0, unit 1 unmapped
    // t0: sign(1) vs sign(0)=+ ✓, sign(0)=+ vs sign(5) ✓; t1: sign(-1) vs sign(-2) ✓, sign(2) vs sign(3) ✓
    expect(signAgreement(SR, 3, ST, 2, [1, -1, 0], 2)).toBe(1);
    expect(signAgreement(SR, 3, ST, 2, [0, -1, 1], 2)).toBe(0.5);
    expect(signAgreement(SR, 3, ST, 2, [-1, -1, -1], 2)).toBeNull();
  });

  it('the §4.2 states on the training text itself are reverse-iso\'s own (naive twin: reverseHidden)', () => {
    const xs = randomBytes(400, 5, 'the cat <sat> on a mat\n');
    const spec = { offsets: [1, 3, 7], bytesPerOffset: 4, clip: 3, smoothing: 0.001 };
    expect([...reverseStatesOn(xs, xs, spec)]).toEqual([...reverseHidden(xs, spec).Hs]);
    // on other text: the tables stay the training text's, rows before the largest offset are 0
    const other = randomBytes(50, 6, 'a mat sat');
    const Hs = reverseStatesOn(xs, other, spec);
    expect([...Hs.subarray(0, 7 * 12)].every((v) => v === 0)).toBe(true);
    expect(Hs.some((v) => v !== 0)).toBe(true);
  });

  it('readout log-probabilities give the bits of the naive readout', () => {
    const T = 30, H = 6;
    const xs = randomBytes(T, 8, 'abc d');
    const Hs = randomFill(new Float64Array(T * H), 2, 1);
    const Wy = randomFill(new Float64Array(V * H), 3, 1);
    const by = randomFill(new Float64Array(V), 4, 1);
    const naive = naiveBits(Hs, H, Wy, by, xs, 0, T - 1, 1e-8);
    expect(meanBits(readoutLogpAll(Hs, T, H, Wy, by), xs, 1e-8)).toBeCloseTo(naive.reduce((a, b) => a + b, 0) / (T - 1), 12);
    // four rows at a time (the WebAssembly kernel when built) and one at a time: the same bits
    const [fast, slow] = [readoutLogpAll(Hs, T, H, Wy, by), readoutLogpAllNaive(Hs, T, H, Wy, by)];
    const differ = [...fast.keys()].filter((i) => !Object.is(fast[i], slow[i]));
    expect(differ.length, `first at ${differ[0]}: ${fast[differ[0]]} vs ${slow[differ[0]]}`).toBe(0);
  });

  it('worth_bits: 0 only when a reference has both no more bits and no higher bpc', () => {
    const refs = [{ bits: 100, bpc: 1 }, { bits: 50, bpc: null }];
    expect(worthBits({ bits: 200, bpc: 2 }, refs)).toBe(0);
    expect(worthBits({ bits: 100, bpc: 1 }, refs)).toBe(0); // ties count against it
    expect(worthBits({ bits: 99, bpc: 5 }, refs)).toBe(1);
    expect(worthBits({ bits: 1e6, bpc: 0.5 }, refs)).toBe(1);
    expect(worthBits({ bits: 60, bpc: 9 }, [{ bits: 50, bpc: null }])).toBe(1); // a reference without an in-sample bpc does not count
  });

  it('reads out with each distinct Wy row and by once, with readoutLogpRows\' bits (rows shared by the unseen bytes, T not a multiple of 4, float32 and float64 states, more rows than one call of the kernel takes)', () => {
    const H = 10;
    const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 41, 0.6), H);
    // bytes 60..255 share one row and bias, as a rebuilt model's unseen bytes do; 7 and 9 another
    for (let o = 60; o < V; o++) {
      w.Wy.set(w.Wy.subarray(59 * H, 60 * H), o * H);
      w.by[o] = w.by[59];
    }
    w.Wy.set(w.Wy.subarray(7 * H, 8 * H), 9 * H);
    w.by[9] = w.by[7];
    for (const [T, Arr] of [[23, Float32Array], [301, Float32Array], [23, Float64Array]] as const) {
      const S = Arr.from(randomFill(new Float32Array(T * H), 42, 1));
      const want = new Float64Array(T * V);
      readoutLogpRows(w, S, T, want);
      const got = new Float64Array(T * V);
      distinctReadout(w)(S, T, got);
      const bad = [...got.keys()].filter((i) => !Object.is(got[i], want[i]));
      expect(bad.length, `T = ${T}: first differing value ${bad[0]}: ${got[bad[0]]} vs ${want[bad[0]]}`).toBe(0);
    }
  });

  it('scores in blocks as the whole-text arrays do, bit for bit: bits, kl_train, sign_train', () => {
    const H = 8;
    const xs = randomBytes(203, 8, 'the cat <sat> on a mat\n');
    const wT = weightsFrom(randomFill(new Float32Array(paramCount(H)), 31, 0.6), H);
    const wR = weightsFrom(randomFill(new Float32Array(paramCount(H)), 32, 0.6), H);
    const tT = forwardTrace(wT, xs, 1e-8);
    const tR = forwardTrace(wR, xs, 1e-8);
    const spec = { offsets: [1, 3, 7], bytesPerOffset: 4, clip: 3, smoothing: 0.001 };
    const Wy = randomFill(new Float64Array(V * 12), 33, 0.3);
    const by = randomFill(new Float64Array(V), 34, 0.3);
    const riLogp = readoutLogpAll(reverseStatesOn(xs, xs, spec), xs.length, 12, Wy, by);
    const map = [3, -1, 0, 7, -1, -1, 2, 1];
    const P = xs.length - 1;
    for (const block of [8, 12, 60, 4096]) {
      const ref = { src: traceRows(tT, wT), H };
      const [r, t, ri] = scoreOnText([rnnRows(wR, xs), traceRows(tT, wT), reverseRows(xs, xs, spec, 12, Wy, by)], xs, 1e-8, ref, [map, [...Array(H).keys()], null], [H, H, 12], block);
      expect(Array.from(r.bits), `block ${block}`).toEqual(Array.from(tR.bits));
      expect(r.kl).toBe(klBits(tT.logp, tR.logp, 0, P));
      expect(r.sign).toBe(signAgreement(tR.S, H, tT.S, H, map, P));
      expect(t.kl).toBe(0);
      expect(t.sign).toBe(1);
      expect(meanBits(riLogp, xs, 1e-8)).toBe(ri.bits.reduce((a, b) => a + b, 0) / P);
      expect(ri.kl).toBe(klBits(tT.logp, riLogp, 0, P));
      expect(ri.sign).toBeNull();
    }
  });

  it('scores on blocks of positions as the whole-text arrays give them there: bits, kl_train, sign_train', () => {
    const H = 8;
    const xs = randomBytes(203, 9, 'the cat <sat> on a mat\n');
    const wT = weightsFrom(randomFill(new Float32Array(paramCount(H)), 41, 0.6), H);
    const wR = weightsFrom(randomFill(new Float32Array(paramCount(H)), 42, 0.6), H);
    const tT = forwardTrace(wT, xs, 1e-8);
    const tR = forwardTrace(wR, xs, 1e-8);
    const spec = { offsets: [1, 3, 7], bytesPerOffset: 4, clip: 3, smoothing: 0.001 };
    const Wy = randomFill(new Float64Array(V * 12), 43, 0.3);
    const by = randomFill(new Float64Array(V), 44, 0.3);
    const riLogp = readoutLogpAll(reverseStatesOn(xs, xs, spec), xs.length, 12, Wy, by);
    const map = [3, -1, 0, 7, -1, -1, 2, 1];
    const blocks: [number, number][] = [[0, 9], [37, 53], [120, 122], [190, 201]];
    const pos = blocks.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i));
    const ref = { src: traceRows(tT, wT), H };
    const [r, t, ri] = scoreOnBlocks([rnnRowsCarried(wR, xs), traceRows(tT, wT), reverseRows(xs, xs, spec, 12, Wy, by)], xs, 1e-8, ref, [map, [...Array(H).keys()], null], [H, H, 12], blocks);
    const close = (a: number, b: number, what: string) => expect(Math.abs(a - b), `${what}: ${a} vs ${b}`).toBeLessThan(1e-12);
    expect(r.bits.length).toBe(pos.length);
    pos.forEach((p, i) => close(r.bits[i], tR.bits[p], `bits at t = ${p}`));
    const klAt = (lq: Float64Array) => pos.reduce((s, p) => s + klBits(tT.logp, lq, p, p + 1), 0) / pos.length;
    close(r.kl!, klAt(tR.logp), 'kl');
    const units = map.flatMap((j, u) => (j >= 0 ? [u] : []));
    const agree = pos.reduce((s, p) => s + units.filter((u) => (tR.S[p * H + u] >= 0) === (tT.S[p * H + map[u]] >= 0)).length, 0);
    expect(r.sign).toBe(agree / (pos.length * units.length));
    expect(t.kl).toBe(0);
    expect(t.sign).toBe(1);
    pos.forEach((p, i) => close(ri.bits[i], -Math.max(riLogp[p * V + xs[p + 1]], Math.log(1e-8)) / Math.LN2, `§4.2 bits at t = ${p}`));
    close(ri.kl!, klAt(riLogp), '§4.2 kl');
  });
});
