// Paper §5.1 "Three failed approaches", the third: decisive chains. Implements docs/definitions.md §5
// (§5.1 baselines).
//
// The term Wh[j][k]·S[t-1][k] is decisive for node (t, j) when removing it flips the sign
// of the pre-activation: sign(z_t[j] - Wh[j][k]·S[t-1][k]) ≠ sign(z_t[j]) (sign(0) = +1).
// The decisive children of (t, j) are the nodes (t-1, k) of its decisive terms, and the
// depth reached from (t, j) is the length of the longest path of decisive terms:
//   depth(t, j) = 0                                       if (t, j) has no decisive term
//               = 1 + max_{k decisive for (t,j)} depth(t-1, k)   otherwise
// (t = 0 has none, as S[-1] = 0.) It is memoized over (t, j) by filling t = 0, 1, …, so
// a chain from (T, j) reaches depth d exactly when depth(T, j) ≥ d. The naive twin
// searches the paths recursively without memo.
//
// Layout (row-major): depth is (N, H): depth[t*H + j]. S and z are the trace's float32
// arrays; this reads them and runs no forward pass.

import type { Weights } from '../rnn/weights.ts';

type States = Float32Array | Float64Array;

/** Is Wh[j][k]·S[t-1][k] decisive for (t, j)? z is the trace's (N, H) pre-activation. */
export function isDecisive(w: Weights, z: States, S: States, t: number, j: number, k: number): boolean {
  const { H, Wh } = w;
  if (t === 0) return false;
  const zj = z[t * H + j];
  const term = Wh[j * H + k] * S[(t - 1) * H + k];
  return zj - term >= 0 !== zj >= 0;
}

/**
 * depth(t, j) for t = 0..N-1, (N, H), memoized forward in t.
 * A node with |z_t[j]| > max_k |Wh[j][k]| has no decisive term and is skipped: every
 * |Wh[j][k]·S[t-1][k]| ≤ max_k |Wh[j][k]| (|S| ≤ 1, and the float64 product of two float32
 * values is exact), and subtracting a double of smaller magnitude never changes the sign
 * nor gives 0. About half the nodes of a trained model qualify.
 */
export function decisiveDepth(w: Weights, z: States, S: States, N: number): Int32Array {
  const { H, Wh } = w;
  const depth = new Int32Array(N * H);
  const maxAbs = new Float64Array(H);
  for (let j = 0; j < H; j++) for (let k = 0; k < H; k++) maxAbs[j] = Math.max(maxAbs[j], Math.abs(Wh[j * H + k]));
  for (let t = 1; t < N; t++) {
    const prev = (t - 1) * H;
    for (let j = 0; j < H; j++) {
      const zj = z[t * H + j];
      if (Math.abs(zj) > maxAbs[j]) continue; // depth 0
      const pos = zj >= 0;
      const row = j * H;
      let best = 0;
      for (let k = 0; k < H; k++) {
        if (zj - Wh[row + k] * S[prev + k] >= 0 !== pos) {
          const c = 1 + depth[prev + k];
          if (c > best) best = c;
        }
      }
      depth[t * H + j] = best;
    }
  }
  return depth;
}

/** Naive twin: does a path of `d` decisive terms start at (t, j)? (no memo; small inputs) */
export function reachesNaive(w: Weights, z: States, S: States, t: number, j: number, d: number): boolean {
  if (d === 0) return true;
  for (let k = 0; k < w.H; k++) {
    if (isDecisive(w, z, S, t, j, k) && reachesNaive(w, z, S, t - 1, k, d - 1)) return true;
  }
  return false;
}

/** Fraction of nodes (T, j), T = firstT..lastT, all j, with depth ≥ d, for d = 1..maxDepth. */
export function reachFractions(depth: Int32Array, H: number, firstT: number, lastT: number, maxDepth: number): number[] {
  const counts = new Array<number>(maxDepth).fill(0);
  for (let T = firstT; T <= lastT; T++) {
    for (let j = 0; j < H; j++) {
      const v = depth[T * H + j];
      for (let d = 1; d <= maxDepth && d <= v; d++) counts[d - 1]++;
    }
  }
  const n = (lastT - firstT + 1) * H;
  return counts.map((c) => c / n);
}
