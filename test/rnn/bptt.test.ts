import { describe, expect, it } from 'vitest';
import { chunkGradNaive } from '../../lib/rnn/bptt.ts';
import { blockedWork, chunkGradBlocked } from '../../lib/rnn/bptt-blocked.ts';
import { forwardStates, forwardTrace } from '../../lib/rnn/forward.ts';
import { paramCount, views, weightsFrom } from '../../lib/rnn/weights.ts';
import { maxDiff, randomBytes, randomFill } from './helpers.ts';

const FLOOR = 1e-8;

describe('naive chunk gradient (float64)', () => {
  it('matches central finite differences of the summed chunk loss, carried state held fixed', () => {
    const H = 3;
    const xs = randomBytes(14, 1, 'abcd');
    const params = randomFill(new Float64Array(paramCount(H)), 2, 0.8);
    const h0 = randomFill(new Float64Array(H), 3, 0.9); // a carried state: no gradient flows into it
    const start = 4;
    const L = 6;
    const g = new Float64Array(params.length);
    chunkGradNaive(g, Float64Array.from(h0), params, H, xs, start, L, FLOOR);
    const loss = (p: Float64Array) =>
      chunkGradNaive(new Float64Array(p.length), Float64Array.from(h0), p, H, xs, start, L, FLOOR);
    // Every weight of the recurrence (Wh, bh) and of the bytes read (their Wx columns, their
    // Wy rows and by entries), and every 11th of the rest (whose gradient is 0 in Wx and
    // spread thin by the softmax in Wy, by): 2 losses per weight checked.
    const gv = views(g, H);
    const at = (v: Float64Array) => v.byteOffset / 8;
    const read = new Set(xs);
    const checked: number[] = [];
    for (let i = 0; i < params.length; i++) {
      const inWx = i >= at(gv.Wx) && i < at(gv.Wx) + gv.Wx.length;
      const inWy = i >= at(gv.Wy) && i < at(gv.Wy) + gv.Wy.length;
      const inBy = i >= at(gv.by) && i < at(gv.by) + gv.by.length;
      const byte = inWx ? (i - at(gv.Wx)) % 256 : inWy ? Math.floor((i - at(gv.Wy)) / H) : inBy ? i - at(gv.by) : -1; // Wx (H, 256), Wy (256, H), by (256)
      if (byte < 0 || read.has(byte) || i % 11 === 0) checked.push(i);
    }
    const eps = 1e-5;
    const fd = new Float64Array(checked.length);
    for (const [k, i] of checked.entries()) {
      const keep = params[i];
      params[i] = keep + eps;
      const up = loss(params);
      params[i] = keep - eps;
      const down = loss(params);
      params[i] = keep;
      fd[k] = (up - down) / (2 * eps);
    }
    expect(checked.length).toBeGreaterThan(150);
    const d = maxDiff(Float64Array.from(checked, (i) => g[i]), fd);
    console.log(`BPTT gradient vs central differences: ${d.msg}`);
    expect(d.max).toBeLessThan(1e-7);
    // every block of the gradient is exercised (Wx only in the columns of bytes read)
    for (const name of ['Wx', 'Wh', 'bh', 'Wy', 'by'] as const) expect(gv[name].some((x) => Math.abs(x) > 1e-3)).toBe(true);
  });
});

describe('naive chunk kernel (float32)', () => {
  it('walks the data in chunks with the state carried, reproducing the shared forward pass exactly', () => {
    const H = 5;
    const xs = randomBytes(37, 4);
    const params = randomFill(new Float32Array(paramCount(H)), 5, 0.7);
    const w = weightsFrom(params, H);
    const { S } = forwardStates(w, xs);
    const tr = forwardTrace(w, xs);
    const h = new Float32Array(H);
    let loss = 0;
    for (let start = 0; start < xs.length - 1; start += 10) {
      const L = Math.min(10, xs.length - 1 - start);
      loss += chunkGradNaive(new Float32Array(params.length), h, params, H, xs, start, L, FLOOR);
      expect(Array.from(h)).toEqual(Array.from(S.subarray((start + L - 1) * H, (start + L) * H)));
    }
    let bits = 0;
    for (const b of tr.bits) bits += b;
    expect(loss / Math.LN2).toBeCloseTo(bits, 9);
  });
});

describe('blocked chunk kernel', () => {
  it('matches the naive twin on gradient, loss and carried state (chunk not a multiple of 4)', () => {
    const H = 8;
    const xs = randomBytes(40, 6);
    const params = randomFill(new Float32Array(paramCount(H)), 7, 0.6);
    const h0 = randomFill(new Float32Array(H), 8, 0.5);
    const start = 9;
    const L = 7;
    const gN = new Float32Array(params.length);
    const hN = Float32Array.from(h0);
    const lossN = chunkGradNaive(gN, hN, params, H, xs, start, L, FLOOR);
    const gB = new Float64Array(params.length);
    const hB = Float32Array.from(h0);
    const work = blockedWork(H, 12);
    const lossB = chunkGradBlocked(gB, hB, Float64Array.from(params), work, xs, start, L, FLOOR);
    // the same chunk again must not see stale padding from the first call
    const gB2 = new Float64Array(params.length);
    chunkGradBlocked(gB2, Float32Array.from(h0), Float64Array.from(params), work, xs, start, L, FLOOR);
    const d = maxDiff(gB, gN);
    console.log(`blocked vs naive gradient: ${d.msg}`);
    expect(d.max).toBeLessThan(2e-6);
    expect(Array.from(gB2)).toEqual(Array.from(gB));
    expect(Array.from(hB)).toEqual(Array.from(hN)); // same forward order: bit-identical states
    expect(Math.abs(lossB - lossN)).toBeLessThan(1e-9 * lossN);
  });
});
