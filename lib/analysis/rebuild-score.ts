// Paper §6.2, open question 4, the scoring (docs/definitions.md §6.3): each RNN that
// `rebuild` wrote from a description alone, beside the trained model T, and the reference
// rows built from the training text alone (the data as its own description).
//
//   kl_train    mean over t = 0..N-2 of KL(p_T ‖ p_R) = Σ_o p_T(o) (log2 p_T(o) − log2 p_R(o))
//   sign_train  over the rebuilt units kept one to one with T's (unitMap[u] = j ≥ 0) and
//               t = 0..N-2: the fraction of neuron-steps with sign S_R[t][u] = sign S_T[t][j],
//               R fed forward on its own states (sign(0) = +1)
//   worth_bits  1 when no reference row has both no more bits and no higher bpc
//
// The §4.2 reference's hidden values on another text (the held-out bytes) use the tables
// of the training text: unit 16g + i carries clip(ln(p(y_i | x_{t−d_g}) / p(y_i))) with the
// counts and ranked bytes of the training text, t ≥ max d_g of the scored text.

import { V, type Weights } from '../rnn/weights.ts';
import { bitsOf, logSoftmax, readoutLogp, readoutLogpRows, type StoredTrace } from '../rnn/forward.ts';
import { forwardStatesFast } from './forward-fast.ts';
import { denseArena, Mv4 } from '../rnn/wasm-dense.ts';
import { reverseStates, reverseTables, type ReverseSpec } from './reverse-iso.ts';

/** Mean KL(p_T ‖ p_R) in bits over positions t0..t1-1 of two (T, V) log-probability arrays. */
export function klBits(logpT: Float64Array, logpR: Float64Array, t0: number, t1: number): number {
  let s = 0;
  for (let t = t0; t < t1; t++) {
    const o = t * V;
    let kl = 0;
    for (let y = 0; y < V; y++) {
      const p = Math.exp(logpT[o + y]);
      if (p > 0) kl += p * (logpT[o + y] - logpR[o + y]);
    }
    s += kl;
  }
  return s / (t1 - t0) / Math.LN2;
}

/** Fraction of (t < P, u with map[u] ≥ 0) where sign SR[t][u] = sign ST[t][map[u]]; null when no unit is mapped. */
export function signAgreement(SR: ArrayLike<number>, HR: number, ST: ArrayLike<number>, HT: number, map: readonly number[], P: number): number | null {
  const units = [...map.keys()].filter((u) => map[u] >= 0);
  if (!units.length) return null;
  let agree = 0;
  for (let t = 0; t < P; t++) {
    for (const u of units) if ((SR[t * HR + u] >= 0) === (ST[t * HT + map[u]] >= 0)) agree++;
  }
  return agree / (P * units.length);
}

/** The §4.2 hidden values (text.length, H) on `text`, from the tables of `train`; rows t < max offset are 0. */
export function reverseStatesOn(train: Uint8Array, text: Uint8Array, spec: ReverseSpec): Float64Array {
  return reverseStates(reverseTables(train, spec), text, spec);
}

/**
 * log softmax(Wy·h_t + by) for every row of Hs (T, H): (T, V), float64. Four rows at a time
 * in WebAssembly when it is there (Mv4: each logit summed over j in order from by[o], then
 * forward.ts's logSoftmax, the same bits); the rest, or everything without it, here.
 */
export function readoutLogpAll(Hs: ArrayLike<number>, T: number, H: number, Wy: ArrayLike<number>, by: ArrayLike<number>, out = new Float64Array(T * V)): Float64Array {
  // Mv4 keeps its kernel per array: a Float64Array Wy is used as it is (callers do not change it)
  const mv = Mv4.for(Wy instanceof Float64Array ? Wy : Float64Array.from(Wy), V, H);
  let t0 = 0;
  if (mv) for (; t0 + 4 <= T; t0 += 4) mv.run(Hs, t0 * H, by, out, t0 * V, V, true);
  return readoutLogpAllNaive(Hs, T, H, Wy, by, out, t0);
}

/** Naive twin of readoutLogpAll (rows t0..T-1 into out): one logit at a time. */
export function readoutLogpAllNaive(Hs: ArrayLike<number>, T: number, H: number, Wy: ArrayLike<number>, by: ArrayLike<number>, out = new Float64Array(T * V), t0 = 0): Float64Array {
  for (let t = t0; t < T; t++) {
    for (let o = 0; o < V; o++) {
      let acc = by[o];
      for (let j = 0; j < H; j++) acc += Wy[o * H + j] * Hs[t * H + j];
      out[t * V + o] = acc;
    }
    logSoftmax(out, t * V, out, t * V);
  }
  return out;
}

/** Mean bits of the next bytes under (T, V) log-probabilities, positions 0..T-2. */
export function meanBits(logp: Float64Array, xs: Uint8Array, floor: number): number {
  let s = 0;
  for (let t = 0; t + 1 < xs.length; t++) s += bitsOf(logp[t * V + xs[t + 1]], floor);
  return s / (xs.length - 1);
}

/** worth_bits of a row: 1 when no reference (with an in-sample bpc) has both bits ≤ and bpc ≤ its own. */
export function worthBits(row: { bits: number; bpc: number }, refs: readonly { bits: number; bpc: number | null }[]): 0 | 1 {
  return refs.some((r) => r.bpc !== null && r.bits <= row.bits && r.bpc <= row.bpc) ? 0 : 1;
}

// ---------------------------------------------------------------- scoring in blocks of positions

/** Positions per block of scoreOnText (a multiple of 4: readoutLogpRows' grouping). */
export const SCORE_ROWS = 8192;

/**
 * A model scored on a text block by block, positions in order: `rows(a, b, out)` writes the
 * (b - a, V) log-probabilities of positions a..b-1 into out and returns its states there
 * ((b - a, H) float32) or null (no states to compare).
 */
export interface RowSource {
  rows(a: number, b: number, out: Float64Array<ArrayBuffer>): Float32Array | null;
}

/**
 * An Elman RNN as a RowSource on `text`: the forward pass from S[-1] = 0 (forwardStatesFast,
 * carried from block to block, so the same states as one pass) and readoutLogpRows on each
 * block (blocks start at multiples of 4, so the same four-row groups as over the whole text):
 * the rows forwardTrace gives, bit for bit.
 */
export function rnnRows(w: Weights, text: Uint8Array): RowSource {
  const ro = distinctReadout(w);
  let h0: Float32Array | undefined;
  return {
    rows(a, b, out) {
      const { S } = forwardStatesFast(w, text.subarray(a, b), h0);
      h0 = S.slice((b - a - 1) * w.H, (b - a) * w.H);
      ro(S, b - a, out);
      return S;
    },
  };
}

/**
 * readoutLogpRows of w as a function of (S, T, logp), the same bits, with each distinct
 * (Wy row, by) pair's logit computed once: rows that are equal give equal sums (each logit
 * is by[o] + Σ_j Wy[o][j]·h[j] over j in order), so they are computed for one byte of each
 * group and copied to the others, and then every row's log softmax over all 256 as before.
 * A rebuilt model's bytes never seen share one row, so its readout is some 53 rows, not 256.
 * Made once per Weights object (w must not change afterwards: its rows are copied).
 */
export function distinctReadout(w: Weights): (S: ArrayLike<number>, T: number, logp: Float64Array) => void {
  let ro = readouts.get(w);
  if (!ro) readouts.set(w, (ro = makeDistinctReadout(w)));
  return ro;
}

type Readout = (S: ArrayLike<number>, T: number, logp: Float64Array) => void;

/** Rows per call of asm/dense.ts distinctLogp4 (a multiple of 4): its buffers hold this many states and log-probability rows. */
const DISTINCT_ROWS = 128;
const readouts = new WeakMap<Weights, Readout>();

function makeDistinctReadout(w: Weights): Readout {
  const { H } = w;
  const of = new Int32Array(V);
  const firstOf: number[] = [];
  // rows grouped by a sum of their values, then compared value by value (equal as numbers: 0 and -0 are one)
  const byHash = new Map<number, number[]>();
  for (let o = 0; o < V; o++) {
    let h = w.by[o];
    for (let j = 0; j < H; j++) h = h * 1.000001 + w.Wy[o * H + j];
    const list = byHash.get(h) ?? [];
    if (!list.length) byHash.set(h, list);
    let d = -1;
    for (let c = 0; c < list.length && d < 0; c++) {
      const q = firstOf[list[c]];
      let same = w.by[q] === w.by[o];
      for (let j = 0; j < H && same; j++) same = w.Wy[q * H + j] === w.Wy[o * H + j];
      if (same) d = list[c];
    }
    if (d < 0) {
      d = firstOf.length;
      firstOf.push(o);
      list.push(d);
    }
    of[o] = d;
  }
  const D = firstOf.length;
  const Wd = new Float64Array(D * H);
  const bd = new Float64Array(D);
  firstOf.forEach((o, d) => {
    for (let j = 0; j < H; j++) Wd[d * H + j] = w.Wy[o * H + j];
    bd[d] = w.by[o];
  });
  const k = denseArena({
    M: ['f64', D * H], v: ['f64', 4 * H], init: ['f64', D], out: ['f64', 4 * D], full: ['f64', 4 * V],
    of: ['i32', V], S: ['f32', DISTINCT_ROWS * H], logp: ['f64', DISTINCT_ROWS * V],
  });
  if (!k) {
    const Wy64 = Float64Array.from(w.Wy);
    return (S, T, logp) => readoutLogpRows(w, S, T, logp, Wy64);
  }
  k.v.M.set(Wd);
  k.v.init.set(bd);
  k.v.of.set(of);
  const { v, out, full } = k.v;
  // the loops below in WebAssembly, DISTINCT_ROWS rows of float32 states at a time, when the build has the kernel
  const x = k.x as typeof k.x & { distinctLogp4?: (logp: number, S: number, T: number, H: number, M: number, D: number, init: number, ofs: number, V: number, v: number, out: number, full: number) => void };
  return (S, T, logp) => {
    let t = 0;
    if (x.distinctLogp4 && S instanceof Float32Array) {
      for (; t + 4 <= T; ) {
        const n = Math.min(DISTINCT_ROWS, (T - t) & ~3);
        k.v.S.set(S.subarray(t * H, (t + n) * H));
        x.distinctLogp4(k.p.logp, k.p.S, n, H, k.p.M, D, k.p.init, k.p.of, V, k.p.v, k.p.out, k.p.full);
        logp.set(k.v.logp.subarray(0, n * V), t * V);
        t += n;
      }
    }
    for (; t + 3 < T; t += 4) {
      // four rows as Mv4.run lays them out (v: (H, 4)), logits (D, 4), spread to (V, 4), log softmax in place
      for (let c = 0; c < 4; c++) for (let j = 0; j < H; j++) v[j * 4 + c] = S[(t + c) * H + j];
      k.x.mv4(k.p.out, k.p.M, D, H, k.p.v, k.p.init);
      for (let o = 0; o < V; o++) {
        const q = of[o] * 4;
        full[o * 4] = out[q];
        full[o * 4 + 1] = out[q + 1];
        full[o * 4 + 2] = out[q + 2];
        full[o * 4 + 3] = out[q + 3];
      }
      k.x.logSoftmax4(k.p.full, V);
      for (let c = 0; c < 4; c++) {
        const base = (t + c) * V;
        for (let o = 0; o < V; o++) logp[base + o] = full[o * 4 + c];
      }
    }
    for (; t < T; t++) readoutLogp(w, S, t * H, logp, t * V);
  };
}

/** The rows of a stored trace (its own log-probabilities when kept, else readoutLogpRows of its states, as logpOf). */
export function traceRows(tr: StoredTrace, w: Weights): RowSource {
  const Wy64 = tr.logp ? null : Float64Array.from(w.Wy);
  return {
    rows(a, b, out) {
      const S = tr.S.subarray(a * tr.H, b * tr.H);
      if (tr.logp) out.set(tr.logp.subarray(a * V, b * V));
      else readoutLogpRows(w, S, b - a, out, Wy64!);
      return S;
    },
  };
}

/**
 * The §4.2 reference as a RowSource on `text`: reverseStatesOn (rows before the largest
 * offset 0) and readoutLogpAll on each block, with the tables of `train`.
 */
export function reverseRows(train: Uint8Array, text: Uint8Array, spec: ReverseSpec, H: number, Wy: ArrayLike<number>, by: ArrayLike<number>): RowSource {
  const tables = reverseTables(train, spec);
  const m = Math.max(...spec.offsets);
  const Wy64 = Float64Array.from(Wy);
  return {
    rows(a, b, out) {
      // a block from a ≥ m reads m bytes before it; its first m rows are that context
      const from = a >= m ? a - m : 0;
      const Hs = reverseStates(tables, text.subarray(from, b), spec).subarray((a - from) * H);
      readoutLogpAll(Hs, b - a, H, Wy64, by, out);
      return null;
    },
  };
}

export interface TextScore {
  /** bits of each position t = 0..len-2 at the floor */
  bits: Float64Array;
  /** kl_train (bits) against the reference rows, when given */
  kl: number | null;
  /** sign_train against the reference states, where a unit map is given */
  sign: number | null;
}

/**
 * Every source's bits on text, positions t = 0..len-2, in blocks of `block` positions: no
 * (len, V) array is held. With `ref` (the trained model's rows), each source's mean KL(p_ref ‖
 * p) in bits over those positions, summed in position order as klBits sums it (the same bits);
 * with a unit map (and states from both), the sign agreement as signAgreement counts it.
 * `same[i]` marks a source whose rows are ref's own (its KL is 0, its signs agree).
 */
export function scoreOnText(
  sources: readonly RowSource[], text: Uint8Array, floor: number, ref: { src: RowSource; H: number } | null,
  maps: readonly (readonly number[] | null)[], Hs: readonly number[], block = SCORE_ROWS,
): TextScore[] {
  const n = text.length;
  const P = n - 1;
  const B = Math.max(4, Math.min(block - (block % 4), n + 3 - ((n + 3) % 4)));
  const out = new Float64Array(B * V);
  const refOut = new Float64Array(ref ? B * V : 0);
  const pRef = new Float64Array(ref ? B * V : 0);
  const bits = sources.map(() => new Float64Array(Math.max(0, P)));
  const kl = sources.map(() => 0);
  const agree = sources.map(() => 0);
  const units = maps.map((m) => (m ? [...m.keys()].filter((u) => m[u] >= 0) : []));
  for (let a = 0; a < n; a += B) {
    const b = Math.min(n, a + B);

    const top = Math.min(b, P); // positions a..top-1 are scored
    let refS: Float32Array | null = null;
    if (ref) {
      refS = ref.src.rows(a, b, refOut);
      for (let i = 0; i < (top - a) * V; i++) pRef[i] = Math.exp(refOut[i]);
    }
    sources.forEach((src, k) => {
      const S = src.rows(a, b, out);
      const r = scoreRows(out, S, a, top, text, floor, bits[k], a, ref && { out: refOut, p: pRef, S: refS, H: ref.H }, kl[k], units[k], maps[k], Hs[k]);
      kl[k] = r.kl;
      agree[k] += r.agree;
    });
  }
  return sources.map((_, k) => ({
    bits: bits[k],
    kl: ref ? kl[k] / P / Math.LN2 : null,
    sign: units[k].length ? agree[k] / (P * units[k].length) : null,
  }));
}

// ---------------------------------------------------------------- scoring on a sample of positions

/** A RowSource whose rows depend on every position before them (an RNN's states): skip(a, b) carries them over a..b-1 with no readout. */
export interface CarriedRowSource extends RowSource {
  skip(a: number, b: number): void;
}

/** rnnRows that can also skip: the forward pass alone over positions it does not score. Calls come in position order. */
export function rnnRowsCarried(w: Weights, text: Uint8Array): CarriedRowSource {
  const ro = distinctReadout(w);
  let h0: Float32Array | undefined;
  const forward = (a: number, b: number) => {
    const { S } = forwardStatesFast(w, text.subarray(a, b), h0);
    h0 = S.slice((b - a - 1) * w.H, (b - a) * w.H);
    return S;
  };
  return {
    skip(a, b) {
      for (let s = a; s < b; s += SCORE_ROWS) forward(s, Math.min(b, s + SCORE_ROWS));
    },
    rows(a, b, out) {
      const S = forward(a, b);
      ro(S, b - a, out);
      return S;
    },
  };
}

/**
 * One source's rows for positions a..top-1 (row t - a of `out`, log-probabilities; `S` its
 * states or null): each position's bits into bk[at + t - a]; beside the reference's rows
 * (log-probabilities `ref.out`, probabilities `ref.p`, states `ref.S`), the KL summed on from
 * `kl` position by position (so a text scored in blocks sums in the same order as in one), and
 * how many of the units that stand one to one (units, map: model unit of each) share the
 * reference's sign.
 */
function scoreRows(
  out: Float64Array, S: Float32Array | null, a: number, top: number, text: Uint8Array, floor: number, bk: Float64Array, at: number,
  ref: { out: Float64Array; p: Float64Array; S: Float32Array | null; H: number } | null, kl: number, units: readonly number[], map: readonly number[] | null, HR: number,
): { kl: number; agree: number } {
  for (let t = a; t < top; t++) bk[at + t - a] = bitsOf(out[(t - a) * V + text[t + 1]], floor);
  if (!ref) return { kl, agree: 0 };
  let s = kl;
  for (let t = a; t < top; t++) {
    const o = (t - a) * V;
    let d = 0;
    for (let y = 0; y < V; y++) {
      const p = ref.p[o + y];
      if (p > 0) d += p * (ref.out[o + y] - out[o + y]);
    }
    s += d;
  }
  let c = 0;
  if (units.length && S && ref.S) {
    for (let t = a; t < top; t++) for (const u of units) if ((S[(t - a) * HR + u] >= 0) === (ref.S[(t - a) * ref.H + map![u]] >= 0)) c++;
  }
  return { kl: s, agree: c };
}

/**
 * scoreOnText on the positions of `blocks` alone (inclusive [first, last] ranges of t in
 * 0..len-2, increasing, not overlapping): bits of each visited position in order, and the
 * mean KL and sign agreement over them. A source with skip (an RNN) is carried over the
 * positions between blocks without a readout, so its states are those of one pass from
 * S[-1] = 0; a source without it is read at the block's positions alone (its rows do not
 * depend on earlier ones: a stored trace, the §4.2 states).
 */
export function scoreOnBlocks(
  sources: readonly (RowSource | CarriedRowSource)[], text: Uint8Array, floor: number, ref: { src: RowSource; H: number } | null,
  maps: readonly (readonly number[] | null)[], Hs: readonly number[], blocks: readonly (readonly [number, number])[],
): TextScore[] {
  const L = Math.max(...blocks.map(([f, l]) => l - f + 1));
  const count = blocks.reduce((s, [f, l]) => s + l - f + 1, 0);
  const out = new Float64Array(L * V);
  const refOut = new Float64Array(ref ? L * V : 0);
  const pRef = new Float64Array(ref ? L * V : 0);
  const bits = sources.map(() => new Float64Array(count));
  const kl = sources.map(() => 0);
  const agree = sources.map(() => 0);
  const units = maps.map((m) => (m ? [...m.keys()].filter((u) => m[u] >= 0) : []));
  let done = 0; // carried sources stand at position `done`
  let i0 = 0; // index of the block's first position in bits
  for (const [first, last] of blocks) {
    if (first < done || last + 1 >= text.length) throw new Error(`scoreOnBlocks: block ${first}..${last} is out of order or past t = ${text.length - 2}`);
    const a = first;
    const b = last + 1;
    let refS: Float32Array | null = null;
    if (ref) {
      refS = ref.src.rows(a, b, refOut);
      for (let i = 0; i < (b - a) * V; i++) pRef[i] = Math.exp(refOut[i]);
    }
    sources.forEach((src, k) => {
      if ('skip' in src) src.skip(done, a);
      const S = src.rows(a, b, out);
      const r = scoreRows(out, S, a, b, text, floor, bits[k], i0, ref && { out: refOut, p: pRef, S: refS, H: ref.H }, kl[k], units[k], maps[k], Hs[k]);
      kl[k] = r.kl;
      agree[k] += r.agree;
    });
    done = b;
    i0 += b - a;
  }
  return sources.map((_, k) => ({
    bits: bits[k],
    kl: ref ? kl[k] / count / Math.LN2 : null,
    sign: units[k].length ? agree[k] / (count * units[k].length) : null,
  }));
}
