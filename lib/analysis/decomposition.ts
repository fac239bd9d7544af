// Paper §5.4 "Output decomposition", at every position. Implements docs/definitions.md §5 (§5.4).
//
// At position t (0 ≤ t ≤ N-2) with target o = x_{t+1}, the state splits along eq. 6 as
//   S[t] = h'_t + δ_t      h'_t: the carrier-only state (PS units at tanh(c_t), others S[t])
// so the model's logit of the target splits exactly into
//   carrier logit  Wy[o]·h'_t + by[o]
//   pattern logit  Wy[o]·δ_t = Σ_j Wy[o][j]·δ_t[j]
// and the units are ranked by |Wy[o][j]·δ_t[j]|.
//
// One run of the hook forward (lib/rnn/hooks.ts) does it all: the `carrierOnly` hook
// (lib/analysis/carrier.ts) puts h'_t on the 'readout' point, a second 'readout' hook
// reads S[t] and h'_t there (δ_t = S[t] - h'_t, which is S[t] - tanh(c_t) on PS units and
// exactly 0 elsewhere), the 'logits' point gives the carrier logit and the 'logp' point
// the carrier-only log p(o). The sums run over j in order from by[o] (carrier, model
// logit) or from 0 (pattern), so carrier + pattern = model logit up to float64 rounding.
//
// Layouts (row-major), positions t = 0..T-1 with T = N - 1: per-position arrays (T);
// δ (T, H); the top units (T, K) int32 with -1 where fewer than K units have a non-zero
// contribution, and their contributions (T, K) float64 (0 there).

import { V, type Weights } from '../rnn/weights.ts';
import { runWithHooks } from '../rnn/hooks.ts';
import { logSoftmax, readoutLogits4 } from '../rnn/forward.ts';
import { carrierOnly, wxRange } from './carrier.ts';

export interface Decomposition {
  /** positions t = 0..T-1, T = N - 1 */
  T: number;
  H: number;
  K: number;
  /** (T) Wy[o]·h'_t + by[o] */
  carrierLogit: Float64Array;
  /** (T) Wy[o]·δ_t */
  patternLogit: Float64Array;
  /** (T) carrier + pattern */
  totalLogit: Float64Array;
  /** (T) Wy[o]·S[t] + by[o], the model's own logit */
  actualLogit: Float64Array;
  /** (T) log p(x_{t+1}) from the carrier-only state */
  carrierOnlyLogp: Float64Array;
  /** (T) pattern-sensitive units at t */
  psUnits: Int32Array;
  /** (T, H) δ_t */
  delta: Float64Array;
  /** (T, K) units by |Wy[o][j]·δ_t[j]| (ties: lower unit first), -1 padded */
  topUnits: Int32Array;
  /** (T, K) their Wy[o][j]·δ_t[j], 0 padded */
  topContributions: Float64Array;
}

/** The output arrays for T positions, H units and the top K, zeroed (topUnits -1: no unit). */
function emptyDecomposition(T: number, H: number, K: number): Decomposition {
  return {
    T,
    H,
    K,
    carrierLogit: new Float64Array(T),
    patternLogit: new Float64Array(T),
    totalLogit: new Float64Array(T),
    actualLogit: new Float64Array(T),
    carrierOnlyLogp: new Float64Array(T),
    psUnits: new Int32Array(T),
    delta: new Float64Array(T * H),
    topUnits: new Int32Array(T * K).fill(-1),
    topContributions: new Float64Array(T * K),
  };
}

/** §5.4 at every position t = 0..N-2, keeping the K largest unit contributions per position. */
export function decompose(w: Weights, xs: Uint8Array, K: number): Decomposition {
  const { H, Wy, by } = w;
  const N = xs.length;
  const T = Math.max(0, N - 1);
  const out = emptyDecomposition(T, H, K);
  const { carrierLogit, patternLogit, totalLogit, actualLogit, carrierOnlyLogp, psUnits, delta, topUnits, topContributions } = out;
  const ps = new Uint8Array(N * H);
  const steps = (t: number) => t < T;

  runWithHooks(w, xs, {
    hooks: [
      carrierOnly(w, ps, steps),
      {
        point: 'readout',
        steps,
        fn: (h, step) => {
          const t = step.t;
          const o = xs[t + 1];
          const S = step.S;
          const row = o * H;
          let pattern = 0;
          let actual = by[o];
          let n = 0;
          for (let j = 0; j < H; j++) {
            const dj = S[j] - h[j];
            delta[t * H + j] = dj;
            const u = Wy[row + j] * dj;
            pattern += u;
            actual += Wy[row + j] * S[j];
            n += ps[t * H + j];
            if (u !== 0) insertTop(topUnits, topContributions, t * K, K, j, u);
          }
          patternLogit[t] = pattern;
          actualLogit[t] = actual;
          psUnits[t] = n;
        },
      },
      { point: 'logits', steps, fn: (l, step) => void (carrierLogit[step.t] = l[xs[step.t + 1]]) },
      { point: 'logp', steps, fn: (lp, step) => void (carrierOnlyLogp[step.t] = lp[xs[step.t + 1]]) },
    ],
  });
  for (let t = 0; t < T; t++) totalLogit[t] = carrierLogit[t] + patternLogit[t];
  return out;
}

/**
 * decompose from the trace instead of a hooked forward run: h'_t needs only c_t (from
 * S[t-1], see carrier()) and S[t], so positions are independent and the carrier logits
 * are read out four at a time (readoutLogits4). S is the trace's (N, H) float32 state and
 * c = carrier(w, S, N). Same arithmetic per position as decompose, so the result is
 * bitwise equal to it (test/analysis/decomposition.test.ts), about 2× faster.
 */
export function decomposeFast(w: Weights, xs: Uint8Array, S: Float32Array | Float64Array, c: Float64Array, K: number): Decomposition {
  const { H, Wy, by } = w;
  const N = xs.length;
  const T = Math.max(0, N - 1);
  const out = emptyDecomposition(T, H, K);
  const { carrierLogit, patternLogit, totalLogit, actualLogit, carrierOnlyLogp, psUnits, delta, topUnits, topContributions } = out;
  const { lo, hi } = wxRange(w);
  const Wy64 = Float64Array.from(Wy);
  const h = new Float64Array(4 * H);
  const logits = new Float64Array(4 * V);
  const lp = new Float64Array(V);
  for (let t0 = 0; t0 < T; t0 += 4) {
    const n = Math.min(4, T - t0);
    h.fill(0);
    for (let i = 0; i < n; i++) {
      const t = t0 + i;
      const off = t * H;
      const hb = i * H;
      const o = xs[t + 1];
      const row = o * H;
      let pattern = 0;
      let actual = by[o];
      let np = 0;
      for (let j = 0; j < H; j++) {
        const cj = c[off + j];
        const sj = S[off + j];
        const ps = cj + lo[j] <= 0 && 0 <= cj + hi[j];
        const hj = ps ? Math.tanh(cj) : sj;
        h[hb + j] = hj;
        const dj = sj - hj;
        delta[off + j] = dj;
        const u = Wy[row + j] * dj;
        pattern += u;
        actual += Wy[row + j] * sj;
        if (ps) np++;
        if (u !== 0) insertTop(topUnits, topContributions, t * K, K, j, u);
      }
      patternLogit[t] = pattern;
      actualLogit[t] = actual;
      psUnits[t] = np;
    }
    readoutLogits4(w, Wy64, h, logits, 0);
    for (let i = 0; i < n; i++) {
      const t = t0 + i;
      const o = xs[t + 1];
      carrierLogit[t] = logits[i * V + o];
      logSoftmax(logits, i * V, lp, 0);
      carrierOnlyLogp[t] = lp[o];
    }
  }
  for (let t = 0; t < T; t++) totalLogit[t] = carrierLogit[t] + patternLogit[t];
  return out;
}

/** Insert unit j with contribution u into the K-slot list at `off`, ordered by |u| desc then unit asc. */
function insertTop(units: Int32Array, contrib: Float64Array, off: number, K: number, j: number, u: number): void {
  const a = Math.abs(u);
  let k = K;
  // units arrive in increasing j, so an equal |u| already in the list stays ahead
  while (k > 0 && units[off + k - 1] < 0) k--;
  while (k > 0 && Math.abs(contrib[off + k - 1]) < a) k--;
  if (k >= K) return;
  for (let m = K - 1; m > k; m--) {
    units[off + m] = units[off + m - 1];
    contrib[off + m] = contrib[off + m - 1];
  }
  units[off + k] = j;
  contrib[off + k] = u;
}
