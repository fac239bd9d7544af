// Paper §3.3 "Factor map": Table 1 and the explanation ladder (docs/definitions.md §3.3).
//
// State offsets: for the state S[t], offset d means the byte x_{t-d} (d = 0 is the byte
// S[t] has just read). The candidate offsets are the §3.4 greedy skip-gram list, used
// as state offsets. Positions t = m..N-1 with m = the largest candidate offset.
//
// Table 1: for neuron j and a pair (d1, d2), group positions by the cell (x_{t-d1}, x_{t-d2}),
// take the in-sample mean of S[t]_j per cell and score
//   R² = 1 - Σ_t (S[t]_j - mean_cell(t))² / Σ_t (S[t]_j - mean)²     (0 when the total is 0).
// Ladder: each neuron is replaced by its cell mean under a key, and the trained readout
// p(x_{t+1}) = softmax(Wy·ĥ_t + by) is scored in bits; X% (eq. 2) = (8 - H)/(8 - H_trained).

import { V, type Weights } from '../rnn/weights.ts';
import { TRACE_BLOCK, readoutLogpRows, bitsOf } from '../rnn/forward.ts';

// ─── positions and cells ───────────────────────────────────────────────────────────

/** Unordered pairs (a, b), a < b, of list indices, in loop order (a outer, b inner). */
export function pairsInOrder(n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) out.push([a, b]);
  return out;
}

/** Dense ids 0..nCells-1 of integer keys, in order of first appearance. */
export function denseIds(keys: ArrayLike<number>): { ids: Int32Array; nCells: number } {
  const ids = new Int32Array(keys.length);
  const map = new Map<number, number>();
  for (let p = 0; p < keys.length; p++) {
    let id = map.get(keys[p]);
    if (id === undefined) {
      id = map.size;
      map.set(keys[p], id);
    }
    ids[p] = id;
  }
  return { ids, nCells: map.size };
}

/** Keys of the byte tuple (x_{t-d} for d in ds) at positions t = m..m+P-1. */
export function byteKeys(xs: Uint8Array, ds: readonly number[], m: number, P: number): Float64Array {
  const keys = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    let k = 0;
    for (const d of ds) k = k * V + xs[m + p - d];
    keys[p] = k;
  }
  return keys;
}

/**
 * Neuron-major copy Sn (H, P): Sn[j*P + p] = S[(m+p)*H + j]. float32 like S: every value
 * reads back as the same float64, at half the memory (256 MiB at 512 KiB, H = 128).
 */
export function neuronMajor(S: Float32Array, H: number, m: number, P: number): Float32Array {
  const Sn = new Float32Array(H * P);
  for (let p = 0; p < P; p++) for (let j = 0; j < H; j++) Sn[j * P + p] = S[(m + p) * H + j];
  return Sn;
}

// ─── R² of cell means (fast, and its naive twin) ───────────────────────────────────

/**
 * R² of every neuron's in-sample cell means. Sn is (H, P): Sn[j*P + p]; ids (P) are the
 * cells, shared by all neurons. out (H) gets R² per neuron. Flat accumulators, two passes.
 */
export function cellR2(out: Float64Array, Sn: Float32Array | Float64Array, ids: Int32Array, nCells: number, H: number, P: number): void {
  const count = new Float64Array(nCells);
  for (let p = 0; p < P; p++) count[ids[p]]++;
  const sum = new Float64Array(nCells);
  for (let j = 0; j < H; j++) {
    const row = j * P;
    sum.fill(0);
    let total = 0;
    for (let p = 0; p < P; p++) {
      const v = Sn[row + p];
      sum[ids[p]] += v;
      total += v;
    }
    const mu = total / P;
    for (let c = 0; c < nCells; c++) sum[c] /= count[c]; // now cell means
    let ssRes = 0;
    let ssTot = 0;
    for (let p = 0; p < P; p++) {
      const v = Sn[row + p];
      const r = v - sum[ids[p]];
      const d = v - mu;
      ssRes += r * r;
      ssTot += d * d;
    }
    out[j] = ssTot > 0 ? 1 - ssRes / ssTot : 0;
  }
}

/** Naive twin of cellR2 for one neuron: string-keyed groups of the values. */
export function cellR2Naive(values: number[], keys: string[]): number {
  const groups = new Map<string, number[]>();
  keys.forEach((k, i) => (groups.get(k) ?? groups.set(k, []).get(k)!).push(values[i]));
  const avg = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const mu = avg(values);
  let ssRes = 0;
  let ssTot = 0;
  for (const g of groups.values()) {
    const m = avg(g);
    for (const v of g) ssRes += (v - m) ** 2;
  }
  for (const v of values) ssTot += (v - mu) ** 2;
  return ssTot > 0 ? 1 - ssRes / ssTot : 0;
}

// ─── Table 1 ──────────────────────────────────────────────────────────────────────

export interface FactorMap {
  offsets: number[];
  /** first position m (= max offset); positions t = m..N-1 */
  m: number;
  P: number;
  pairs: [number, number][];
  /** (H, nPairs): r2[j*nPairs + q] */
  r2: Float64Array;
  /** (H): index q of each neuron's best pair (ties to the first in loop order) */
  best: Int32Array;
  bestR2: Float64Array;
  /** (H, n): R² of each single offset */
  r2Single: Float64Array;
  bestSingle: Int32Array;
  bestSingleR2: Float64Array;
}

function argmaxRows(r2: Float64Array, H: number, n: number): { best: Int32Array; bestR2: Float64Array } {
  const best = new Int32Array(H);
  const bestR2 = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    let q0 = 0;
    for (let q = 1; q < n; q++) if (r2[j * n + q] > r2[j * n + q0]) q0 = q;
    best[j] = q0;
    bestR2[j] = r2[j * n + q0];
  }
  return { best, bestR2 };
}

/** Table 1's data: every neuron's R² for each pair and each single offset. */
export function factorMap(xs: Uint8Array, S: Float32Array, H: number, offsets: readonly number[]): FactorMap {
  const N = xs.length;
  const m = Math.max(...offsets);
  const P = N - m;
  const Sn = neuronMajor(S, H, m, P);
  const pairs = pairsInOrder(offsets.length);
  const nq = pairs.length;
  const r2 = new Float64Array(H * nq);
  const col = new Float64Array(H);
  pairs.forEach(([a, b], q) => {
    const { ids, nCells } = denseIds(byteKeys(xs, [offsets[a], offsets[b]], m, P));
    cellR2(col, Sn, ids, nCells, H, P);
    for (let j = 0; j < H; j++) r2[j * nq + q] = col[j];
  });
  const n = offsets.length;
  const r2Single = new Float64Array(H * n);
  offsets.forEach((d, a) => {
    const { ids, nCells } = denseIds(byteKeys(xs, [d], m, P));
    cellR2(col, Sn, ids, nCells, H, P);
    for (let j = 0; j < H; j++) r2Single[j * n + a] = col[j];
  });
  const { best, bestR2 } = argmaxRows(r2, H, nq);
  const single = argmaxRows(r2Single, H, n);
  return { offsets: [...offsets], m, P, pairs, r2, best, bestR2, r2Single, bestSingle: single.best, bestSingleR2: single.bestR2 };
}

export interface PairGroup {
  /** pair index in loop order */
  q: number;
  /** (list[a], list[b]) */
  pair: [number, number];
  neurons: number;
  meanR2: number;
}

/**
 * Neurons grouped by best pair, largest first (ties: the pair first in loop order).
 * Returns all non-empty groups; Table 1 shows the first `top` and pools the rest.
 */
export function pairGroups(fm: FactorMap): PairGroup[] {
  const nq = fm.pairs.length;
  const count = new Array<number>(nq).fill(0);
  const sum = new Array<number>(nq).fill(0);
  fm.best.forEach((q, j) => {
    count[q]++;
    sum[q] += fm.bestR2[j];
  });
  const groups: PairGroup[] = [];
  for (let q = 0; q < nq; q++) {
    if (count[q] === 0) continue;
    const [a, b] = fm.pairs[q];
    groups.push({ q, pair: [fm.offsets[a], fm.offsets[b]], neurons: count[q], meanR2: sum[q] / count[q] });
  }
  return groups.sort((g, h) => h.neurons - g.neurons || g.q - h.q);
}

// ─── the explanation ladder ───────────────────────────────────────────────────────

/** word_len[t]: consecutive non-whitespace bytes ending at t (space, \n, \t count 0), capped. */
export function wordLength(xs: Uint8Array, cap: number): Int32Array {
  const out = new Int32Array(xs.length);
  let run = 0;
  for (let t = 0; t < xs.length; t++) {
    const x = xs[t];
    run = x === 0x20 || x === 0x0a || x === 0x09 ? 0 : run + 1;
    out[t] = Math.min(run, cap);
  }
  return out;
}

/** in_tag[t]: 1 after '<', 0 after '>', else unchanged; x_t itself included; starts at 0. */
export function inTag(xs: Uint8Array): Int32Array {
  const out = new Int32Array(xs.length);
  let s = 0;
  for (let t = 0; t < xs.length; t++) {
    if (xs[t] === 0x3c) s = 1;
    else if (xs[t] === 0x3e) s = 0;
    out[t] = s;
  }
  return out;
}

/**
 * Fill neuron j's column of hs (P, H): hs[p*H + j] = the mean of Sn[j] over its cell
 * ids[p], fitted on the first nFit positions (a cell never seen in the fit gives 0).
 */
export function fillCellMeans(hs: Float64Array, Sn: Float32Array | Float64Array, ids: Int32Array, nCells: number, j: number, H: number, P: number, nFit = P): void {
  const sum = new Float64Array(nCells);
  const count = new Float64Array(nCells);
  const row = j * P;
  for (let p = 0; p < nFit; p++) {
    sum[ids[p]] += Sn[row + p];
    count[ids[p]]++;
  }
  for (let p = 0; p < P; p++) hs[p * H + j] = count[ids[p]] > 0 ? sum[ids[p]] / count[ids[p]] : 0;
}

/**
 * Mean bits of the readout of hs (P, H) at positions t = m..m+nScore-1, each predicting
 * x_{t+1}: -log2 max(softmax(Wy·hs[t-m] + by)[x_{t+1}], floor).
 */
export function readoutBpc(w: Weights, hs: Float64Array, xs: Uint8Array, m: number, nScore: number, floor: number): number {
  // each row as readoutLogp gives it, four at a time, over blocks of positions (the whole
  // (nScore, V) float64 would be 1 GiB at 512 KiB); the sum in the same order
  const { H } = w;
  const Wy64 = Float64Array.from(w.Wy);
  const logp = new Float64Array(Math.min(TRACE_BLOCK, nScore) * V);
  let sum = 0;
  for (let p0 = 0; p0 < nScore; p0 += TRACE_BLOCK) {
    const n = Math.min(TRACE_BLOCK, nScore - p0);
    readoutLogpRows(w, hs.subarray(p0 * H, (p0 + n) * H), n, logp, Wy64);
    for (let p = p0; p < p0 + n; p++) sum += bitsOf(logp[(p - p0) * V + xs[m + p + 1]], floor);
  }
  return nScore > 0 ? sum / nScore : 0;
}

/** X% of eq. 2: (8 - H) / (8 - H_trained) × 100. */
export function explainedPercent(h: number, hTrained: number): number {
  return ((8 - h) / (8 - hTrained)) * 100;
}

export interface Ladder {
  /** state offset of each neuron's second byte in levels 1-3 */
  d2: Int32Array;
  twoOffset: number;
  wordLen: number;
  inTag: number;
  /** level 1 with each neuron's own Table 1 pair */
  freeBestPair: number;
  /** number of scored positions t = m..N-2 */
  nScore: number;
}

/**
 * The three ladder levels and the free-best-pair variant. Cell means are fitted over
 * t = m..N-1 (docs/definitions.md §3.3; `fitLastState = false` fits over t = m..N-2 instead, the scored
 * positions only) and scored over t = m..N-2. d1 is state offset `d1` (it must be in the list);
 * d2 is the neuron's best partner of d1 by Table 1's R² (ties to the first in list order).
 */
export function explanationLadder(w: Weights, xs: Uint8Array, S: Float32Array, fm: FactorMap, d1: number, wordLenCap: number, floor: number, fitLastState = true): Ladder {
  const { H } = w;
  const { m, P, offsets, pairs } = fm;
  const nq = pairs.length;
  const i1 = offsets.indexOf(d1);
  if (i1 < 0) throw new Error(`factor-map: the ladder needs state offset ${d1} among the candidate offsets [${offsets.join(', ')}]`);
  const Sn = neuronMajor(S, H, m, P);
  // d2 per neuron: the partner b ≠ i1 in list order maximizing R² of the pair {i1, b}
  const qOf = (a: number, b: number) => pairs.findIndex(([x, y]) => (x === a && y === b) || (x === b && y === a));
  const d2 = new Int32Array(H);
  for (let j = 0; j < H; j++) {
    let bestB = -1;
    let bestR = -Infinity;
    for (let b = 0; b < offsets.length; b++) {
      if (b === i1) continue;
      const r = fm.r2[j * nq + qOf(i1, b)];
      if (r > bestR) {
        bestR = r;
        bestB = b;
      }
    }
    d2[j] = offsets[bestB];
  }
  const wl = wordLength(xs, wordLenCap);
  const tag = inTag(xs);
  // One level: neurons with the same offsets share cell ids; each gets its own cell means.
  const levelBpc = (keyOf: (p: number, byteKey: number) => number, offsetsOf: (j: number) => number[]) => {
    const groups = new Map<string, number[]>();
    for (let j = 0; j < H; j++) {
      const sig = offsetsOf(j).join(',');
      (groups.get(sig) ?? groups.set(sig, []).get(sig)!).push(j);
    }
    const hs = new Float64Array(P * H);
    for (const neurons of groups.values()) {
      const bk = byteKeys(xs, offsetsOf(neurons[0]), m, P);
      for (let p = 0; p < P; p++) bk[p] = keyOf(p, bk[p]);
      const { ids, nCells } = denseIds(bk);
      for (const j of neurons) fillCellMeans(hs, Sn, ids, nCells, j, H, P, fitLastState ? P : P - 1);
    }
    return readoutBpc(w, hs, xs, m, P - 1, floor);
  };
  const two = (j: number) => [d1, d2[j]];
  const ownPair = (j: number) => pairs[fm.best[j]].map((a) => offsets[a]);
  return {
    d2,
    twoOffset: levelBpc((_p, k) => k, two),
    wordLen: levelBpc((p, k) => k * (wordLenCap + 1) + wl[m + p], two),
    inTag: levelBpc((p, k) => (k * (wordLenCap + 1) + wl[m + p]) * 2 + tag[m + p], two),
    freeBestPair: levelBpc((_p, k) => k, ownPair),
    nScore: P - 1,
  };
}
