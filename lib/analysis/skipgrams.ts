// Paper §3.4 "UM learning without backpropagation" (docs/definitions.md §3.4): skip-gram counting.
//
// Offsets (d_1..d_k) in the skip-gram convention: byte x_{t-d} helps predict x_t. Over
// t = m..N-1 with m = max(d) (M = N - m positions), context c_t = (x_{t-d_1}, …, x_{t-d_k}),
// target y = x_t, and the in-sample conditional entropy (no smoothing)
//   H = -Σ_{c,y} n(c,y)/M · log2( n(c,y) / n(c) ).
// Greedy: from [1], add the offset in 1..maxOffset giving the lowest H (strictly lower
// wins, so ties go to the smaller offset), up to k offsets.

export interface SkipgramScore {
  offsets: number[];
  /** conditional entropy in bits per byte */
  bpc: number;
  /** distinct (context, target) pairs seen */
  patterns: number;
  /** distinct contexts seen */
  contexts: number;
}

/**
 * Conditional entropy of x_t given context ids: ctx[t] for t = m..N-1 (entries below m
 * are ignored). Context ids are dense integers < nCtx.
 */
export function conditionalEntropy(ctx: Int32Array, nCtx: number, xs: Uint8Array, m: number): { bpc: number; patterns: number; contexts: number } {
  const N = xs.length;
  const M = N - m;
  if (M <= 0) return { bpc: 0, patterns: 0, contexts: 0 };
  // counts of (context, target): key c*256 + y, densified through a Map
  const nC = new Int32Array(nCtx);
  const pairIndex = new Map<number, number>();
  const pairCount: number[] = [];
  const pairCtx: number[] = [];
  for (let t = m; t < N; t++) {
    const c = ctx[t];
    nC[c]++;
    const key = c * 256 + xs[t];
    const p = pairIndex.get(key);
    if (p === undefined) {
      pairIndex.set(key, pairCount.length);
      pairCount.push(1);
      pairCtx.push(c);
    } else pairCount[p]++;
  }
  let h = 0;
  for (let p = 0; p < pairCount.length; p++) {
    const n = pairCount[p];
    h -= (n / M) * Math.log2(n / nC[pairCtx[p]]);
  }
  let contexts = 0;
  for (let c = 0; c < nCtx; c++) if (nC[c] > 0) contexts++;
  return { bpc: h + 0, patterns: pairCount.length, contexts };
}

/**
 * Extend context ids by one offset d: new id of t = dense id of (ctx[t], x_{t-d}),
 * for t = m..N-1 (m ≥ d). Returns the new ids and their count.
 */
export function extendContexts(ctx: Int32Array, xs: Uint8Array, d: number, m: number): { ctx: Int32Array; nCtx: number } {
  const N = xs.length;
  const out = new Int32Array(N);
  const ids = new Map<number, number>();
  for (let t = m; t < N; t++) {
    const key = ctx[t] * 256 + xs[t - d];
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size;
      ids.set(key, id);
    }
    out[t] = id;
  }
  return { ctx: out, nCtx: ids.size };
}

/** Context ids of an offset list, built one offset at a time. */
export function contextIds(xs: Uint8Array, offsets: readonly number[]): { ctx: Int32Array; nCtx: number; m: number } {
  const m = Math.max(...offsets);
  let ctx: Int32Array = new Int32Array(xs.length);
  let nCtx = 1;
  for (const d of offsets) ({ ctx, nCtx } = extendContexts(ctx, xs, d, m));
  return { ctx, nCtx, m };
}

/** Score one offset list (fast path: integer context ids). */
export function skipgramScore(xs: Uint8Array, offsets: readonly number[]): SkipgramScore {
  const { ctx, nCtx, m } = contextIds(xs, offsets);
  return { offsets: [...offsets], ...conditionalEntropy(ctx, nCtx, xs, m) };
}

/** Naive twin of skipgramScore: string keys, the formula written out directly. */
export function skipgramScoreNaive(xs: Uint8Array, offsets: readonly number[]): SkipgramScore {
  const N = xs.length;
  const m = Math.max(...offsets);
  const nCY = new Map<string, number>();
  const nC = new Map<string, number>();
  for (let t = m; t < N; t++) {
    const c = offsets.map((d) => xs[t - d]).join(',');
    nC.set(c, (nC.get(c) ?? 0) + 1);
    const cy = `${c}|${xs[t]}`;
    nCY.set(cy, (nCY.get(cy) ?? 0) + 1);
  }
  const M = N - m;
  let h = 0;
  for (const [cy, n] of nCY) h -= (n / M) * Math.log2(n / nC.get(cy.split('|')[0])!);
  return { offsets: [...offsets], bpc: h + 0, patterns: nCY.size, contexts: nC.size };
}

/**
 * The greedy path: k = 1 is [1]; each step adds the offset in 1..maxOffset (not yet in the
 * list) with the strictly lowest H, scanning offsets in increasing order. Returns maxK
 * entries (k = 1..maxK).
 */
export function greedySkipgrams(xs: Uint8Array, maxOffset: number, maxK: number, progress?: (k: number) => void): SkipgramScore[] {
  const path: SkipgramScore[] = [skipgramScore(xs, [1])];
  let offsets = [1];
  while (offsets.length < maxK) {
    let best: SkipgramScore | null = null;
    const base = contextIds(xs, offsets);
    for (let d = 1; d <= maxOffset; d++) {
      if (offsets.includes(d)) continue;
      const m = Math.max(base.m, d);
      const ext = extendContexts(base.ctx, xs, d, m);
      const s = conditionalEntropy(ext.ctx, ext.nCtx, xs, m);
      if (best === null || s.bpc < best.bpc) {
        best = { offsets: [...offsets, d], ...s };
      }
    }
    if (best === null) break; // fewer than maxK offsets exist
    offsets = best.offsets;
    path.push(best);
    progress?.(offsets.length);
  }
  return path;
}
