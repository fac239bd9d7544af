// The counting baseline (docs/definitions.md §6.5): byte-level interpolated Kneser–Ney, the
// yardstick for what counting alone predicts. Trained on bytes x_0..x_{N-1}, for orders
// o = 1..K and every position j ≥ o (a full context of o bytes):
//   c(ctx, y)  how often byte y follows the o-byte context ctx = x_{j-o..j-1}
//   c(ctx)     = Σ_y c(ctx, y),   τ(ctx) = #{y : c(ctx, y) > 0}
// The base is the add-½ unigram over all 256 byte values, and each order interpolates
// with the one below it, with discount D (0 < D ≤ 1):
//   P_0(y)          = (count(y) + 0.5) / (N + 128)
//   P_o(y | ctx_o)  = max(c(ctx_o, y) − D, 0) / c(ctx_o) + D·τ(ctx_o)/c(ctx_o) · P_{o−1}(y | ctx_{o−1})
//   P_o = P_{o−1}   where c(ctx_o) = 0 (an unseen context passes the lower order through).
// Held-out bpc of order k: mean of −log2 P_k(h_{t+1} | h_{t−k+1..t}) over t = 0..M−2 of the
// held-out bytes h_0..h_{M−1}; a position with fewer than k bytes before it (t + 1 < k)
// uses the longest context it has (contexts come from the held-out text only).
//
// The fast kernel keeps every count in flat typed arrays behind two open-addressing hash
// tables keyed by integers: contexts as a trie (a context of order o is its order-(o−1)
// suffix's id × 256 + the byte before it), and (context, y) pairs as id × 256 + y. Time
// and memory are linear in N·K. `knNaive` is its twin: the definition above evaluated by
// rescanning the training text for every count (tiny inputs only).

/**
 * Open-addressing hash table (linear probing) from non-negative integer keys below 2^53 to
 * dense ids 0, 1, 2, … in order of insertion. Keys in a Float64Array (−1 = empty slot).
 */
export class IdTable {
  private keys: Float64Array;
  private ids: Int32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < 2 * capacity) cap *= 2;
    this.keys = new Float64Array(cap).fill(-1);
    this.ids = new Int32Array(cap);
    this.mask = cap - 1;
  }

  /** A slot index from the key's low and high 32 bits (murmur3's finalizer). */
  private home(k: number): number {
    let h = (k >>> 0) ^ Math.imul((k / 4294967296) >>> 0, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) & this.mask;
  }

  /** The id of `k`, or −1 when it is not in the table. */
  find(k: number): number {
    const keys = this.keys;
    for (let s = this.home(k); ; s = (s + 1) & this.mask) {
      const v = keys[s];
      if (v === k) return this.ids[s];
      if (v === -1) return -1;
    }
  }

  /** The id of `k`, adding it (with id = the old size) when it is new. */
  findOrAdd(k: number): number {
    const keys = this.keys;
    let s = this.home(k);
    for (; ; s = (s + 1) & this.mask) {
      const v = keys[s];
      if (v === k) return this.ids[s];
      if (v === -1) break;
    }
    const id = this.size++;
    keys[s] = k;
    this.ids[s] = id;
    if (2 * this.size > this.mask + 1) this.grow();
    return id;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldIds = this.ids;
    const cap = 2 * oldKeys.length;
    this.keys = new Float64Array(cap).fill(-1);
    this.ids = new Int32Array(cap);
    this.mask = cap - 1;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i];
      if (k === -1) continue;
      let s = this.home(k);
      while (this.keys[s] !== -1) s = (s + 1) & this.mask;
      this.keys[s] = k;
      this.ids[s] = oldIds[i];
    }
  }
}

/** An Int32Array at least `n` long holding `a`'s values (doubled, so appends stay linear). */
function ensure(a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  if (n <= a.length) return a;
  const b = new Int32Array(Math.max(n, 2 * a.length));
  b.set(a);
  return b;
}

export interface KnModel {
  /** Highest order counted. */
  K: number;
  /** Training length N. */
  N: number;
  /** P_0(y) = (count(y) + 0.5) / (N + 128), [256]. */
  p0: Float64Array;
  /** Contexts: id of (suffix id × 256 + the byte before it); id 0 is the empty context. */
  contexts: IdTable;
  /** Per context id (offset by one: the empty context is 0): c(ctx) and τ(ctx). */
  ctxCount: Int32Array;
  ctxTypes: Int32Array;
  /** (context id × 256 + y) → pair id, and c(ctx, y) per pair id. */
  pairs: IdTable;
  pairCount: Int32Array;
  /** Distinct contexts and (context, y) pairs of each order o = 1..K (index o − 1). */
  contextsPerOrder: number[];
  patternsPerOrder: number[];
}

/** Count the training bytes `xs` [N] for orders 1..K (docs/definitions.md §6.5). */
export function knTrain(xs: Uint8Array, K: number): KnModel {
  const N = xs.length;
  const unigram = new Float64Array(256);
  for (let j = 0; j < N; j++) unigram[xs[j]]++;
  const p0 = new Float64Array(256);
  for (let y = 0; y < 256; y++) p0[y] = (unigram[y] + 0.5) / (N + 128);
  const contexts = new IdTable(Math.min(N, 1 << 16) * K);
  const pairs = new IdTable(Math.min(N, 1 << 16) * K);
  let ctxCount = new Int32Array(1024);
  let ctxTypes = new Int32Array(1024);
  let pairCount = new Int32Array(1024);
  const contextsPerOrder = new Array<number>(K).fill(0);
  const patternsPerOrder = new Array<number>(K).fill(0);
  for (let j = 1; j < N; j++) {
    const y = xs[j];
    let prev = 0; // the empty context
    const top = Math.min(K, j);
    for (let o = 1; o <= top; o++) {
      // ctx = x_{j-o..j-1}: its suffix x_{j-o+1..j-1} (prev) extended by the byte x_{j-o}
      const before = contexts.size;
      const id = contexts.findOrAdd(prev * 256 + xs[j - o]) + 1;
      if (contexts.size > before) {
        contextsPerOrder[o - 1]++;
        ctxCount = ensure(ctxCount, id + 1);
        ctxTypes = ensure(ctxTypes, id + 1);
      }
      const pairsBefore = pairs.size;
      const p = pairs.findOrAdd(id * 256 + y);
      if (pairs.size > pairsBefore) {
        patternsPerOrder[o - 1]++;
        ctxTypes[id]++;
        pairCount = ensure(pairCount, p + 1);
      }
      pairCount[p]++;
      ctxCount[id]++;
      prev = id;
    }
  }
  return { K, N, p0, contexts, ctxCount, ctxTypes, pairs, pairCount, contextsPerOrder, patternsPerOrder };
}

/**
 * P_o(y | context) for every order o = 0..k at once into out [k + 1]; the context is
 * ctx[0..end), most recent byte last. Orders above `end` or above the first unseen
 * context repeat the last one (the pass-through of the definition).
 */
function probsAt(m: KnModel, ctx: Uint8Array, end: number, y: number, k: number, D: number, out: Float64Array): void {
  let p = m.p0[y];
  out[0] = p;
  let prev = 0;
  let seen = true;
  for (let o = 1; o <= k; o++) {
    if (seen && o <= end) {
      const id0 = m.contexts.find(prev * 256 + ctx[end - o]);
      if (id0 < 0) seen = false;
      else {
        const id = id0 + 1;
        const c = m.ctxCount[id];
        const pid = m.pairs.find(id * 256 + y);
        const cy = pid < 0 ? 0 : m.pairCount[pid];
        p = Math.max(cy - D, 0) / c + ((D * m.ctxTypes[id]) / c) * p;
        prev = id;
      }
    }
    out[o] = p;
  }
}

/** P_k(y | ctx) for all 256 y: ctx [L] are the bytes before the prediction, most recent last. */
export function knDistribution(m: KnModel, ctx: Uint8Array, k: number, D: number): Float64Array {
  const dist = new Float64Array(256);
  const tmp = new Float64Array(k + 1);
  for (let y = 0; y < 256; y++) {
    probsAt(m, ctx, ctx.length, y, k, D, tmp);
    dist[y] = tmp[k];
  }
  return dist;
}

export interface KnScore {
  /** bits[o] = mean −log2 P_o over the held-out positions, o = 0..K (o = 0: the unigram base). */
  bpc: Float64Array;
  /** Held-out positions scored: t = 0..M−2. */
  positions: number;
}

/** Held-out bpc of every order 0..K on `hs` [M] (docs/definitions.md §6.5). */
export function knScore(m: KnModel, hs: Uint8Array, D: number, onProgress?: (done: number, total: number) => void): KnScore {
  const K = m.K;
  const M = hs.length;
  const sum = new Float64Array(K + 1);
  const p = new Float64Array(K + 1);
  for (let t = 0; t + 1 < M; t++) {
    // the prediction of h_{t+1} from h_0..h_t: "end" = t + 1 bytes of context
    probsAt(m, hs, t + 1, hs[t + 1], K, D, p);
    for (let o = 0; o <= K; o++) sum[o] -= Math.log2(p[o]);
    if (onProgress && (t & 0xffff) === 0) onProgress(t, M - 1);
  }
  const positions = Math.max(M - 1, 0);
  const bpc = sum.map((s) => (positions ? s / positions : NaN));
  return { bpc, positions };
}

/** The naive twin: §6.5 evaluated literally, every count by rescanning `xs` (tiny inputs only). */
export function knNaiveProb(xs: Uint8Array, ctx: Uint8Array, y: number, k: number, D: number): number {
  const N = xs.length;
  let count = 0;
  for (let j = 0; j < N; j++) if (xs[j] === y) count++;
  const P = (o: number): number => {
    if (o === 0) return (count + 0.5) / (N + 128);
    if (o > ctx.length) return P(o - 1);
    const c = ctx.subarray(ctx.length - o);
    let cCtx = 0;
    let cCtxY = 0;
    const types = new Set<number>();
    for (let j = o; j < N; j++) {
      let match = true;
      for (let i = 0; i < o && match; i++) match = xs[j - o + i] === c[i];
      if (!match) continue;
      cCtx++;
      types.add(xs[j]);
      if (xs[j] === y) cCtxY++;
    }
    if (cCtx === 0) return P(o - 1);
    return Math.max(cCtxY - D, 0) / cCtx + ((D * types.size) / cCtx) * P(o - 1);
  };
  return P(k);
}

/** The naive twin of knScore for one order k: held-out bpc over t = 0..M−2. */
export function knNaiveBpc(xs: Uint8Array, hs: Uint8Array, k: number, D: number): number {
  let s = 0;
  for (let t = 0; t + 1 < hs.length; t++) s -= Math.log2(knNaiveProb(xs, hs.subarray(0, t + 1), hs[t + 1], k, D));
  return s / (hs.length - 1);
}
