// The forward pass of the Elman RNN over a byte sequence (paper eqs. 3-4, SPEC §0):
//   z_t  = Wx[:, x_t] + Wh·S[t-1] + bh        (S[-1] = 0)
//   S[t] = tanh(z_t)
//   p(x_{t+1} | x_0..x_t) = softmax(Wy·S[t] + by)
// z and S are float32 (the authors' precision); logits and log-probabilities float64.
// This is the one forward pass every analysis reads (via the `trace` stage). Interventions
// (ablation, carrier-only, …) run lib/rnn/hooks.ts, the same pass with hook points.

import { V, type Weights } from './weights.ts';

export interface Trace {
  T: number; // number of positions (= data length N)
  H: number;
  /** (T, H): z[t*H + i] pre-activation of unit i after reading x_t */
  z: Float32Array;
  /** (T, H): S[t*H + i] = tanh(z) */
  S: Float32Array;
  /** (T, V): log p(next byte = o) at position t, natural log */
  logp: Float64Array;
  /** (T-1): -log2 max(p(x_{t+1}), floor) for t = 0..T-2 */
  bits: Float64Array;
}

export const DEFAULT_FLOOR = 1e-8;

/** States only: z and S for every position (float32), from state S[-1] = h0 (default 0). */
export function forwardStates(w: Weights, xs: Uint8Array, h0?: Float32Array): { z: Float32Array; S: Float32Array } {
  const { H, Wx, Wh, bh } = w;
  const T = xs.length;
  const z = new Float32Array(T * H);
  const S = new Float32Array(T * H);
  const prev = new Float64Array(H);
  if (h0) for (let j = 0; j < H; j++) prev[j] = h0[j];
  for (let t = 0; t < T; t++) {
    const x = xs[t];
    for (let i = 0; i < H; i++) {
      let acc = 0;
      const row = i * H;
      for (let j = 0; j < H; j++) acc += Wh[row + j] * prev[j];
      const zi = Math.fround(Wx[i * V + x] + acc + bh[i]);
      z[t * H + i] = zi;
      S[t * H + i] = Math.tanh(zi);
    }
    for (let j = 0; j < H; j++) prev[j] = S[t * H + j];
  }
  return { z, S };
}

/**
 * Logits of one state row: out[o] = Wy[o]·h + by[o], summed over j in order from by[o].
 * h is read from `Hs` at offset `off` (length H). float64 throughout.
 */
export function readoutLogits(w: Weights, Hs: ArrayLike<number>, off: number, out: Float64Array, outOff = 0): void {
  const { H, Wy, by } = w;
  for (let o = 0; o < V; o++) {
    let acc = by[o];
    const row = o * H;
    for (let j = 0; j < H; j++) acc += Wy[row + j] * Hs[off + j];
    out[outOff + o] = acc;
  }
}

/** dst[o] = src[o] - log Σ exp(src) over V values (max subtracted first); dst may be src. */
export function logSoftmax(src: Float64Array, srcOff: number, dst: Float64Array, dstOff: number): void {
  let max = -Infinity;
  for (let o = 0; o < V; o++) if (src[srcOff + o] > max) max = src[srcOff + o];
  let sum = 0;
  for (let o = 0; o < V; o++) sum += Math.exp(src[srcOff + o] - max);
  const lse = max + Math.log(sum);
  for (let o = 0; o < V; o++) dst[dstOff + o] = src[srcOff + o] - lse;
}

/**
 * Log-softmax readout of one state row: out[o] = log softmax(Wy·h + by)[o].
 * h is read from `Hs` at offset `off` (length H). float64 throughout.
 */
export function readoutLogp(w: Weights, Hs: ArrayLike<number>, off: number, out: Float64Array, outOff = 0): void {
  readoutLogits(w, Hs, off, out, outOff);
  logSoftmax(out, outOff, out, outOff);
}

/** bits = -log2 max(p, floor) from a natural-log probability. */
export function bitsOf(logp: number, floor = DEFAULT_FLOOR): number {
  const p = Math.exp(logp);
  return -Math.log2(p > floor ? p : floor);
}

/** The full trace: states, log-probabilities at every position, bits per prediction. */
export function forwardTrace(w: Weights, xs: Uint8Array, floor = DEFAULT_FLOOR): Trace {
  const T = xs.length;
  const { H } = w;
  const { z, S } = forwardStates(w, xs);
  const logp = new Float64Array(T * V);
  for (let t = 0; t < T; t++) readoutLogp(w, S, t * H, logp, t * V);
  const bits = new Float64Array(Math.max(0, T - 1));
  for (let t = 0; t + 1 < T; t++) bits[t] = bitsOf(logp[t * V + xs[t + 1]], floor);
  return { T, H, z, S, logp, bits };
}

/** Mean of an array (0 for empty). float64 accumulation. */
export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return a.length ? s / a.length : 0;
}
