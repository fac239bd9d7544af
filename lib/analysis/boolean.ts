// Paper §3.2 "Boolean automaton" (docs/definitions.md §3.2).
//
// Margins: over the neuron-steps t = 0..T-2, j = 0..H-1, the pre-activation z_t[j]
// (eq. 3, z_t = Wx[:, x_t] + Wh·S[t-1] + bh): mean |z|, fraction with |z| > 1 and a
// histogram of |z|.
// Sign readout: the real dynamics, read out from sign(S[t]) (sign(0) = +1).
// Sign dynamics: a ±1 state s, all -1 before x_0; s_t = sign(Wx[:, x_t] + Wh·s_{t-1} + bh),
// read out from s_t. bpc of p(x_{t+1}) = softmax(Wy·s_t + by) with the §3.2 floor.

import { V, type Weights } from '../rnn/weights.ts';
import { readoutLogp, readoutLogpRows, bitsOf } from '../rnn/forward.ts';
import { signStatesDense } from '../rnn/wasm-dense.ts';

export interface MarginStats {
  meanAbs: number;
  /** fraction of neuron-steps with |z| > threshold */
  fracAbove: number;
  /** counts of |z| in [i·width, (i+1)·width) for i < nBins, the last entry is |z| ≥ max */
  hist: number[];
  count: number;
}

/**
 * Margin statistics of z (T, H): z[t*H + j], over t = 0..steps-1.
 * Bins of `width` up to `max` (max/width bins) plus one overflow bin.
 */
export function marginStats(z: Float32Array, H: number, steps: number, threshold: number, width: number, max: number): MarginStats {
  const nBins = Math.round(max / width);
  const hist = new Array<number>(nBins + 1).fill(0);
  let sum = 0;
  let above = 0;
  const n = steps * H;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(z[i]);
    sum += a;
    if (a > threshold) above++;
    const b = a >= max ? nBins : Math.min(nBins - 1, Math.floor(a / width));
    hist[b]++;
  }
  return { meanAbs: n ? sum / n : 0, fracAbove: n ? above / n : 0, hist, count: n };
}

/**
 * bits of predicting x_{t+1} from state rows hs (T, H): hs[t*H + j], for t = 0..T-2. The
 * log-probabilities of `block` rows at a time, four rows at a time within a block
 * (readoutLogpRows: readoutLogp's bits, in WebAssembly when it is there), so the memory is
 * block × 256 float64 (8 MiB) whatever T is: all rows at once took (T − 1) × 256 × 8 bytes,
 * 1 GiB at 512 KiB.
 */
export function readoutBits(w: Weights, hs: Float64Array | Float32Array | Int8Array, xs: Uint8Array, floor: number, block = 4096): Float64Array {
  const T = xs.length;
  const H = w.H;
  const n = Math.max(0, T - 1);
  const bits = new Float64Array(n);
  const rows = Math.max(4, block - (block % 4));
  const logp = new Float64Array(Math.min(n, rows) * V);
  const Wy64 = Float64Array.from(w.Wy);
  for (let start = 0; start < n; start += rows) {
    const m = Math.min(rows, n - start);
    readoutLogpRows(w, hs.subarray(start * H, (start + m) * H), m, logp, Wy64);
    for (let t = 0; t < m; t++) bits[start + t] = bitsOf(logp[t * V + xs[start + t + 1]], floor);
  }
  return bits;
}

/** Naive twin of readoutBits: one row's log softmax at a time. */
export function readoutBitsNaive(w: Weights, hs: ArrayLike<number>, xs: Uint8Array, floor: number): Float64Array {
  const T = xs.length;
  const bits = new Float64Array(Math.max(0, T - 1));
  const logp = new Float64Array(V);
  for (let t = 0; t + 1 < T; t++) {
    readoutLogp(w, hs, t * w.H, logp);
    bits[t] = bitsOf(logp[xs[t + 1]], floor);
  }
  return bits;
}

/**
 * sign(S) elementwise as ±1, sign(0) = +1. S is (T, H). Int8: the readout reads ±1 exactly
 * as from float64, at an eighth of the memory (64 MiB instead of 512 at 512 KiB, H = 128).
 */
export function signOf(S: Float32Array): Int8Array {
  const out = new Int8Array(S.length);
  for (let i = 0; i < S.length; i++) out[i] = S[i] >= 0 ? 1 : -1;
  return out;
}

/**
 * Sign dynamics: the ±1 states s_t (T, H): s[t*H + i], with s_{-1} = -1 everywhere and
 * s_t[i] = sign(Wx[i][x_t] + Σ_j Wh[i][j] s_{t-1}[j] + bh[i]), z rounded to float32 as
 * in the forward pass, sign(0) = +1. Int8, as signOf's.
 */
export function signDynamics(w: Weights, xs: Uint8Array): Int8Array {
  return signStatesDense(w, xs) ?? signDynamicsNaive(w, xs);
}

/** signDynamics one row of Wh at a time (its twin in WebAssembly: lib/rnn/wasm-dense.ts signStatesDense). */
export function signDynamicsNaive(w: Weights, xs: Uint8Array): Int8Array {
  const { H, Wx, Wh, bh } = w;
  const T = xs.length;
  const s = new Int8Array(T * H);
  const prev = new Float64Array(H).fill(-1);
  for (let t = 0; t < T; t++) {
    const x = xs[t];
    for (let i = 0; i < H; i++) {
      let acc = 0;
      const row = i * H; // Wh is (H, H): Wh[i*H + j]
      for (let j = 0; j < H; j++) acc += Wh[row + j] * prev[j];
      const zi = Math.fround(Wx[i * V + x] + acc + bh[i]); // Wx is (H, V): Wx[i*V + v]
      s[t * H + i] = zi >= 0 ? 1 : -1;
    }
    for (let i = 0; i < H; i++) prev[i] = s[t * H + i];
  }
  return s;
}

/** bits from a trace's natural-log probabilities logp (T, V), re-floored. */
export function bitsFromLogp(logp: Float64Array, xs: Uint8Array, floor: number): Float64Array {
  const T = xs.length;
  const bits = new Float64Array(Math.max(0, T - 1));
  for (let t = 0; t + 1 < T; t++) bits[t] = bitsOf(logp[t * V + xs[t + 1]], floor);
  return bits;
}
