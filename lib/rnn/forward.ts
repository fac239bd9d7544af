// The forward pass of the Elman RNN over a byte sequence (paper eqs. 3-4, docs/definitions.md §0):
//   z_t  = Wx[:, x_t] + Wh·S[t-1] + bh        (S[-1] = 0)
//   S[t] = tanh(z_t)
//   p(x_{t+1} | x_0..x_t) = softmax(Wy·S[t] + by)
// z and S are float32 (the authors' precision); logits and log-probabilities float64.
// This is the one forward pass every analysis reads (via the `trace` stage). Interventions
// (ablation, carrier-only, …) run lib/rnn/hooks.ts, the same pass with hook points.

import { V, type Weights } from './weights.ts';
import { Mv4 } from './wasm-dense.ts';

export interface Trace {
  T: number; // number of positions (= data length N)
  H: number;
  /** (T, H): z[t*H + i] pre-activation of unit i after reading x_t */
  z: Float32Array;
  /** (T, H): S[t*H + i] = tanh(z) */
  S: Float32Array;
  /** (T, V): log p(next byte = o) at position t, natural log */
  logp: Float64Array;
  /** (T-1): log p(x_{t+1}) at position t = 0..T-2 (natural log), the row of logp read at the next byte */
  lpNext: Float64Array;
  /** (T-1): -log2 max(p(x_{t+1}), floor) for t = 0..T-2 */
  bits: Float64Array;
}

/**
 * The trace as the `trace` stage stores it: the full (T, V) log-probabilities only up to a
 * stated size (they are 2 KiB per position in float64, 1 GiB at 512 KiB), the log-probability
 * of the next byte always. Every analysis that scores the model's own prediction reads
 * lpNext; a full row, where one is needed beyond that size, is readoutLogp of S's row.
 */
export type StoredTrace = Omit<Trace, 'logp'> & { logp?: Float64Array };

export const DEFAULT_FLOOR = 1e-8;

/**
 * One plain step of the forward pass: from prev = S[t-1] (H, float64) and byte x, writes
 * z_t and S[t] into z and S at `off` (it does not update prev). Four rows of Wh per pass
 * over prev, each row summed over j in order as in forwardStatesNaive, so the result is
 * bitwise identical to it. `Wh64` is a float64 copy of w.Wh (Float64Array.from(w.Wh),
 * exact). Shared with the hook forward's hook-free steps (lib/rnn/hooks.ts).
 */
export function plainStep(w: Weights, Wh64: Float64Array, x: number, prev: Float64Array, z: Float32Array, S: Float32Array, off: number): void {
  const { H, Wx, bh } = w;
  const Wh = Wh64;
  let i = 0;
  for (; i + 3 < H; i += 4) {
    const r0 = i * H, r1 = r0 + H, r2 = r1 + H, r3 = r2 + H;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (let j = 0; j < H; j++) {
      const p = prev[j];
      a0 += Wh[r0 + j] * p;
      a1 += Wh[r1 + j] * p;
      a2 += Wh[r2 + j] * p;
      a3 += Wh[r3 + j] * p;
    }
    const z0 = Math.fround(Wx[i * V + x] + a0 + bh[i]);
    const z1 = Math.fround(Wx[(i + 1) * V + x] + a1 + bh[i + 1]);
    const z2 = Math.fround(Wx[(i + 2) * V + x] + a2 + bh[i + 2]);
    const z3 = Math.fround(Wx[(i + 3) * V + x] + a3 + bh[i + 3]);
    z[off + i] = z0;
    z[off + i + 1] = z1;
    z[off + i + 2] = z2;
    z[off + i + 3] = z3;
    S[off + i] = Math.tanh(z0);
    S[off + i + 1] = Math.tanh(z1);
    S[off + i + 2] = Math.tanh(z2);
    S[off + i + 3] = Math.tanh(z3);
  }
  for (; i < H; i++) {
    let acc = 0;
    const row = i * H;
    for (let j = 0; j < H; j++) acc += Wh[row + j] * prev[j];
    const zi = Math.fround(Wx[i * V + x] + acc + bh[i]);
    z[off + i] = zi;
    S[off + i] = Math.tanh(zi);
  }
}

/**
 * States only: z and S for every position (float32), from state S[-1] = h0 (default 0).
 * plainStep at every position: bitwise identical to forwardStatesNaive
 * (test/rnn/forward.test.ts), about 1.6× faster at H = 128.
 */
export function forwardStates(w: Weights, xs: Uint8Array, h0?: Float32Array): { z: Float32Array; S: Float32Array } {
  const { H } = w;
  const Wh64 = Float64Array.from(w.Wh);
  const T = xs.length;
  const z = new Float32Array(T * H);
  const S = new Float32Array(T * H);
  const prev = new Float64Array(H);
  if (h0) for (let j = 0; j < H; j++) prev[j] = h0[j];
  for (let t = 0; t < T; t++) {
    const base = t * H;
    plainStep(w, Wh64, xs[t], prev, z, S, base);
    for (let j = 0; j < H; j++) prev[j] = S[base + j];
  }
  return { z, S };
}

/** Naive twin of forwardStates: one row of Wh at a time. */
export function forwardStatesNaive(w: Weights, xs: Uint8Array, h0?: Float32Array): { z: Float32Array; S: Float32Array } {
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

/**
 * Logits of four state rows at once: h is (4, H) float64, out receives (4, V) at outOff,
 * row i equal to readoutLogits of h's row i bit for bit (each logit summed over j in order
 * from by[o]). Two output rows × four states per pass over h. `Wy64` is a float64 copy of
 * w.Wy (Float64Array.from(w.Wy), exact), made once per run and not changed afterwards: the
 * WebAssembly kernel (Mv4, the same sums in the same order) keeps its own copy of it.
 */
export function readoutLogits4(w: Weights, Wy64: Float64Array, h: Float64Array, out: Float64Array, outOff: number): void {
  const { H, by } = w;
  const k = Mv4.for(Wy64, V, H);
  if (k) return k.run(h, 0, by, out, outOff, V);
  const h1o = H, h2o = 2 * H, h3o = 3 * H;
  const l0 = outOff, l1 = l0 + V, l2 = l1 + V, l3 = l2 + V;
  for (let q = 0; q < V; q += 2) {
    const row = q * H;
    const row1 = row + H;
    const b = by[q];
    const c = by[q + 1];
    let a0 = b, a1 = b, a2 = b, a3 = b;
    let e0 = c, e1 = c, e2 = c, e3 = c;
    for (let j = 0; j < H; j++) {
      const wt = Wy64[row + j];
      const wu = Wy64[row1 + j];
      const s0 = h[j], s1 = h[h1o + j], s2 = h[h2o + j], s3 = h[h3o + j];
      a0 += wt * s0;
      a1 += wt * s1;
      a2 += wt * s2;
      a3 += wt * s3;
      e0 += wu * s0;
      e1 += wu * s1;
      e2 += wu * s2;
      e3 += wu * s3;
    }
    out[l0 + q] = a0;
    out[l1 + q] = a1;
    out[l2 + q] = a2;
    out[l3 + q] = a3;
    out[l0 + q + 1] = e0;
    out[l1 + q + 1] = e1;
    out[l2 + q + 1] = e2;
    out[l3 + q + 1] = e3;
  }
}

/** readoutLogits4, then log softmax of each row: row i equals readoutLogp of h's row i bit for bit. */
export function readoutLogp4(w: Weights, Wy64: Float64Array, h: Float64Array, out: Float64Array, outOff: number): void {
  const k = Mv4.for(Wy64, V, w.H);
  if (k) return k.run(h, 0, w.by, out, outOff, V, true); // the same operations in WebAssembly
  readoutLogits4(w, Wy64, h, out, outOff);
  for (let i = 0; i < 4; i++) logSoftmax(out, outOff + i * V, out, outOff + i * V);
}

/**
 * log softmax readout of rows t = 0..T-1 of S (T, H) into logp (T, V): row t equals
 * readoutLogp(w, S, t*H, logp, t*V) bit for bit, four rows at a time (readoutLogp4; about
 * 2× faster at H = 128; test/rnn/forward.test.ts compares them).
 */
export function readoutLogpRows(w: Weights, S: ArrayLike<number>, T: number, logp: Float64Array, Wy64 = Float64Array.from(w.Wy)): void {
  const { H } = w;
  const h = new Float64Array(4 * H);
  let t = 0;
  for (; t + 3 < T; t += 4) {
    for (let k = 0; k < 4 * H; k++) h[k] = S[t * H + k];
    readoutLogp4(w, Wy64, h, logp, t * V);
  }
  for (; t < T; t++) readoutLogp(w, S, t * H, logp, t * V);
}

/** The full trace: states, log-probabilities at every position, bits per prediction. */
export function forwardTrace(w: Weights, xs: Uint8Array, floor = DEFAULT_FLOOR): Trace {
  const T = xs.length;
  const { H } = w;
  const { z, S } = forwardStates(w, xs);
  const logp = new Float64Array(T * V);
  readoutLogpRows(w, S, T, logp);
  const { lpNext, bits } = nextOf(logp, xs, floor);
  return { T, H, z, S, logp, lpNext, bits };
}

/** lpNext[t] = logp[t, x_{t+1}] and its bits, t = 0..T-2. */
function nextOf(logp: Float64Array, xs: Uint8Array, floor: number): { lpNext: Float64Array; bits: Float64Array } {
  const n = Math.max(0, xs.length - 1);
  const lpNext = new Float64Array(n);
  const bits = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    lpNext[t] = logp[t * V + xs[t + 1]];
    bits[t] = bitsOf(lpNext[t], floor);
  }
  return { lpNext, bits };
}

/** Positions per block of forwardTraceStored's readout (a multiple of 4: readoutLogpRows's grouping). */
export const TRACE_BLOCK = 4096;

/**
 * The trace the `trace` stage stores, in bounded memory: the states as forwardStates gives
 * them, then the readout over blocks of TRACE_BLOCK positions, keeping of each row the
 * log-probability of the next byte (and the whole row only when `keepLogp`). Every row is
 * readoutLogp's, so lpNext, bits and logp equal forwardTrace's bit for bit
 * (test/rnn/forward.test.ts); without the full rows the readout needs TRACE_BLOCK × V
 * float64 (8 MiB) instead of T × V.
 */
export function forwardTraceStored(w: Weights, xs: Uint8Array, keepLogp: boolean, floor = DEFAULT_FLOOR): StoredTrace {
  const T = xs.length;
  const { H } = w;
  const { z, S } = forwardStates(w, xs);
  const Wy64 = Float64Array.from(w.Wy);
  const logp = keepLogp ? new Float64Array(T * V) : undefined;
  const block = keepLogp ? null : new Float64Array(TRACE_BLOCK * V);
  const n = Math.max(0, T - 1);
  const lpNext = new Float64Array(n);
  const bits = new Float64Array(n);
  for (let t0 = 0; t0 < T; t0 += TRACE_BLOCK) {
    const m = Math.min(TRACE_BLOCK, T - t0);
    const rows = logp ? logp.subarray(t0 * V, (t0 + m) * V) : block!;
    readoutLogpRows(w, S.subarray(t0 * H, (t0 + m) * H), m, rows, Wy64);
    for (let t = t0; t < t0 + m && t < n; t++) {
      lpNext[t] = rows[(t - t0) * V + xs[t + 1]];
      bits[t] = bitsOf(lpNext[t], floor);
    }
  }
  return { T, H, z, S, logp, lpNext, bits };
}

/**
 * The (T, V) log-probabilities of a stored trace: its own when the trace stage kept them,
 * else readoutLogpRows over its states (the same rows, bit for bit; T × V float64).
 */
export function logpOf(tr: StoredTrace, w: Weights): Float64Array {
  if (tr.logp) return tr.logp;
  const logp = new Float64Array(tr.T * V);
  readoutLogpRows(w, tr.S, tr.T, logp);
  return logp;
}

/** Naive twin of forwardTrace: forwardStatesNaive, then readoutLogp one row at a time. */
export function forwardTraceNaive(w: Weights, xs: Uint8Array, floor = DEFAULT_FLOOR): Trace {
  const T = xs.length;
  const { H } = w;
  const { z, S } = forwardStatesNaive(w, xs);
  const logp = new Float64Array(T * V);
  for (let t = 0; t < T; t++) readoutLogp(w, S, t * H, logp, t * V);
  const { lpNext, bits } = nextOf(logp, xs, floor);
  return { T, H, z, S, logp, lpNext, bits };
}

/** Mean of an array (0 for empty). float64 accumulation. */
export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return a.length ? s / a.length : 0;
}
