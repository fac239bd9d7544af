// Truncated BPTT over one chunk (paper §2, eqs. 3-4; docs/definitions.md §2), restructured for speed in
// plain TypeScript. Same mathematics as the naive twin in lib/rnn/bptt.ts (read that
// first); only the two recurrences (Wh·S forward, Whᵀ·dz backward) stay per step. The
// readout and every weight-gradient outer product become matrix-matrix products over the
// whole chunk, blocked 4×4 so sixteen accumulators share each load:
//   Y  (K, V)  = Sc (K, H) · Wyᵀ + by         logits of the chunk's K ≤ bptt rows
//   dS (K, H)  = dY (K, V) · Wy (V, H)
//   dWy (V, H) += dYᵀ · Sc        dWh (H, H) += dZᵀ · Sp
// with Sc the chunk's states S[t], Sp the states S[t-1], dY = softmax - onehot, dZ the
// pre-activation gradients. K is padded up to a multiple of 4 with rows whose dY and dZ
// are 0, so the padding adds nothing. Needs H % 4 = 0.
//
// Precision: weights and states have float32 values (the forward pass is bit-identical to
// the naive twin on Float32Array), held in Float64Arrays because JS reads those faster
// (the backend keeps a float64 mirror of its float32 weights); gradients, moments and
// work buffers are float64.

import { V, paramCount } from './weights.ts';
import { DEFAULT_FLOOR } from './forward.ts';
import { ADAM, adamStep, gradSumSq, sgdStep, type AdamHyper } from './optim.ts';
import type { Backend, BackendFactory } from './backend.ts';

export interface BlockedWork {
  H: number;
  /** Rows allocated (a multiple of 4). */
  K: number;
  /** (K+1, H): hs[(k+1)*H + j] = S[start+k]_j, hs[j] = S[start-1]_j (float32 values, held in float64) */
  hs: Float64Array;
  /** (K, V): logits, then softmax, then dY in place */
  Y: Float64Array;
  /** (K, H): dS, then dZ in place */
  D: Float64Array;
  /** (H): Whᵀ·dz of the later step */
  dhnext: Float64Array;
}

export function blockedWork(H: number, maxL: number): BlockedWork {
  if (H % 4 !== 0) throw new Error(`blocked BPTT kernel needs H % 4 = 0, got H=${H}`);
  const K = Math.ceil(maxL / 4) * 4;
  return {
    H,
    K,
    hs: new Float64Array((K + 1) * H),
    Y: new Float64Array(K * V),
    D: new Float64Array(K * H),
    dhnext: new Float64Array(H),
  };
}

/**
 * Blocked chunk gradient: accumulates into `g` (the caller zeroes it), replaces `h` by the
 * last state, returns Σ -ln max(p, floor). Same contract as chunkGradNaive.
 */
export function chunkGradBlocked(
  g: Float64Array, // (paramCount(H)) gradient, authors' layout, accumulated
  h: Float32Array, // (H) S[start-1] in, S[start+L-1] out
  params: Float64Array, // (paramCount(H)) weights (float32 values held in float64), authors' layout
  w: BlockedWork,
  xs: Uint8Array, // (N) data; needs start+L < N
  start: number,
  L: number,
  floor: number,
): number {
  const { H, hs, Y, D, dhnext } = w;
  const K = Math.ceil(L / 4) * 4;
  if (K > w.K) throw new Error(`chunk of ${L} predictions exceeds the work buffers (${w.K})`);
  // offsets of the views, authors' layout: Wx (H,V), Wh (H,H), bh (H), Wy (V,H), by (V)
  const oWh = H * V;
  const obh = oWh + H * H;
  const oWy = obh + H;
  const oby = oWy + V * H;

  hs.set(h.subarray(0, H), 0);
  forwardRecurrence(hs, params, H, xs, start, L);
  for (let j = 0; j < H; j++) h[j] = hs[L * H + j];
  hs.fill(0, (L + 1) * H, (K + 1) * H); // padding rows
  readoutGemm(Y, params, oWy, oby, hs, H, K);
  const loss = softmaxRows(Y, xs, start, L, K, floor);
  backReadoutGemm(D, Y, params, oWy, H, K);
  gemmTN(g, oWy, Y, V, V, hs, H, H, K); // dWy += dYᵀ · Sc
  for (let k = 0; k < K; k++) for (let o = 0; o < V; o++) g[oby + o] += Y[k * V + o];
  backwardRecurrence(D, dhnext, hs, params, oWh, H, L);
  D.fill(0, L * H, K * H); // padding rows: dZ = 0
  gemmTN(g, oWh, D, H, H, hs, H, 0, K); // dWh += dZᵀ · Sp (Sp row k is hs row k)
  for (let k = 0; k < L; k++) {
    const x = xs[start + k];
    for (let i = 0; i < H; i++) {
      const dz = D[k * H + i];
      g[obh + i] += dz; // dbh
      g[i * V + x] += dz; // dWx[:, x_t]
    }
  }
  return loss;
}

/** z = Wx[:, x_t] + Wh·S[t-1] + bh, S[t] = tanh(z) for the chunk's L steps, four rows at a time. */
function forwardRecurrence(
  hs: Float64Array, // (K+1, H): row 0 given, rows 1..L written (float32 values)
  params: Float64Array,
  H: number,
  xs: Uint8Array,
  start: number,
  L: number,
): void {
  const oWh = H * V;
  const obh = oWh + H * H;
  for (let k = 0; k < L; k++) {
    const x = xs[start + k];
    const prev = k * H;
    const cur = prev + H;
    for (let i = 0; i < H; i += 4) {
      const r0 = oWh + i * H;
      const r1 = r0 + H;
      const r2 = r1 + H;
      const r3 = r2 + H;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let j = 0; j < H; j++) {
        const s = hs[prev + j];
        a0 += params[r0 + j] * s;
        a1 += params[r1 + j] * s;
        a2 += params[r2 + j] * s;
        a3 += params[r3 + j] * s;
      }
      hs[cur + i] = Math.fround(Math.tanh(Math.fround(params[i * V + x] + a0 + params[obh + i])));
      hs[cur + i + 1] = Math.fround(Math.tanh(Math.fround(params[(i + 1) * V + x] + a1 + params[obh + i + 1])));
      hs[cur + i + 2] = Math.fround(Math.tanh(Math.fround(params[(i + 2) * V + x] + a2 + params[obh + i + 2])));
      hs[cur + i + 3] = Math.fround(Math.tanh(Math.fround(params[(i + 3) * V + x] + a3 + params[obh + i + 3])));
    }
  }
}

/** Y[k][o] = by[o] + Σ_j Wy[o][j] · hs[k+1][j] for k < K, blocked 4×4. */
function readoutGemm(Y: Float64Array, params: Float64Array, oWy: number, oby: number, hs: Float64Array, H: number, K: number): void {
  for (let k = 0; k < K; k += 4) {
    const s0 = (k + 1) * H;
    const s1 = s0 + H;
    const s2 = s1 + H;
    const s3 = s2 + H;
    for (let o = 0; o < V; o += 4) {
      const w0 = oWy + o * H;
      const w1 = w0 + H;
      const w2 = w1 + H;
      const w3 = w2 + H;
      let c00 = params[oby + o], c01 = params[oby + o + 1], c02 = params[oby + o + 2], c03 = params[oby + o + 3];
      let c10 = c00, c11 = c01, c12 = c02, c13 = c03;
      let c20 = c00, c21 = c01, c22 = c02, c23 = c03;
      let c30 = c00, c31 = c01, c32 = c02, c33 = c03;
      for (let j = 0; j < H; j++) {
        const y0 = params[w0 + j], y1 = params[w1 + j], y2 = params[w2 + j], y3 = params[w3 + j];
        const h0 = hs[s0 + j], h1 = hs[s1 + j], h2 = hs[s2 + j], h3 = hs[s3 + j];
        c00 += y0 * h0; c01 += y1 * h0; c02 += y2 * h0; c03 += y3 * h0;
        c10 += y0 * h1; c11 += y1 * h1; c12 += y2 * h1; c13 += y3 * h1;
        c20 += y0 * h2; c21 += y1 * h2; c22 += y2 * h2; c23 += y3 * h2;
        c30 += y0 * h3; c31 += y1 * h3; c32 += y2 * h3; c33 += y3 * h3;
      }
      const r0 = k * V + o, r1 = r0 + V, r2 = r1 + V, r3 = r2 + V;
      Y[r0] = c00; Y[r0 + 1] = c01; Y[r0 + 2] = c02; Y[r0 + 3] = c03;
      Y[r1] = c10; Y[r1 + 1] = c11; Y[r1 + 2] = c12; Y[r1 + 3] = c13;
      Y[r2] = c20; Y[r2 + 1] = c21; Y[r2 + 2] = c22; Y[r2 + 3] = c23;
      Y[r3] = c30; Y[r3 + 1] = c31; Y[r3 + 2] = c32; Y[r3 + 3] = c33;
    }
  }
}

/** Rows k < L: loss, then dY = softmax - onehot(x_{t+1}) in place; rows L..K-1 zeroed. Returns Σ -ln max(p, floor). */
function softmaxRows(Y: Float64Array, xs: Uint8Array, start: number, L: number, K: number, floor: number): number {
  const maxLoss = -Math.log(floor);
  let loss = 0;
  for (let k = 0; k < L; k++) {
    const r = k * V;
    let max = -Infinity;
    for (let o = 0; o < V; o++) if (Y[r + o] > max) max = Y[r + o];
    const target = xs[start + k + 1];
    const logit = Y[r + target];
    let sum = 0;
    for (let o = 0; o < V; o++) {
      const e = Math.exp(Y[r + o] - max);
      Y[r + o] = e;
      sum += e;
    }
    const nll = max + Math.log(sum) - logit; // -ln p, exactly
    loss += nll < maxLoss ? nll : maxLoss;
    const inv = 1 / sum;
    for (let o = 0; o < V; o++) Y[r + o] *= inv;
    Y[r + target] -= 1;
  }
  Y.fill(0, L * V, K * V);
  return loss;
}

/** dS = dY · Wy: D[k][j] = Σ_o dY[k][o] Wy[o][j] for k < K, blocked 4×4. */
function backReadoutGemm(D: Float64Array, Y: Float64Array, params: Float64Array, oWy: number, H: number, K: number): void {
  for (let k = 0; k < K; k += 4) {
    const y0 = k * V, y1 = y0 + V, y2 = y1 + V, y3 = y2 + V;
    for (let j = 0; j < H; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let o = 0; o < V; o++) {
        const wr = oWy + o * H + j;
        const w0 = params[wr], w1 = params[wr + 1], w2 = params[wr + 2], w3 = params[wr + 3];
        const d0 = Y[y0 + o], d1 = Y[y1 + o], d2 = Y[y2 + o], d3 = Y[y3 + o];
        c00 += d0 * w0; c01 += d0 * w1; c02 += d0 * w2; c03 += d0 * w3;
        c10 += d1 * w0; c11 += d1 * w1; c12 += d1 * w2; c13 += d1 * w3;
        c20 += d2 * w0; c21 += d2 * w1; c22 += d2 * w2; c23 += d2 * w3;
        c30 += d3 * w0; c31 += d3 * w1; c32 += d3 * w2; c33 += d3 * w3;
      }
      const r0 = k * H + j, r1 = r0 + H, r2 = r1 + H, r3 = r2 + H;
      D[r0] = c00; D[r0 + 1] = c01; D[r0 + 2] = c02; D[r0 + 3] = c03;
      D[r1] = c10; D[r1 + 1] = c11; D[r1 + 2] = c12; D[r1 + 3] = c13;
      D[r2] = c20; D[r2 + 1] = c21; D[r2 + 2] = c22; D[r2 + 3] = c23;
      D[r3] = c30; D[r3 + 1] = c31; D[r3 + 2] = c32; D[r3 + 3] = c33;
    }
  }
}

/** dz = (1 - S²) ⊙ (dS + dhnext) into D (in place), dhnext = Whᵀ·dz, steps L-1 down to 0. */
function backwardRecurrence(D: Float64Array, dhnext: Float64Array, hs: Float64Array, params: Float64Array, oWh: number, H: number, L: number): void {
  dhnext.fill(0);
  for (let k = L - 1; k >= 0; k--) {
    const cur = (k + 1) * H;
    const d = k * H;
    for (let i = 0; i < H; i++) {
      const s = hs[cur + i];
      D[d + i] = (1 - s * s) * (D[d + i] + dhnext[i]);
    }
    if (k === 0) break;
    for (let j = 0; j < H; j += 4) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (let i = 0; i < H; i++) {
        const dz = D[d + i];
        const r = oWh + i * H + j;
        a0 += params[r] * dz; a1 += params[r + 1] * dz; a2 += params[r + 2] * dz; a3 += params[r + 3] * dz;
      }
      dhnext[j] = a0; dhnext[j + 1] = a1; dhnext[j + 2] = a2; dhnext[j + 3] = a3;
    }
  }
}

/**
 * C (M, H) += Aᵀ · B over K rows, blocked 4×4: C[m][j] += Σ_k A[k][m] · B[bOff + k*H + j].
 * C starts at g[cOff], row stride H; A is (K, M) row-major with row stride `lda`.
 */
function gemmTN(
  g: Float64Array, cOff: number,
  A: Float64Array, M: number, lda: number,
  B: Float64Array, H: number, bOff: number,
  K: number,
): void {
  for (let m = 0; m < M; m += 4) {
    for (let j = 0; j < H; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let k = 0; k < K; k++) {
        const a = k * lda + m;
        const a0 = A[a], a1 = A[a + 1], a2 = A[a + 2], a3 = A[a + 3];
        const b = bOff + k * H + j;
        const b0 = B[b], b1 = B[b + 1], b2 = B[b + 2], b3 = B[b + 3];
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      const r0 = cOff + m * H + j, r1 = r0 + H, r2 = r1 + H, r3 = r2 + H;
      g[r0] += c00; g[r0 + 1] += c01; g[r0 + 2] += c02; g[r0 + 3] += c03;
      g[r1] += c10; g[r1 + 1] += c11; g[r1 + 2] += c12; g[r1 + 3] += c13;
      g[r2] += c20; g[r2 + 1] += c21; g[r2 + 2] += c22; g[r2 + 3] += c23;
      g[r3] += c30; g[r3 + 1] += c31; g[r3 + 2] += c32; g[r3 + 3] += c33;
    }
  }
}

/** The blocked kernel as a training backend ('ts'): float32 weights, float64 gradients and moments. */
export const blockedBackend: BackendFactory = (params0, H, xs): Backend => {
  const params = Float32Array.from(params0);
  const p64 = Float64Array.from(params); // the kernel reads float64 (faster in JS); refreshed after every update
  const n = paramCount(H);
  const g = new Float64Array(n);
  const m = new Float64Array(n);
  const v = new Float64Array(n);
  const h = new Float32Array(H);
  let work = blockedWork(H, 4);
  return {
    kernel: 'ts',
    threads: 1,
    params,
    resetState: () => h.fill(0),
    chunk(start, L) {
      if (L > work.K) work = blockedWork(H, L);
      g.fill(0);
      return chunkGradBlocked(g, h, p64, work, xs, start, L, DEFAULT_FLOOR);
    },
    gradSumSq: () => gradSumSq(g),
    adam(scale, step, hp: AdamHyper = ADAM) {
      adamStep(params, g, m, v, scale, step, hp);
      p64.set(params);
    },
    sgd(scale, lr) {
      sgdStep(params, g, scale, lr);
      p64.set(params);
    },
    dispose: () => {},
  };
};
