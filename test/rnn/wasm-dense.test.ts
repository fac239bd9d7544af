import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { DENSE_EXPORTS, Mv4, denseArena, denseModule, denseUnavailableReason, forwardStatesDense } from '../../lib/rnn/wasm-dense.ts';
import {
  byteClasses, contextCodes, factorBlocks, factoredGd, factoredGrad, factoredLogits, gdWork, scoreScales, targetClasses, type Factored,
} from '../../lib/analysis/factored-readout.ts';
import { forwardStatesNaive, readoutLogits4, readoutLogp4 } from '../../lib/rnn/forward.ts';
import { paramCount, weightsFrom } from '../../lib/rnn/weights.ts';
import { maxDiff, randomBytes, randomFill } from './helpers.ts';

/** Run f with the WebAssembly kernels switched off (the JavaScript loops run). */
function withJs<T>(f: () => T): T {
  process.env.TOTAL_INTERP_DENSE = 'js';
  try {
    return f();
  } finally {
    delete process.env.TOTAL_INTERP_DENSE;
  }
}

/** Indices where a and b differ bit for bit (NaN equals NaN), first few printed by the caller. */
function bitDiffs(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (!Object.is(a[i], b[i])) out.push(i);
  return out;
}

describe.skipIf(!denseModule())('the analyses\' dense WebAssembly kernels (build/dense.wasm)', () => {
  afterEach(() => delete process.env.TOTAL_INTERP_DENSE);

  it('computes exp as Math.exp does, bit for bit (the f64x2 branch and the lanes it hands to Math.exp)', () => {
    const n = 1 << 20;
    const d = denseArena({ x: ['f64', n], e: ['f64', n] })!;
    const x = d.v.x;
    let s = 12345;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < n; i++) {
      const r = rnd();
      // mostly the softmax's arguments (≤ 0), some positive, small, huge and special
      x[i] = i % 7 === 0 ? (rnd() - 0.5) * 4 : i % 11 === 0 ? (rnd() - 0.5) * 1500 : -r * 60;
    }
    x.set([0, -0, 1, -1, 709.78, 709.79, -745.1, -745.2, -708, -707, 700, -700, NaN, Infinity, -Infinity, 1.5 * Math.LN2, -1.5 * Math.LN2, 0.5 * Math.LN2,
      -0.5 * Math.LN2, 2 ** -28, -(2 ** -28), 2 ** -29, -(2 ** -29), 5e-324, -5e-324, 1e-300, -708.5, -709, -709.7, 708.5, 709.7, 0.34657359027997264, 1.0397207708399179]);
    // the small arguments' branches (|x| < 1.5·ln2, < 0.5·ln2, < 2^-28) around their bounds, for exp2vAll
    for (let i = 0; i < 4096; i++) {
      const b = [0.34657359027997264, 1.0397207708399179, 2 ** -28, 0.5 * Math.LN2, 1.5 * Math.LN2][i % 5];
      const v = b * (1 + (rnd() - 0.5) * 2 ** -(10 + (i % 40)));
      x[100 + i] = i % 2 ? -v : v;
    }
    const bad: number[] = [];
    d.x.expTestAll(d.p.x, d.p.e, n);
    for (let i = 0; i < n; i++) if (!Object.is(d.v.e[i], Math.exp(x[i]))) bad.push(i);
    expect(bad.length, `exp2vAll, first: ${bad.slice(0, 3).map((i) => `exp(${x[i]}) = ${d.v.e[i]}, Math.exp ${Math.exp(x[i])}`).join('; ')}`).toBe(0);
    d.x.expTest(d.p.x, d.p.e, n);
    for (let i = 0; i < n; i++) if (!Object.is(d.v.e[i], Math.exp(x[i]))) bad.push(i);
    expect(bad.length, `first: ${bad.slice(0, 3).map((i) => `exp(${x[i]}) = ${d.v.e[i]}, Math.exp ${Math.exp(x[i])}`).join('; ')}`).toBe(0);
  });

  it('computes tanh as Math.tanh does, bit for bit (float32 arguments as the forward pass gives, and others)', () => {
    const { tanh } = denseArena({})!.x;
    let s = 4242;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const bad: number[] = [];
    const check = (x: number) => {
      if (!Object.is(tanh(x), Math.tanh(x))) bad.push(x);
    };
    for (let i = 0; i < 300000; i++) {
      u[0] = (rnd() * 2 ** 32) >>> 0; // any float32 bit pattern
      check(f[0]);
      check((rnd() - 0.5) * [1e-9, 1, 4, 50, 100][i % 5]);
    }
    for (const x of [0, -0, 1, -1, 22, -22, 21.99, 2 ** -28, 2 ** -29, 5e-324, 0.5 * Math.LN2, 1.5 * Math.LN2, 28 * Math.LN2, 0.25, -0.25, NaN, Infinity, -Infinity, 1e300]) check(x);
    expect(bad.length, `first: ${bad.slice(0, 3).map((x) => `tanh(${x}) = ${tanh(x)}, Math.tanh ${Math.tanh(x)}`).join('; ')}`).toBe(0);
  });

  it('computes exp one lane at a time as Math.exp does in every branch (|x| ≤ 0.5·ln2, ≤ 1.5·ln2, tiny, x = 1, deep underflow)', () => {
    const { expScalar } = denseArena({})!.x;
    let s = 777;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const bad: number[] = [];
    for (let i = 0; i < 400000; i++) {
      const r = rnd() - 0.5;
      // by |x|: below 2^-28, the k = 0 and k = ±1 branches, the general one, near the underflow
      const x = [r * 2 ** -27, r * Math.LN2, r * 3 * Math.LN2, r * 100, -708 - 1.8 * Math.abs(r), r * 1400][i % 6];
      if (!Object.is(expScalar(x), Math.exp(x))) bad.push(x);
    }
    for (const x of [0, -0, 1, -1, 2 ** -28, -(2 ** -28), 0.5 * Math.LN2, -0.5 * Math.LN2, 1.5 * Math.LN2, -1.5 * Math.LN2, 5e-324, NaN, Infinity, -Infinity, 709.78, -745.2]) {
      if (!Object.is(expScalar(x), Math.exp(x))) bad.push(x);
    }
    expect(bad.length, `first: ${bad.slice(0, 3).map((x) => `exp(${x}) = ${expScalar(x)}, Math.exp ${Math.exp(x)}`).join('; ')}`).toBe(0);
  });

  it('mv4 gives the naive sums over j in order, bit for bit (rows not a multiple of 4, with and without init)', () => {
    for (const [rows, n] of [[7, 5], [16, 16], [1, 3]]) {
      const M = randomFill(new Float64Array(rows * n), 1, 1);
      const v = randomFill(new Float64Array(4 * n + 3), 2, 1); // four vectors from offset 3
      const init = randomFill(new Float64Array(rows), 3, 1);
      for (const b of [init, null]) {
        const naive = new Float64Array(2 + 4 * 9 * rows);
        const fast = new Float64Array(naive.length);
        for (let c = 0; c < 4; c++) {
          for (let q = 0; q < rows; q++) {
            let a = b ? b[q] : 0;
            for (let j = 0; j < n; j++) a += M[q * n + j] * v[3 + c * n + j];
            naive[2 + c * 9 * rows + q] = a;
          }
        }
        Mv4.for(M, rows, n)!.run(v, 3, b, fast, 2, 9 * rows);
        const bad = bitDiffs(fast, naive);
        expect(bad, `first differing: ${bad.slice(0, 3).map((i) => `[${i}] ${fast[i]} vs ${naive[i]}`).join(', ')}; ${maxDiff(fast, naive).msg}`).toEqual([]);
      }
    }
  });

  it('readoutLogits4 and readoutLogp4 give the same bits with the kernel as with their loops', () => {
    for (const amp of [0.5, 8]) {
      // amp 8: logits far apart, so that some exp(l - max) underflow
      const w = weightsFrom(randomFill(new Float32Array(paramCount(16)), 4, amp), 16);
      const h = randomFill(new Float64Array(4 * 16), 5, 1);
      for (const f of [readoutLogits4, readoutLogp4]) {
        const fast = new Float64Array(4 * 256 + 1);
        f(w, Float64Array.from(w.Wy), h, fast, 1);
        const js = new Float64Array(fast.length);
        withJs(() => f(w, Float64Array.from(w.Wy), h, js, 1));
        const bad = bitDiffs(fast, js);
        expect(bad, `${f.name} amp ${amp}: ${maxDiff(fast, js).msg}`).toEqual([]);
      }
    }
  });

  it('factoredGrad, factoredLogits and scoreScales give the same bits as the JavaScript loops (odd K, block widths not multiples of 4, repeating rows and contexts)', () => {
    const T = 60;
    for (const [H, w, alphabet, K] of [[12, 6, 'abcdef', 7], [8, 4, 'abcdefg', 8], [10, 5, 'abc', 4]] as const) {
      const xs = randomBytes(T, 7, alphabet);
      // rows that repeat: each block holds one of five patterns (U = 5: the four-row blocks and a tail)
      const Hs = new Float64Array(T * H);
      const pats = randomFill(new Float64Array(5 * H), 8, 1);
      for (let t = 0; t < T; t++) for (let i = 0; i < H; i++) Hs[t * H + i] = pats[((t + Math.floor(i / w)) % 5) * H + i];
      const F: Factored = factorBlocks(Hs, T, H, w);
      const cls = byteClasses(xs);
      expect(cls.K).toBe(K); // the seen bytes and one class for the rest: odd and even K
      const y = targetClasses(xs, cls);
      const W = randomFill(new Float64Array(cls.K * H), 9, 0.5);
      const b = randomFill(new Float64Array(cls.K), 10, 0.5);
      const run = () => {
        const dW = new Float64Array(W.length);
        const db = new Float64Array(cls.K);
        const loss = factoredGrad(dW, db, F, W, b, cls, y, 3, T - 1, 1e-10, gdWork(F, cls.K));
        const L = new Float64Array((T - 5) * cls.K);
        factoredLogits(L, F, W, cls.K, 2, T - 3);
        const bpc = new Float64Array(3);
        scoreScales(bpc, L, b, cls, y, 2, T - 3, [0.5, 1, 1.7], 1e-3);
        // positions with the same rows in every block scored once per scale
        const ctx = contextCodes(F, 2, T - 3);
        const bpcCtx = new Float64Array(3);
        scoreScales(bpcCtx, L, b, cls, y, 2, T - 3, [0.5, 1, 1.7], 1e-3, ctx);
        return { dW, db, loss, L, bpc, bpcCtx, slots: ctx.slots };
      };
      expect(gdWork(F, cls.K).dense).not.toBeNull();
      const fast = run();
      const js = withJs(run);
      expect(withJs(() => gdWork(F, cls.K).dense)).toBeNull();
      expect(Object.is(fast.loss, js.loss), `loss ${fast.loss} vs ${js.loss}`).toBe(true);
      expect(fast.slots).toBe(5); // the rows repeat every five positions: contexts are shared
      for (const k of ['dW', 'db', 'L', 'bpc', 'bpcCtx'] as const) {
        const bad = bitDiffs(fast[k], js[k]);
        expect(bad, `${k} H=${H} w=${w}: ${maxDiff(fast[k], js[k]).msg}`).toEqual([]);
      }
    }
  });

  it('factoredGd gives the JavaScript loops\' weights, biases and losses bit for bit (steps kept in WebAssembly, a decay, odd K)', () => {
    const T = 70;
    const H = 12;
    const xs = randomBytes(T, 17, 'abcdef');
    const pats = randomFill(new Float64Array(5 * H), 18, 1);
    const Hs = new Float64Array(T * H);
    for (let t = 0; t < T; t++) for (let i = 0; i < H; i++) Hs[t * H + i] = pats[((t + Math.floor(i / 6)) % 5) * H + i];
    const F = factorBlocks(Hs, T, H, 6);
    const cls = byteClasses(xs);
    const y = targetClasses(xs, cls);
    const run = () => {
      const W = randomFill(new Float64Array(cls.K * H), 19, 0.5);
      const b = randomFill(new Float64Array(cls.K), 20, 0.5);
      const losses = factoredGd(F, W, b, cls, y, 2, T - 1, { steps: 9, lr: 0.7, decay: 0.3, decayAt: [4, 7] }, 1e-10);
      return { W, b, losses };
    };
    const fast = run();
    const js = withJs(run);
    for (const k of ['W', 'b', 'losses'] as const) {
      const bad = bitDiffs(fast[k], js[k]);
      expect(bad, `${k}: ${maxDiff(fast[k], js[k]).msg}`).toEqual([]);
    }
  });

  it('forwardStatesDense gives forwardStatesNaive\'s z and S bit for bit (H not a multiple of 16, saturating weights, a given S[-1])', () => {
    for (const [H, amp] of [[128, 0.3], [21, 2], [16, 0.05], [3, 1]] as const) {
      const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), H, amp), H);
      const xs = randomBytes(300, H + 1, 'abcdefgh <>\n');
      const h0 = randomFill(new Float32Array(H), H + 2, 1);
      for (const start of [undefined, h0]) {
        const naive = forwardStatesNaive(w, xs, start);
        const fast = forwardStatesDense(w, xs, start)!;
        for (const k of ['z', 'S'] as const) {
          const bad = bitDiffs(fast[k], naive[k]);
          expect(bad.length, `H=${H} ${k}: ${bad.length} differ, first at ${bad[0]}: ${fast[k][bad[0]]} vs ${naive[k][bad[0]]}; ${maxDiff(fast[k], naive[k]).msg}`).toBe(0);
        }
      }
    }
  });

  it('is switched off by TOTAL_INTERP_DENSE=js, and says why', () => {
    process.env.TOTAL_INTERP_DENSE = 'js';
    expect(denseModule()).toBeNull();
    expect(denseUnavailableReason()).toContain('TOTAL_INTERP_DENSE=js');
  });
});

describe('the dense module the loader accepts', () => {
  it('requires only kernels asm/dense.ts exports, so a current build is used and an older one (missing one of them) falls back to the JavaScript twins', () => {
    const src = readFileSync(new URL('../../asm/dense.ts', import.meta.url), 'utf8');
    const exported = new Set([...src.matchAll(/^export function (\w+)/gm)].map((m) => m[1]));
    expect(DENSE_EXPORTS.filter((n) => !exported.has(n))).toEqual([]);
  });
});
