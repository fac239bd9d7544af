// Paper §5.1 "Three failed approaches", the first: backward-gradient attribution.
// Implements docs/definitions.md §5 (§5.1 baselines), for output positions T = firstT..lastT and state
// offsets d = 0..D-1 (byte x_{T-d}).
//
// With G[s] = ∂L_T/∂S[s] (lib/analysis/influence.ts) and ∂S[s]_j/∂Wx[j][x_s] = 1 - S[s]_j²,
// the byte x_{T-d}'s input term gets
//   raw(T, d) = |Σ_j G[T-d]_j (1 - S[T-d]_j²) Wx[j][x_{T-d}]|
//   normalized(T, d) = raw(T, d) / Σ_d' raw(T, d')          (then averaged over T)
//
// Layout (row-major): per-(T, d) tables are (nT, D): M[(T - firstT)*D + d]. S is the
// trace's float32 state.

import { V, type Weights } from '../rnn/weights.ts';
import { forEachGradient, gradientsAt } from './influence.ts';

type States = Float32Array | Float64Array;

/** raw(T, d), (nT, D). Needs firstT ≥ D - 1 and lastT ≤ N - 2. */
export function gradientAttribution(w: Weights, xs: Uint8Array, S: States, firstT: number, lastT: number, D: number): Float64Array {
  const { H, Wx } = w;
  const nT = lastT - firstT + 1;
  const raw = new Float64Array(nT * D);
  forEachGradient(w, S, xs, firstT, lastT, D, (T, G, base) => {
    for (let d = 0; d < D; d++) {
      const s = T - d;
      const x = xs[s];
      const gOff = base + d * H;
      let acc = 0;
      for (let j = 0; j < H; j++) {
        const h = S[s * H + j];
        // Wx is (H, V): Wx[j*V + x]
        acc += G[gOff + j] * (1 - h * h) * Wx[j * V + x];
      }
      raw[(T - firstT) * D + d] = Math.abs(acc);
    }
  });
  return raw;
}

/** Naive twin of gradientAttribution: one gradientsAt per T. */
export function gradientAttributionNaive(w: Weights, xs: Uint8Array, S: States, firstT: number, lastT: number, D: number): Float64Array {
  const { H, Wx } = w;
  const raw = new Float64Array((lastT - firstT + 1) * D);
  const G = new Float64Array(D * H);
  const u = new Float64Array(H);
  for (let T = firstT; T <= lastT; T++) {
    gradientsAt(w, S, xs[T + 1], T, D, G, u);
    for (let d = 0; d < D; d++) {
      let acc = 0;
      for (let j = 0; j < H; j++) acc += G[d * H + j] * (1 - S[(T - d) * H + j] ** 2) * Wx[j * V + xs[T - d]];
      raw[(T - firstT) * D + d] = Math.abs(acc);
    }
  }
  return raw;
}

/** Per-T normalization raw(T, d) / Σ_d raw(T, d) (0 when the row sums to 0), (nT, D). */
export function normalizeRows(raw: Float64Array, D: number): Float64Array {
  const out = new Float64Array(raw.length);
  for (let r = 0; r < raw.length; r += D) {
    let s = 0;
    for (let d = 0; d < D; d++) s += raw[r + d];
    if (s > 0) for (let d = 0; d < D; d++) out[r + d] = raw[r + d] / s;
  }
  return out;
}
