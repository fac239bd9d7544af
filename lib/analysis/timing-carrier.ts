// Paper §6.2, open questions 1 and 2 (docs/definitions.md §6.1, §6.2): can timing rules build the carrier,
// and which bytes switch the pattern-sensitive units on?
//
// Carrier (eq. 5): c_t = Wh·S[t-1] + bh. It depends on the prefix x_0..x_{t-1} only, so it
// is described by features of that prefix:
//   wl   = word_len[t-1]  (docs/definitions.md §3.3: non-whitespace run ending at t-1, capped)
//   tag  = in_tag[t-1]    (1 after '<', 0 after '>', the byte itself included)
//   x1   = x_{t-1},  x2 = x_{t-2}      (−1 before x_0)
// A feature set groups positions t = 0..N-2 into cells (t = 0 is always its own cell: its
// carrier is bh exactly). Per cell and unit the mean carrier ĉ replaces c_t and the
// substituted state
//   S'[t] = tanh(ĉ_t + Wx[:, x_t])          (all units, not fed forward)
// is read out through the trained Wy, by. Figures: carrier R² pooled over units, sign
// agreement sign S' = sign S, bpc.
//
// Layouts: c, S are (N, H) row-major (c[t*H + j]); cell means ĉ are (nCells, H).
// All arithmetic float64; sign(0) = +1.

import { V, type Weights } from '../rnn/weights.ts';
import { bitsOf, readoutLogp, readoutLogpRows } from '../rnn/forward.ts';
import { inTag, wordLength } from './factor-map.ts';

export const FEATURE_SETS = ['none', 'wl', 'wl+tag', 'wl+tag+x1', 'x1', 'x1+x2'] as const;
export type FeatureSet = (typeof FEATURE_SETS)[number];

/** The id a set has in metric ids: `wl+tag` -> `wl_tag`. */
export const setId = (s: string) => s.replace(/\+/g, '_');

export const featuresOf = (s: FeatureSet) => ({
  wl: s.includes('wl'),
  tag: s.includes('tag'),
  x1: s.includes('x1'),
  x2: s.includes('x2'),
});

/** Features of the prefix x_0..x_{t-1}, for t = 0..N-1 (position 0 gets −1 everywhere). */
export interface PrefixFeatures {
  wl: Int32Array;
  tag: Int32Array;
  x1: Int32Array;
  x2: Int32Array;
}

export function prefixFeatures(xs: Uint8Array, wlCap: number): PrefixFeatures {
  const N = xs.length;
  const wlNow = wordLength(xs, wlCap);
  const tagNow = inTag(xs);
  const f = { wl: new Int32Array(N).fill(-1), tag: new Int32Array(N).fill(-1), x1: new Int32Array(N).fill(-1), x2: new Int32Array(N).fill(-1) };
  for (let t = 1; t < N; t++) {
    f.wl[t] = wlNow[t - 1];
    f.tag[t] = tagNow[t - 1];
    f.x1[t] = xs[t - 1];
    if (t >= 2) f.x2[t] = xs[t - 2];
  }
  return f;
}

export interface Cells {
  /** (P): cell of position t = 0..P-1 */
  ids: Int32Array;
  nCells: number;
  /** (nCells): first position of each cell (its features name the cell) */
  first: Int32Array;
}

/** Cells of positions t = 0..P-1 under a feature set; ids in order of first appearance. */
export function cellsOf(f: PrefixFeatures, set: FeatureSet, P: number): Cells {
  const use = featuresOf(set);
  const ids = new Int32Array(P);
  const map = new Map<number, number>();
  const first: number[] = [];
  for (let t = 0; t < P; t++) {
    // t = 0 is its own cell (key −1); otherwise a mixed-radix key of the used features
    const key = t === 0 ? -1
      : (((use.wl ? f.wl[t] + 1 : 0) * 3 + (use.tag ? f.tag[t] + 1 : 0)) * 257 + (use.x1 ? f.x1[t] + 1 : 0)) * 257 + (use.x2 ? f.x2[t] + 1 : 0);
    let id = map.get(key);
    if (id === undefined) {
      id = map.size;
      map.set(key, id);
      first.push(t);
    }
    ids[t] = id;
  }
  return { ids, nCells: map.size, first: Int32Array.from(first) };
}

/** A cell's name from its features: "start" for t = 0, else e.g. "wl=3 tag=1 x1='a'". */
export function cellLabel(f: PrefixFeatures, set: FeatureSet, t: number, byteName: (b: number) => string): string {
  if (t === 0) return 'start';
  const use = featuresOf(set);
  const parts: string[] = [];
  if (use.wl) parts.push(`wl=${f.wl[t]}`);
  if (use.tag) parts.push(`tag=${f.tag[t]}`);
  if (use.x1) parts.push(`x1=${byteName(f.x1[t])}`);
  if (use.x2) parts.push(`x2=${f.x2[t] < 0 ? '∅' : byteName(f.x2[t])}`);
  return parts.join(' ') || 'all';
}

/**
 * Cell means of the carrier (nCells, H), fitted on positions t < P with fit[t] = 1.
 * A cell with no fitted position gets the mean carrier over the fitted positions.
 * Also returns the number of fitted positions per cell.
 */
export function cellMeans(c: Float64Array, H: number, cells: Cells, P: number, fit?: Uint8Array): { chat: Float64Array; count: Float64Array } {
  const { ids, nCells } = cells;
  const chat = new Float64Array(nCells * H);
  const count = new Float64Array(nCells);
  const all = new Float64Array(H);
  let nAll = 0;
  for (let t = 0; t < P; t++) {
    if (fit && !fit[t]) continue;
    const o = ids[t] * H;
    count[ids[t]]++;
    nAll++;
    for (let j = 0; j < H; j++) {
      chat[o + j] += c[t * H + j];
      all[j] += c[t * H + j];
    }
  }
  for (let k = 0; k < nCells; k++) {
    for (let j = 0; j < H; j++) chat[k * H + j] = count[k] > 0 ? chat[k * H + j] / count[k] : nAll > 0 ? all[j] / nAll : 0;
  }
  return { chat, count };
}

/** Carrier R² pooled over units: 1 − Σ_{t,j}(c − ĉ)² / Σ_{t,j}(c − c̄_j)², t < P (0 if no variance). */
export function carrierR2(c: Float64Array, H: number, chat: Float64Array, ids: Int32Array, P: number): number {
  const mean = new Float64Array(H);
  for (let t = 0; t < P; t++) for (let j = 0; j < H; j++) mean[j] += c[t * H + j];
  for (let j = 0; j < H; j++) mean[j] /= P;
  let res = 0;
  let tot = 0;
  for (let t = 0; t < P; t++) {
    const o = ids[t] * H;
    for (let j = 0; j < H; j++) {
      const v = c[t * H + j];
      res += (v - chat[o + j]) ** 2;
      tot += (v - mean[j]) ** 2;
    }
  }
  return tot > 0 ? 1 - res / tot : 0;
}

export interface Substituted {
  /** mean bits of S' read out through Wy, by over the scored positions */
  bpc: number;
  /** fraction of scored neuron-steps with sign S' = sign S */
  signAgreement: number;
  /** per unit: scored positions with sign S'_j = sign S_j, over the number scored */
  unitAgreement: Float64Array;
  positions: number;
}

const sgn = (v: number) => (v >= 0 ? 1 : -1);

/**
 * S'[t] = tanh(ĉ_{cell(t)} + Wx[:, x_t]) at positions t < P with score[t] = 1 (all if no
 * mask): bpc of its readout (target x_{t+1}, floor) and its sign agreement with S.
 * S' depends only on (cell, x_t), so the readout of each distinct pair is computed once
 * (`substitutedNaive` recomputes it at every position).
 */
export function substituted(w: Weights, xs: Uint8Array, S: Float32Array, chat: Float64Array, ids: Int32Array, P: number, floor: number, score?: Uint8Array): Substituted {
  const { H, Wx } = w;
  // pass 1: each scored position's state, its sign agreement, and its distinct pair's row
  const row = new Map<number, number>(); // key = cell·V + x → row of hs
  const at = new Int32Array(P).fill(-1);
  const hs: number[] = [];
  const unit = new Float64Array(H);
  let n = 0;
  for (let t = 0; t < P; t++) {
    if (score && !score[t]) continue;
    const x = xs[t];
    const key = ids[t] * V + x;
    let r = row.get(key);
    if (r === undefined) {
      // a new (cell, byte) pair: its state, once (a pair seen again has the same one)
      r = row.size;
      row.set(key, r);
      const o = ids[t] * H;
      for (let j = 0; j < H; j++) hs.push(Math.tanh(chat[o + j] + Wx[j * V + x]));
    }
    at[t] = r;
    const ho = r * H;
    for (let j = 0; j < H; j++) if (sgn(hs[ho + j]) === sgn(S[t * H + j])) unit[j]++;
    n++;
  }
  // pass 2: the readout of every distinct pair at once (readoutLogp's bits, four rows at a time)
  const logp = new Float64Array(row.size * V);
  readoutLogpRows(w, Float64Array.from(hs), row.size, logp);
  let bits = 0;
  for (let t = 0; t < P; t++) if (at[t] >= 0) bits += bitsOf(logp[at[t] * V + xs[t + 1]], floor);
  let agree = 0;
  for (let j = 0; j < H; j++) agree += unit[j];
  for (let j = 0; j < H; j++) unit[j] = n ? unit[j] / n : 0;
  return { bpc: n ? bits / n : 0, signAgreement: n ? agree / (n * H) : 0, unitAgreement: unit, positions: n };
}

/** Naive twin of `substituted`: every position's state and readout computed afresh. */
export function substitutedNaive(w: Weights, xs: Uint8Array, S: Float32Array, chat: Float64Array, ids: Int32Array, P: number, floor: number, score?: Uint8Array): { bpc: number; signAgreement: number } {
  const { H, Wx } = w;
  const h = new Float64Array(H);
  const logp = new Float64Array(V);
  let bits = 0;
  let agree = 0;
  let n = 0;
  for (let t = 0; t < P; t++) {
    if (score && !score[t]) continue;
    for (let j = 0; j < H; j++) {
      h[j] = Math.tanh(chat[ids[t] * H + j] + Wx[j * V + xs[t]]);
      if (sgn(h[j]) === sgn(S[t * H + j])) agree++;
    }
    readoutLogp(w, h, 0, logp);
    bits += bitsOf(logp[xs[t + 1]], floor);
    n++;
  }
  return { bpc: n ? bits / n : 0, signAgreement: n ? agree / (n * H) : 0 };
}

export interface TimingRow {
  set: FeatureSet;
  cells: number;
  carrierR2: number;
  signAgreement: number;
  bpc: number;
  heldoutBpc: number;
  heldoutSignAgreement: number;
  /** per unit j: R² of its own carrier under the cells (for the plot) */
  unitR2: Float64Array;
  chat: Float64Array;
  ids: Int32Array;
}

/** Per-unit carrier R² (0 where the unit's carrier does not vary). */
export function unitR2(c: Float64Array, H: number, chat: Float64Array, ids: Int32Array, P: number): Float64Array {
  const mean = new Float64Array(H);
  const res = new Float64Array(H);
  const tot = new Float64Array(H);
  for (let t = 0; t < P; t++) for (let j = 0; j < H; j++) mean[j] += c[t * H + j] / P;
  for (let t = 0; t < P; t++) {
    for (let j = 0; j < H; j++) {
      const v = c[t * H + j];
      res[j] += (v - chat[ids[t] * H + j]) ** 2;
      tot[j] += (v - mean[j]) ** 2;
    }
  }
  return res.map((r, j) => (tot[j] > 0 ? 1 - r / tot[j] : 0));
}

/** docs/definitions.md §6.1 for one feature set: in-sample figures and the even-fit / odd-score ones. */
export function timingRow(w: Weights, xs: Uint8Array, S: Float32Array, c: Float64Array, f: PrefixFeatures, set: FeatureSet, floor: number): TimingRow {
  const { H } = w;
  const P = xs.length - 1; // positions t = 0..N-2
  const cells = cellsOf(f, set, P);
  const { chat } = cellMeans(c, H, cells, P);
  const ins = substituted(w, xs, S, chat, cells.ids, P, floor);
  const even = new Uint8Array(P);
  const odd = new Uint8Array(P);
  for (let t = 0; t < P; t++) (t % 2 === 0 ? even : odd)[t] = 1;
  const held = cellMeans(c, H, cells, P, even);
  const out = substituted(w, xs, S, held.chat, cells.ids, P, floor, odd);
  return {
    set,
    cells: cells.nCells,
    carrierR2: carrierR2(c, H, chat, cells.ids, P),
    signAgreement: ins.signAgreement,
    bpc: ins.bpc,
    heldoutBpc: out.bpc,
    heldoutSignAgreement: out.signAgreement,
    unitR2: unitR2(c, H, chat, cells.ids, P),
    chat,
    ids: cells.ids,
  };
}

// ─── §6.2 pattern tables ─────────────────────────────────────────────────────────

export interface PatternRow {
  /** first position of the cell (names it) */
  first: number;
  chat: number;
  positions: number;
  ps: number;
  /** bytes v seen in the data with ĉ + Wx[j][v] ≥ 0, ascending */
  on: number[];
}

/** Unit j's table over cells: mean carrier, positions, PS count and the bytes that switch j on. */
export function patternTable(w: Weights, seen: readonly number[], chat: Float64Array, cells: Cells, ps: Uint8Array, j: number, P: number): PatternRow[] {
  const { H, Wx } = w;
  const rows: PatternRow[] = Array.from(cells.first, (first, k) => ({ first, chat: chat[k * H + j], positions: 0, ps: 0, on: [] as number[] }));
  for (let t = 0; t < P; t++) {
    rows[cells.ids[t]].positions++;
    rows[cells.ids[t]].ps += ps[t * H + j];
  }
  for (const r of rows) r.on = seen.filter((v) => r.chat + Wx[j * V + v] >= 0);
  return rows;
}

/** Table accuracy per unit: fraction of t < P with sign(ĉ_t[j] + Wx[j][x_t]) = sign S[t][j]. */
export function tableAccuracy(w: Weights, xs: Uint8Array, S: Float32Array, chat: Float64Array, ids: Int32Array, P: number): Float64Array {
  const { H, Wx } = w;
  const acc = new Float64Array(H);
  for (let t = 0; t < P; t++) {
    for (let j = 0; j < H; j++) if (sgn(chat[ids[t] * H + j] + Wx[j * V + xs[t]]) === sgn(S[t * H + j])) acc[j]++;
  }
  for (let j = 0; j < H; j++) acc[j] /= P;
  return acc;
}

/** Distinct bytes of the data, ascending. */
export function seenBytes(xs: Uint8Array): number[] {
  const s = new Uint8Array(V);
  for (const x of xs) s[x] = 1;
  return [...s.keys()].filter((v) => s[v]);
}
