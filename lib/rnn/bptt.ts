// Truncated BPTT over one chunk (paper §2, eqs. 3-4; docs/definitions.md §2), the naive twin.
//
// This is the reference every faster kernel (lib/rnn/bptt-blocked.ts, the WebAssembly
// kernel in asm/rnn.ts) is tested against, and the one the float64 finite-difference test
// checks. It is written per time step, in the order of min-char-rnn, and works on
// Float32Array (training precision: every stored value rounds to float32) or on
// Float64Array (the gradient check) alike.
//
// A chunk covers positions t = start .. start+L-1; position t reads x_t and predicts
// x_{t+1}. Forward, from the carried state h = S[start-1]:
//   z_t  = Wx[:, x_t] + Wh·S[t-1] + bh          S[t] = tanh(z_t)
//   p_t  = softmax(Wy·S[t] + by)                loss_t = -ln max(p_t[x_{t+1}], floor)
// Backward, summed over the chunk, with no gradient into the carried state:
//   dy_t = p_t - onehot(x_{t+1})                (the usual softmax/cross-entropy
//          gradient; the floor only changes the loss value, and only when p < floor)
//   dWy += dy_t ⊗ S[t]     dby += dy_t
//   dS[t] = Wyᵀ·dy_t + dhnext                   dz_t = (1 - S[t]²) ⊙ dS[t]
//   dWx[:, x_t] += dz_t    dbh += dz_t          dWh += dz_t ⊗ S[t-1]
//   dhnext = Whᵀ·dz_t                           (for step t-1; dropped at the chunk start)

import { V, views } from './weights.ts';

export type FloatArray = Float32Array | Float64Array;

/** A fresh zeroed array of the same element type as `like`. */
export function sameType<A extends FloatArray>(like: A, n: number): A {
  return (like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n)) as A;
}

/**
 * Naive chunk gradient. Accumulates the chunk's summed gradient into `g` (the caller
 * zeroes it) and replaces `h` by the chunk's last state S[start+L-1].
 * Returns Σ_t -ln max(p_t[x_{t+1}], floor) in float64.
 */
export function chunkGradNaive<A extends FloatArray>(
  g: A, // (paramCount(H)) gradient, authors' layout, accumulated
  h: A, // (H) in: S[start-1] (zeros at the epoch start); out: S[start+L-1]
  params: A, // (paramCount(H)) weights, authors' layout
  H: number,
  xs: Uint8Array, // (N) data; needs start+L < N
  start: number,
  L: number,
  floor: number,
): number {
  const { Wx, Wh, bh, Wy, by } = views(params, H);
  const gv = views(g, H);
  const zs = sameType(params, L * H); // (L, H): zs[k*H + i] = z_{start+k}
  const hs = sameType(params, (L + 1) * H); // (L+1, H): hs[(k+1)*H + i] = S[start+k], hs[0..H) = S[start-1]
  const ps = sameType(params, L * V); // (L, V): ps[k*V + o] = p_{start+k}(o)
  const logits = new Float64Array(V);
  const maxLoss = -Math.log(floor);
  for (let j = 0; j < H; j++) hs[j] = h[j];
  let loss = 0;

  for (let k = 0; k < L; k++) {
    const x = xs[start + k];
    const prev = k * H;
    const cur = (k + 1) * H;
    for (let i = 0; i < H; i++) {
      let acc = 0;
      for (let j = 0; j < H; j++) acc += Wh[i * H + j] * hs[prev + j];
      zs[k * H + i] = Wx[i * V + x] + acc + bh[i];
      hs[cur + i] = Math.tanh(zs[k * H + i]);
    }
    let max = -Infinity;
    for (let o = 0; o < V; o++) {
      let acc = by[o];
      for (let j = 0; j < H; j++) acc += Wy[o * H + j] * hs[cur + j];
      logits[o] = acc;
      if (acc > max) max = acc;
    }
    let sum = 0;
    for (let o = 0; o < V; o++) sum += Math.exp(logits[o] - max);
    for (let o = 0; o < V; o++) ps[k * V + o] = Math.exp(logits[o] - max) / sum;
    const nll = max + Math.log(sum) - logits[xs[start + k + 1]]; // -ln p, exactly
    loss += nll < maxLoss ? nll : maxLoss;
  }

  const dy = sameType(params, V);
  const dh = sameType(params, H);
  const dz = sameType(params, H);
  const dhnext = sameType(params, H);
  for (let k = L - 1; k >= 0; k--) {
    const x = xs[start + k];
    const target = xs[start + k + 1];
    const prev = k * H;
    const cur = (k + 1) * H;
    for (let o = 0; o < V; o++) dy[o] = ps[k * V + o] - (o === target ? 1 : 0);
    for (let o = 0; o < V; o++) {
      gv.by[o] += dy[o];
      for (let j = 0; j < H; j++) gv.Wy[o * H + j] += dy[o] * hs[cur + j];
    }
    for (let j = 0; j < H; j++) {
      let acc = dhnext[j];
      for (let o = 0; o < V; o++) acc += Wy[o * H + j] * dy[o];
      dh[j] = acc;
    }
    for (let i = 0; i < H; i++) dz[i] = (1 - hs[cur + i] * hs[cur + i]) * dh[i];
    for (let i = 0; i < H; i++) {
      gv.bh[i] += dz[i];
      gv.Wx[i * V + x] += dz[i];
      for (let j = 0; j < H; j++) gv.Wh[i * H + j] += dz[i] * hs[prev + j];
    }
    for (let j = 0; j < H; j++) {
      let acc = 0;
      for (let i = 0; i < H; i++) acc += Wh[i * H + j] * dz[i];
      dhnext[j] = acc;
    }
  }
  for (let j = 0; j < H; j++) h[j] = hs[L * H + j];
  return loss;
}
