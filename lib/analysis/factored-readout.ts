// Paper §4 (docs/definitions.md §4.1, §4.2): the readout kernels shared by both weight constructions.
//
// Both constructions fix a hidden trajectory h_t (the shift register's float32 states in
// §4.1, the log-likelihood-ratio features in §4.2) and then only score or train the
// softmax readout
//   p(x_{t+1} = o | h_t) = softmax(Wy·h_t + by)[o]
// with the cross-entropy gradient d logit = softmax - onehot. Two exact reductions make
// this cheap without changing the mathematics:
//
// 1. Block factorisation of the trajectory. The H columns split into G blocks of width w
//    (H = G·w) and, in both constructions, the rows of a block repeat: block g of h_t is
//    a function of one earlier byte. `factorBlocks` finds the distinct rows R_g (U_g, w)
//    by exact deduplication and an index idx_g[t], so that
//      h_t[g·w + j] = R_g[idx_g[t]][j].
//    Logits become table look-ups: with tab_g = R_g · Wy_gᵀ (U_g, K),
//      Wy·h_t = Σ_g tab_g[idx_g[t]],
//    and the gradient is a scatter-add followed by a small product:
//      A_g[u] = Σ_{t: idx_g[t] = u} d_t,   dWy_g = A_gᵀ · R_g.
//    Nothing is assumed: if the rows did not repeat (U_g = T) this costs as much as the
//    plain matrix products.
// 2. Output classes. Bytes that never occur in the data have the same by, the same
//    initial (or analytic) Wy row and are never a target, so their rows stay equal
//    through every step. They form one class of multiplicity m; every other byte is its
//    own class. Softmax over classes: lse = log Σ_k m_k exp(l_k); each member of class k
//    has probability exp(l_k - lse) and gets that per-member gradient.
//
// Everything here is float64. Each fast kernel has a naive twin on the full (T, H)
// trajectory and all 256 outputs (`naive*`), compared in test/analysis. The gradient
// scatters once per context (positions reading the same rows in every block share p): each
// context adds n·p to A, which starts at minus the onehots' scatter (exact counts); the
// naive twins sum position by position, so the two agree to rounding (tested to 1e-12).
// The table fill, the softmax and scatter, the dW product and factoredGd's steps run in
// WebAssembly SIMD (asm/dense.ts) when build/dense.wasm is there: the same operations in
// the same order, so the same bits as the loops here, which are the fallback.

import { V } from '../rnn/weights.ts';
import { bitsOf } from '../rnn/forward.ts';
import { denseArena, type DenseExports } from '../rnn/wasm-dense.ts';

// ---------------------------------------------------------------- block factorisation

export interface Factored {
  /** rows (positions) and columns of the trajectory; H = G·w */
  T: number;
  H: number;
  w: number;
  G: number;
  /** (G, T): idx[g*T + t] = id of the distinct row block g has at position t */
  idx: Int32Array;
  /** per block g, (U_g, w): rows[g][u*w + j] */
  rows: Float64Array[];
}

/**
 * Factor a (T, H) trajectory Hs[t*H + i] into G = H / w blocks of distinct rows (exact).
 * Rows are equal when their values are, element by element, as their decimal text would
 * say (0 and -0 are one value, NaN equals NaN): factorBlocksNaive keys rows by that text.
 * Here a row is hashed from the bits of its values (-0 as 0, every NaN as one) into an
 * open-addressed table of row ids and compared value by value with the rows already in its
 * probe sequence, which finds the same ids in the same order (ids go to rows in order of
 * first appearance, whatever the hash) without building a string per row.
 */
export function factorBlocks(Hs: Float32Array | Float64Array, T: number, H: number, w: number): Factored {
  if (H % w !== 0) throw new Error(`factorBlocks: H = ${H} is not a multiple of the block width ${w}`);
  if (Hs.length !== T * H) throw new Error(`factorBlocks: trajectory has ${Hs.length} values, expected T·H = ${T}·${H}`);
  const G = H / w;
  const idx = new Int32Array(G * T);
  const rows: Float64Array[] = [];
  const first = new Int32Array(T); // position where distinct row u was first seen
  let size = 16;
  while (size < 2 * T) size *= 2;
  const table = new Int32Array(size); // 1 + the id of the row hashed there, 0: empty
  const hash = Hs instanceof Float64Array ? rowHash64(Hs) : rowHash32(Hs);
  for (let g = 0; g < G; g++) {
    table.fill(0);
    let U = 0;
    for (let t = 0; t < T; t++) {
      const o = t * H + g * w;
      let s = hash(o, w) & (size - 1);
      let u = -1;
      for (;;) {
        const e = table[s];
        if (e === 0) {
          u = U++;
          first[u] = t;
          table[s] = u + 1;
          break;
        }
        const p = first[e - 1] * H + g * w;
        let same = true;
        for (let j = 0; j < w && same; j++) {
          const a = Hs[o + j];
          const b = Hs[p + j];
          same = a === b || (a !== a && b !== b);
        }
        if (same) {
          u = e - 1;
          break;
        }
        s = (s + 1) & (size - 1);
      }
      idx[g * T + t] = u;
    }
    const R = new Float64Array(U * w);
    for (let u = 0; u < U; u++) for (let j = 0; j < w; j++) R[u * w + j] = Hs[first[u] * H + g * w + j];
    rows.push(R);
  }
  return { T, H, w, G, idx, rows };
}

/** FNV-1a over the bits of Hs[o..o+w-1] (-0 as 0, NaN as one value), finished so that the low bits mix. */
function rowHash32(Hs: Float32Array): (o: number, w: number) => number {
  const bits = new Int32Array(Hs.buffer, Hs.byteOffset, Hs.length);
  return (o, w) => {
    let h = 0x811c9dc5 | 0;
    for (let j = 0; j < w; j++) {
      const v = Hs[o + j];
      h = Math.imul(h ^ (v === 0 ? 0 : v !== v ? 0x7fc00000 : bits[o + j]), 0x01000193);
    }
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    return h ^ (h >>> 12);
  };
}

/** rowHash32 for float64 values: both words of each value. */
function rowHash64(Hs: Float64Array): (o: number, w: number) => number {
  const bits = new Int32Array(Hs.buffer, Hs.byteOffset, 2 * Hs.length);
  return (o, w) => {
    let h = 0x811c9dc5 | 0;
    for (let j = 0; j < w; j++) {
      const v = Hs[o + j];
      const z = v === 0 || v !== v;
      h = Math.imul(h ^ (z ? 0 : bits[2 * (o + j)]), 0x01000193);
      h = Math.imul(h ^ (v === 0 ? 0 : v !== v ? 0x7ff80000 : bits[2 * (o + j) + 1]), 0x01000193);
    }
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    return h ^ (h >>> 12);
  };
}

/** Naive twin of factorBlocks: rows keyed by their text. */
export function factorBlocksNaive(Hs: Float32Array | Float64Array, T: number, H: number, w: number): Factored {
  const G = H / w;
  const idx = new Int32Array(G * T);
  const rows: Float64Array[] = [];
  for (let g = 0; g < G; g++) {
    const seen = new Map<string, number>();
    const distinct: number[] = [];
    for (let t = 0; t < T; t++) {
      const row = Hs.subarray(t * H + g * w, t * H + g * w + w);
      const key = row.join(',');
      let u = seen.get(key);
      if (u === undefined) {
        u = seen.size;
        seen.set(key, u);
        for (let j = 0; j < w; j++) distinct.push(row[j]);
      }
      idx[g * T + t] = u;
    }
    rows.push(Float64Array.from(distinct));
  }
  return { T, H, w, G, idx, rows };
}

// ---------------------------------------------------------------- output classes

export interface Classes {
  K: number;
  /** (V): class of byte o */
  of: Int32Array;
  /** (K): a member byte of class k (its Wy row and by stand for the class) */
  rep: Int32Array;
  /** (K): number of bytes in class k */
  mult: Float64Array;
}

/** Every byte occurring in xs is its own class (in byte order); the others share one. */
export function byteClasses(xs: Uint8Array): Classes {
  const present = new Uint8Array(V);
  for (let t = 0; t < xs.length; t++) present[xs[t]] = 1;
  const of = new Int32Array(V);
  const rep: number[] = [];
  const mult: number[] = [];
  let absent = -1;
  for (let o = 0; o < V; o++) {
    if (present[o]) {
      of[o] = rep.length;
      rep.push(o);
      mult.push(1);
    } else {
      if (absent < 0) {
        absent = rep.length;
        rep.push(o);
        mult.push(0);
      }
      of[o] = absent;
      mult[absent]++;
    }
  }
  return { K: rep.length, of, rep: Int32Array.from(rep), mult: Float64Array.from(mult) };
}

/** Class rows of a (V, H) matrix: out[k*H + i] = M[rep_k*H + i]. */
export function toClasses(M: ArrayLike<number>, H: number, cls: Classes): Float64Array {
  const out = new Float64Array(cls.K * H);
  for (let k = 0; k < cls.K; k++) for (let i = 0; i < H; i++) out[k * H + i] = M[cls.rep[k] * H + i];
  return out;
}

/** Back to all bytes: out[o*H + i] = C[of_o*H + i]. */
export function fromClasses(C: ArrayLike<number>, H: number, cls: Classes): Float64Array {
  const out = new Float64Array(V * H);
  for (let o = 0; o < V; o++) for (let i = 0; i < H; i++) out[o * H + i] = C[cls.of[o] * H + i];
  return out;
}

/** Target classes: y[t] = class of x_{t+1} for t = 0..N-2 (y[N-1] = -1). */
export function targetClasses(xs: Uint8Array, cls: Classes): Int32Array {
  const y = new Int32Array(xs.length).fill(-1);
  for (let t = 0; t + 1 < xs.length; t++) y[t] = cls.of[xs[t + 1]];
  return y;
}

/**
 * Positions t0..t1-1 that read the same row in every block have the same logits: code[t] =
 * 2·slot + 1 at the first position of each such group (slots numbered in order) and 2·slot
 * at the others; `slots` groups in all. The WebAssembly kernels compute a group's softmax
 * once and reuse it (the same bits); code is 0 outside t0..t1-1.
 */
export function contextCodes(F: Factored, t0: number, t1: number): { code: Int32Array; slots: number } {
  const { T, G, idx } = F;
  const code = new Int32Array(T);
  const seen = new Map<string, number>();
  const key = new Array<number>(G);
  for (let t = t0; t < t1; t++) {
    for (let g = 0; g < G; g++) key[g] = idx[g * T + t];
    const k = key.join(',');
    const s = seen.get(k);
    if (s === undefined) {
      code[t] = 2 * seen.size + 1;
      seen.set(k, seen.size);
    } else code[t] = 2 * s;
  }
  return { code, slots: seen.size };
}

// ---------------------------------------------------------------- logits

/**
 * Flat look-up tables for a class readout with K outputs. All blocks share one buffer:
 *   tab[base[g] + u*K + k]   row u of block g's table, class k   (base[g] = Σ_{g'<g} U_g'·K)
 *   off[t*G + g] = base[g] + idx[g*T + t]*K   where position t reads block g's table
 */
export interface Tables {
  K: number;
  tab: Float64Array;
  base: Int32Array;
  off: Int32Array;
}

export function tablesFor(F: Factored, K: number): Tables {
  const { T, G, w, idx } = F;
  const base = new Int32Array(G);
  let n = 0;
  for (let g = 0; g < G; g++) {
    base[g] = n;
    n += (F.rows[g].length / w) * K;
  }
  const off = new Int32Array(T * G);
  for (let t = 0; t < T; t++) for (let g = 0; g < G; g++) off[t * G + g] = base[g] + idx[g * T + t] * K;
  return { K, tab: new Float64Array(n), base, off };
}

/**
 * tab[base[g] + u*K + k] = Σ_j R_g[u*w + j] · W[k*H + g*w + j]   (W is (K, H)).
 * Wt (H, K) is scratch for Wᵀ, so that the inner loop runs along k.
 */
export function fillTables(tb: Tables, F: Factored, W: Float64Array, Wt: Float64Array = new Float64Array(W.length)): void {
  const { H, w, G } = F;
  const { K, tab, base } = tb;
  for (let k = 0; k < K; k++) for (let i = 0; i < H; i++) Wt[i * K + k] = W[k * H + i];
  tab.fill(0);
  for (let g = 0; g < G; g++) {
    const R = F.rows[g];
    const U = R.length / w;
    for (let u = 0; u < U; u++) {
      const to = base[g] + u * K;
      const ro = u * w;
      let j = 0;
      for (; j + 4 <= w; j += 4) {
        // four columns at once: one store of tab per four multiply-adds
        const r0 = R[ro + j], r1 = R[ro + j + 1], r2 = R[ro + j + 2], r3 = R[ro + j + 3];
        const w0 = (g * w + j) * K, w1 = w0 + K, w2 = w1 + K, w3 = w2 + K;
        for (let k = 0; k < K; k++) tab[to + k] += r0 * Wt[w0 + k] + r1 * Wt[w1 + k] + r2 * Wt[w2 + k] + r3 * Wt[w3 + k];
      }
      for (; j < w; j++) {
        const r = R[ro + j];
        const wo = (g * w + j) * K;
        for (let k = 0; k < K; k++) tab[to + k] += r * Wt[wo + k];
      }
    }
  }
}

/** l[k] = b[k] + Σ_g tab[off[t*G + g] + k]   (b may be null: no bias) */
function gatherRow(l: Float64Array, tab: Float64Array, off: Int32Array, t: number, G: number, K: number, b: Float64Array | null): void {
  const o = t * G;
  if (b === null) l.fill(0, 0, K);
  else for (let k = 0; k < K; k++) l[k] = b[k];
  let g = 0;
  for (; g + 4 <= G; g += 4) {
    const a0 = off[o + g], a1 = off[o + g + 1], a2 = off[o + g + 2], a3 = off[o + g + 3];
    for (let k = 0; k < K; k++) l[k] += tab[a0 + k] + tab[a1 + k] + tab[a2 + k] + tab[a3 + k];
  }
  for (; g < G; g++) {
    const a0 = off[o + g];
    for (let k = 0; k < K; k++) l[k] += tab[a0 + k];
  }
}

/** A[off[t*G + g] + k] += d[k] for every block g (the transpose of gatherRow) */
function scatterRow(A: Float64Array, d: Float64Array, off: Int32Array, t: number, G: number, K: number): void {
  const o = t * G;
  let g = 0;
  for (; g + 4 <= G; g += 4) {
    const a0 = off[o + g], a1 = off[o + g + 1], a2 = off[o + g + 2], a3 = off[o + g + 3];
    for (let k = 0; k < K; k++) {
      const v = d[k];
      A[a0 + k] += v;
      A[a1 + k] += v;
      A[a2 + k] += v;
      A[a3 + k] += v;
    }
  }
  for (; g < G; g++) {
    const a0 = off[o + g];
    for (let k = 0; k < K; k++) A[a0 + k] += d[k];
  }
}

/**
 * Class logits without bias for positions t0..t1-1:
 *   L[(t - t0)*K + k] = Σ_i W[k*H + i] · h_t[i]       (W is (K, H), L is (t1 - t0, K))
 */
export function factoredLogits(L: Float64Array, F: Factored, W: Float64Array, K: number, t0: number, t1: number): void {
  const tb = tablesFor(F, K);
  const d = denseFor(F, tb, t1 - t0, 0);
  if (d) {
    transposeInto(d.v.Wt, W, K, F.H);
    d.x.fillTables(d.p.tab, tb.tab.length, d.p.R, d.p.rOff, d.p.U, d.p.base, F.G, F.w, K, d.p.Wt);
    d.x.gatherRows(d.p.L, d.p.tab, d.p.off, F.G, K, t0, t1);
    L.set(d.v.L.subarray(0, (t1 - t0) * K));
    return;
  }
  fillTables(tb, F, W);
  const l = new Float64Array(K);
  for (let t = t0; t < t1; t++) {
    gatherRow(l, tb.tab, tb.off, t, F.G, K, null);
    L.set(l, (t - t0) * K);
  }
}

// ---------------------------------------------------------------- scoring

/**
 * Mean bits over positions t0..t1-1 for each scale s_i, logits s_i·L + b:
 *   out[i] = mean_t -log2 max(p_t(y_t), floor)
 * L is (t1 - t0, K) from factoredLogits, b (K), y[t] the target class of position t.
 */
export function scoreScales(
  out: Float64Array, L: Float64Array, b: Float64Array, cls: Classes, y: Int32Array,
  t0: number, t1: number, scales: readonly number[], floor: number,
  ctx: { code: Int32Array; slots: number } | null = null,
): void {
  const { K, mult } = cls;
  out.fill(0, 0, scales.length);
  const nS = scales.length;
  const nT = t1 - t0;
  // without codes every position is its own group
  const slots = ctx ? ctx.slots : nT;
  const d = denseArena({
    L: ['f64', nT * K], b: ['f64', K], mult: ['f64', K], y: ['i32', t1], scales: ['f64', nS], lp: ['f64', nT * nS], l: ['f64', K],
    code: ['i32', t1], norm: ['f64', 2 * slots * nS],
  });
  if (d) {
    // the log-probabilities in WebAssembly (the same operations), bitsOf summed here in the same order;
    // rows of L with the same code share their max and log-sum (ctx: contextCodes of the positions)
    d.v.L.set(L.subarray(0, nT * K));
    d.v.b.set(b.subarray(0, K));
    d.v.mult.set(mult);
    d.v.y.set(y.subarray(0, t1));
    d.v.scales.set(scales);
    if (ctx) d.v.code.set(ctx.code.subarray(0, t1));
    else for (let t = t0; t < t1; t++) d.v.code[t] = 2 * (t - t0) + 1;
    d.x.scaledLogp(d.p.lp, d.p.L, d.p.b, d.p.mult, d.p.y, K, t0, t1, d.p.scales, nS, d.p.l, d.p.code, d.p.norm);
    const lp = d.v.lp;
    for (let i = 0; i < nT; i++) for (let si = 0; si < nS; si++) out[si] += bitsOf(lp[i * nS + si], floor);
    for (let si = 0; si < nS; si++) out[si] /= nT;
    return;
  }
  for (let t = t0; t < t1; t++) {
    const lo = (t - t0) * K;
    const yk = y[t];
    for (let si = 0; si < scales.length; si++) {
      const s = scales[si];
      let max = -Infinity;
      for (let k = 0; k < K; k++) {
        const l = s * L[lo + k] + b[k];
        if (l > max) max = l;
      }
      let sum = 0;
      for (let k = 0; k < K; k++) sum += mult[k] * Math.exp(s * L[lo + k] + b[k] - max);
      out[si] += bitsOf(s * L[lo + yk] + b[yk] - max - Math.log(sum), floor);
    }
  }
  for (let si = 0; si < scales.length; si++) out[si] /= t1 - t0;
}

/** Mean bits of the readout (W, b) over t0..t1-1, floor as in bitsOf (in blocks: factoredBitsBlocked). */
export function factoredBpc(F: Factored, W: Float64Array, b: Float64Array, cls: Classes, y: Int32Array, t0: number, t1: number, floor: number): number {
  const out = new Float64Array(1);
  factoredBitsBlocked(out, F, W, b, cls, y, t0, t1, [1], floor);
  return out[0];
}

/** Positions per block of factoredBitsBlocked: its memory is this many logit rows. */
export const SCORE_BLOCK = 4096;

/**
 * scoreScales of the logits of (W, b) over t0..t1-1, in blocks of `block` positions so that
 * no (t1 - t0, K) array is held: out[i] = mean_t -log2 max(p_t(y_t), floor) for logits
 * s_i·(W·h_t) + b. Each position's log-probability is computed as scoreScales computes it
 * (no context codes: every position on its own) and the bits are summed in position order,
 * so the result has the same bits as factoredLogits + scoreScales over the whole range.
 */
export function factoredBitsBlocked(
  out: Float64Array, F: Factored, W: Float64Array, b: Float64Array, cls: Classes, y: Int32Array,
  t0: number, t1: number, scales: readonly number[], floor: number, block = SCORE_BLOCK,
): void {
  const { K, mult } = cls;
  const nS = scales.length;
  const nT = t1 - t0;
  const B = Math.max(1, Math.min(block, nT));
  out.fill(0, 0, nS);
  const tb = tablesFor(F, K);
  const d = denseFor(F, tb, B, 0, { scales: ['f64', nS], lp: ['f64', B * nS], norm: ['f64', 2 * B * nS] });
  if (d) {
    transposeInto(d.v.Wt, W, K, F.H);
    d.x.fillTables(d.p.tab, tb.tab.length, d.p.R, d.p.rOff, d.p.U, d.p.base, F.G, F.w, K, d.p.Wt);
    d.v.b.set(b.subarray(0, K));
    d.v.mult.set(mult);
    d.v.y.set(y.subarray(0, t1));
    d.v.scales.set(scales);
    const lp = d.v.lp;
    for (let a = t0; a < t1; a += B) {
      const c = Math.min(t1, a + B);
      for (let t = a; t < c; t++) d.v.code[t] = 2 * (t - a) + 1;
      d.x.gatherRows(d.p.L, d.p.tab, d.p.off, F.G, K, a, c);
      d.x.scaledLogp(d.p.lp, d.p.L, d.p.b, d.p.mult, d.p.y, K, a, c, d.p.scales, nS, d.p.l, d.p.code, d.p.norm);
      for (let i = 0; i < c - a; i++) for (let si = 0; si < nS; si++) out[si] += bitsOf(lp[i * nS + si], floor);
    }
    for (let si = 0; si < nS; si++) out[si] /= nT;
    return;
  }
  fillTables(tb, F, W);
  const l = new Float64Array(K);
  for (let t = t0; t < t1; t++) {
    gatherRow(l, tb.tab, tb.off, t, F.G, K, null);
    const yk = y[t];
    for (let si = 0; si < nS; si++) {
      const s = scales[si];
      let max = -Infinity;
      for (let k = 0; k < K; k++) {
        const v = s * l[k] + b[k];
        if (v > max) max = v;
      }
      let sum = 0;
      for (let k = 0; k < K; k++) sum += mult[k] * Math.exp(s * l[k] + b[k] - max);
      out[si] += bitsOf(s * l[yk] + b[yk] - max - Math.log(sum), floor);
    }
  }
  for (let si = 0; si < nS; si++) out[si] /= nT;
}

/**
 * F restricted to the positions pos, in that order: position i of the result is position
 * pos[i] of F (the same distinct rows; blocks' ids gathered). Every kernel here treats
 * positions independently, so scoring or fitting on it is scoring or fitting on those
 * positions of F.
 */
export function sampleFactored(F: Factored, pos: Int32Array): Factored {
  const T = pos.length;
  const idx = new Int32Array(F.G * T);
  for (let g = 0; g < F.G; g++) for (let i = 0; i < T; i++) idx[g * T + i] = F.idx[g * F.T + pos[i]];
  return { T, H: F.H, w: F.w, G: F.G, idx, rows: F.rows };
}

/** Target classes at the positions pos: out[i] = y[pos[i]]. */
export function sampleTargets(y: Int32Array, pos: Int32Array): Int32Array {
  const out = new Int32Array(pos.length);
  for (let i = 0; i < pos.length; i++) out[i] = y[pos[i]];
  return out;
}

// ---------------------------------------------------------------- gradient descent

export interface GdWork {
  /** tables of W (tab) and, in the same layout, the scatter-added gradient A */
  tb: Tables;
  A: Float64Array;
  /** (H, K) scratch: Wᵀ, then dWᵀ */
  Wt: Float64Array;
  l: Float64Array;
  /** (T, K): each slot's probabilities */
  P: Float64Array;
  /** the same buffers in the WebAssembly kernels' memory, or null (the loops here run) */
  dense: DenseGd | null;
  /** the contexts of the positions and targets last asked for (in dense's buffers too) */
  ctx: (SlotPlan & { t0: number; t1: number; y: Int32Array }) | null;
}

/**
 * The positions t0..t1-1 grouped by context (contextCodes): slot s is first seen at
 * position sPos[s] and holds sN[s] positions. A0 is minus the scatter of every position's
 * onehot target (A0[off[t*G + g] + y[t]] -= 1 for each position and block), db0 minus the
 * targets' counts: exact integers, so factoredGrad can start from them and scatter each
 * slot's summed probabilities once.
 */
export interface SlotPlan {
  code: Int32Array;
  slots: number;
  sPos: Int32Array;
  sN: Float64Array;
  A0: Float64Array;
  db0: Float64Array;
}

export function slotPlan(F: Factored, tb: Tables, y: Int32Array, t0: number, t1: number): SlotPlan {
  const { G } = F;
  const { K, off } = tb;
  const { code, slots } = contextCodes(F, t0, t1);
  const sPos = new Int32Array(slots);
  const sN = new Float64Array(slots);
  const A0 = new Float64Array(tb.tab.length);
  const db0 = new Float64Array(K);
  for (let t = t0; t < t1; t++) {
    const s = code[t] >> 1;
    if (code[t] & 1) sPos[s] = t;
    sN[s]++;
    const yk = y[t];
    db0[yk]--;
    for (let g = 0; g < G; g++) A0[off[t * G + g] + yk]--;
  }
  return { code, slots, sPos, sN, A0, db0 };
}

export function gdWork(F: Factored, K: number): GdWork {
  const tb = tablesFor(F, K);
  return {
    tb, A: new Float64Array(tb.tab.length), Wt: new Float64Array(F.H * K), l: new Float64Array(K), P: new Float64Array(F.T * K),
    dense: gdDense(F, tb), ctx: null,
  };
}

// ---------------------------------------------------------------- the WebAssembly kernels' buffers

type DenseGd = NonNullable<ReturnType<typeof gdDense>>;
// the arena gdWork asks for (a function only to name its type)
function gdDense(F: Factored, tb: Tables) {
  return denseFor(F, tb, 0, F.T, { A0: ['f64', tb.tab.length], db0: ['f64', tb.K], sPos: ['i32', F.T], sN: ['f64', F.T], dWt: ['f64', F.H * tb.K] });
}

/**
 * F's distinct rows (all blocks in one buffer, block g from rOff[g], U[g] rows), the table
 * layout of tb and scratch for nL logit rows, in the dense module's memory; null without it.
 */
function denseFor<E extends Record<string, readonly ['f64' | 'i32', number]> = {}>(F: Factored, tb: Tables, nL: number, nP: number, extra?: E) {
  const { T, H, G, w } = F;
  const { K } = tb;
  const nR = F.rows.reduce((n, r) => n + r.length, 0);
  const d = denseArena({
    tab: ['f64', tb.tab.length], A: ['f64', tb.tab.length], Wt: ['f64', H * K], l: ['f64', K], L: ['f64', nL * K],
    b: ['f64', K], db: ['f64', K], mult: ['f64', K], y: ['i32', T],
    R: ['f64', nR], rOff: ['i32', G], U: ['i32', G], base: ['i32', G], off: ['i32', T * G],
    code: ['i32', T], P: ['f64', nP * K], ...(extra ?? ({} as E)),
  });
  if (!d) return null;
  // fillTables2 and gradWeights2 (two rows per pass, the same sums: the same bits) when the build has them
  const k = d.x as DenseExports & Partial<{ fillTables2: DenseExports['fillTables']; gradWeights2: DenseExports['gradWeights'] }>;
  const x: DenseExports = { ...d.x, fillTables: k.fillTables2 ?? k.fillTables, gradWeights: k.gradWeights2 ?? k.gradWeights };
  let r = 0;
  for (let g = 0; g < G; g++) {
    d.v.R.set(F.rows[g], r);
    d.v.rOff[g] = r;
    d.v.U[g] = F.rows[g].length / w;
    r += F.rows[g].length;
  }
  d.v.base.set(tb.base);
  d.v.off.set(tb.off);
  return { ...d, x };
}

/** Wt (H, K) = Wᵀ for W (K, H). */
function transposeInto(Wt: Float64Array, W: Float64Array, K: number, H: number): void {
  for (let k = 0; k < K; k++) for (let i = 0; i < H; i++) Wt[i * K + k] = W[k * H + i];
}

/** work.ctx for positions t0..t1-1 and targets y (made when they change, and copied to the dense buffers). */
function planFor(work: GdWork, F: Factored, y: Int32Array, t0: number, t1: number): NonNullable<GdWork['ctx']> {
  let plan = work.ctx;
  if (!plan || plan.t0 !== t0 || plan.t1 !== t1 || plan.y !== y) {
    plan = work.ctx = { ...slotPlan(F, work.tb, y, t0, t1), t0, t1, y };
    const d = work.dense;
    if (d) {
      d.v.code.set(plan.code);
      d.v.A0.set(plan.A0);
      d.v.db0.set(plan.db0);
      d.v.sPos.set(plan.sPos);
      d.v.sN.set(plan.sN);
    }
  }
  return plan;
}

/**
 * Gradient of Σ_t -ln p_t(y_t) over positions t0..t1-1 for the class readout (W, b):
 *   dW[k*H + i] = Σ_t (p_t(k) - [k = y_t]) · h_t[i],   db[k] = Σ_t (p_t(k) - [k = y_t])
 * with p_t(k) the probability of ONE member of class k. Returns Σ_t -ln(p_t(y_t) + eps),
 * the loss at (W, b) as docs/definitions.md §4.2 reports it.
 */
export function factoredGrad(
  dW: Float64Array, db: Float64Array, F: Factored, W: Float64Array, b: Float64Array,
  cls: Classes, y: Int32Array, t0: number, t1: number, eps: number, work: GdWork,
): number {
  const { H, w, G } = F;
  const { K, mult } = cls;
  const { tb, A, Wt, l, P, dense: d } = work;
  const { tab, off, base } = tb;
  const plan = planFor(work, F, y, t0, t1);
  if (d) {
    // the same steps in WebAssembly: tables of W, the positions and slots, dWᵀ = Σ_g A_gᵀ R_g
    transposeInto(d.v.Wt, W, K, H);
    d.x.fillTables(d.p.tab, tab.length, d.p.R, d.p.rOff, d.p.U, d.p.base, G, w, K, d.p.Wt);
    d.v.b.set(b.subarray(0, K));
    d.v.mult.set(mult);
    d.v.y.set(y.subarray(0, d.v.y.length));
    const loss = d.x.gradRowsSlots(d.p.A, d.p.db, tab.length, d.p.l, d.p.tab, d.p.off, G, K, d.p.b, d.p.mult, d.p.y, t0, t1, eps, d.p.code, d.p.P,
      d.p.A0, d.p.db0, d.p.sPos, d.p.sN, plan.slots);
    d.x.gradWeights(d.p.Wt, H, d.p.A, d.p.R, d.p.rOff, d.p.U, d.p.base, G, w, K);
    for (let k = 0; k < K; k++) for (let i = 0; i < H; i++) dW[k * H + i] = d.v.Wt[i * K + k];
    db.set(d.v.db);
    return loss;
  }
  fillTables(tb, F, W, Wt);
  // d = softmax - onehot summed per slot: A and db start at minus the onehots' scatter
  A.set(plan.A0);
  db.set(plan.db0);
  const { code, sPos, sN } = plan;
  let loss = 0;
  for (let t = t0; t < t1; t++) {
    const po = (code[t] >> 1) * K;
    if (code[t] & 1) {
      // the first position of its slot: p into P
      gatherRow(l, tab, off, t, G, K, b);
      let max = -Infinity;
      for (let k = 0; k < K; k++) if (l[k] > max) max = l[k];
      let sum = 0;
      for (let k = 0; k < K; k++) {
        const e = Math.exp(l[k] - max);
        l[k] = e;
        sum += mult[k] * e;
      }
      const inv = 1 / sum;
      for (let k = 0; k < K; k++) P[po + k] = l[k] * inv;
    }
    loss -= Math.log(P[po + y[t]] + eps);
  }
  for (let s = 0; s < plan.slots; s++) {
    const n = sN[s];
    const po = s * K;
    for (let k = 0; k < K; k++) l[k] = n !== 1 ? P[po + k] * n : P[po + k];
    for (let k = 0; k < K; k++) db[k] += l[k];
    scatterRow(A, l, off, sPos[s], G, K);
  }
  // dW_g = A_gᵀ · R_g, accumulated as dWᵀ (H, K) in Wt, inner loop along k
  Wt.fill(0);
  for (let g = 0; g < G; g++) {
    const R = F.rows[g];
    const U = R.length / w;
    for (let j = 0; j < w; j++) {
      const wo = (g * w + j) * K;
      let u = 0;
      for (; u + 4 <= U; u += 4) {
        // four table rows at once: one store of dWᵀ per four multiply-adds
        const r0 = R[u * w + j], r1 = R[(u + 1) * w + j], r2 = R[(u + 2) * w + j], r3 = R[(u + 3) * w + j];
        const a0 = base[g] + u * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
        for (let k = 0; k < K; k++) Wt[wo + k] += r0 * A[a0 + k] + r1 * A[a1 + k] + r2 * A[a2 + k] + r3 * A[a3 + k];
      }
      for (; u < U; u++) {
        const r = R[u * w + j];
        const ao = base[g] + u * K;
        for (let k = 0; k < K; k++) Wt[wo + k] += r * A[ao + k];
      }
    }
  }
  for (let k = 0; k < K; k++) for (let i = 0; i < H; i++) dW[k * H + i] = Wt[i * K + k];
  return loss;
}

export interface GdSchedule {
  steps: number;
  lr: number;
  /**
   * lr is multiplied by `decay` once a listed number of steps is done: with [300], steps
   * k = 0..299 use lr and k = 300.. use lr·decay (docs/definitions.md §4.1's "after steps k = 300, 600 and
   * 800", read as "after 300, 600 and 800 steps").
   */
  decay: number;
  decayAt: readonly number[];
}

/** Learning rate of 0-based step k: lr · decay^#{a in decayAt : a ≤ k}. */
export function lrAt(s: GdSchedule, k: number): number {
  let lr = s.lr;
  for (const a of s.decayAt) if (a <= k) lr *= s.decay;
  return lr;
}

/**
 * Full-batch gradient descent on the class readout, in place:
 *   W -= lr_k / n · dW,   b -= lr_k / n · db    (n = t1 - t0 positions)
 * Returns the mean loss -ln(p + eps) at the start of each step (nats), length steps.
 */
export function factoredGd(
  F: Factored, W: Float64Array, b: Float64Array, cls: Classes, y: Int32Array,
  t0: number, t1: number, sched: GdSchedule, eps: number,
  progress?: (done: number, total: number) => void,
): Float64Array {
  const n = t1 - t0;
  const work = gdWork(F, cls.K);
  const dW = new Float64Array(W.length);
  const db = new Float64Array(b.length);
  const losses = new Float64Array(sched.steps);
  const d = work.dense;
  if (d) {
    // every step in WebAssembly: Wᵀ (H, K) and b stay there, each step as factoredGrad and the update below
    const { H, w, G } = F;
    const { K, mult } = cls;
    const plan = planFor(work, F, y, t0, t1);
    const nTab = work.tb.tab.length;
    transposeInto(d.v.Wt, W, K, H);
    d.v.b.set(b.subarray(0, K));
    d.v.mult.set(mult);
    d.v.y.set(y.subarray(0, d.v.y.length));
    for (let k = 0; k < sched.steps; k++) {
      d.x.fillTables(d.p.tab, nTab, d.p.R, d.p.rOff, d.p.U, d.p.base, G, w, K, d.p.Wt);
      const loss = d.x.gradRowsSlots(d.p.A, d.p.db, nTab, d.p.l, d.p.tab, d.p.off, G, K, d.p.b, d.p.mult, d.p.y, t0, t1, eps, d.p.code, d.p.P,
        d.p.A0, d.p.db0, d.p.sPos, d.p.sN, plan.slots);
      d.x.gradWeights(d.p.dWt, H, d.p.A, d.p.R, d.p.rOff, d.p.U, d.p.base, G, w, K);
      losses[k] = loss / n;
      const step = lrAt(sched, k) / n;
      d.x.subScaled(d.p.Wt, d.p.dWt, H * K, step);
      d.x.subScaled(d.p.b, d.p.db, K, step);
      if (progress && (k + 1) % 50 === 0) progress(k + 1, sched.steps);
    }
    for (let k = 0; k < K; k++) for (let i = 0; i < H; i++) W[k * H + i] = d.v.Wt[i * K + k];
    b.set(d.v.b.subarray(0, K));
    return losses;
  }
  for (let k = 0; k < sched.steps; k++) {
    losses[k] = factoredGrad(dW, db, F, W, b, cls, y, t0, t1, eps, work) / n;
    const step = lrAt(sched, k) / n;
    for (let i = 0; i < W.length; i++) W[i] -= step * dW[i];
    for (let i = 0; i < b.length; i++) b[i] -= step * db[i];
    if (progress && (k + 1) % 50 === 0) progress(k + 1, sched.steps);
  }
  return losses;
}

// ---------------------------------------------------------------- naive twins

/** Naive: bits at each position t0..t1-1, full (T, H) trajectory, Wy (V, H), by (V). */
export function naiveBits(Hs: ArrayLike<number>, H: number, Wy: ArrayLike<number>, by: ArrayLike<number>, xs: Uint8Array, t0: number, t1: number, floor: number): Float64Array {
  const out = new Float64Array(t1 - t0);
  const l = new Float64Array(V);
  for (let t = t0; t < t1; t++) {
    for (let o = 0; o < V; o++) {
      let acc = by[o];
      for (let i = 0; i < H; i++) acc += Wy[o * H + i] * Hs[t * H + i];
      l[o] = acc;
    }
    let max = -Infinity;
    for (let o = 0; o < V; o++) if (l[o] > max) max = l[o];
    let sum = 0;
    for (let o = 0; o < V; o++) sum += Math.exp(l[o] - max);
    out[t - t0] = bitsOf(l[xs[t + 1]] - max - Math.log(sum), floor);
  }
  return out;
}

/** Naive: gradient of Σ_t -ln p_t(x_{t+1}) over t0..t1-1 (all 256 outputs); returns Σ -ln(p + eps). */
export function naiveGrad(dWy: Float64Array, dby: Float64Array, Hs: ArrayLike<number>, H: number, Wy: ArrayLike<number>, by: ArrayLike<number>, xs: Uint8Array, t0: number, t1: number, eps: number): number {
  dWy.fill(0);
  dby.fill(0);
  const p = new Float64Array(V);
  let loss = 0;
  for (let t = t0; t < t1; t++) {
    for (let o = 0; o < V; o++) {
      let acc = by[o];
      for (let i = 0; i < H; i++) acc += Wy[o * H + i] * Hs[t * H + i];
      p[o] = acc;
    }
    let max = -Infinity;
    for (let o = 0; o < V; o++) if (p[o] > max) max = p[o];
    let sum = 0;
    for (let o = 0; o < V; o++) sum += Math.exp(p[o] - max);
    for (let o = 0; o < V; o++) p[o] = Math.exp(p[o] - max) / sum;
    const y = xs[t + 1];
    loss -= Math.log(p[y] + eps);
    p[y] -= 1;
    for (let o = 0; o < V; o++) {
      dby[o] += p[o];
      for (let i = 0; i < H; i++) dWy[o * H + i] += p[o] * Hs[t * H + i];
    }
  }
  return loss;
}
