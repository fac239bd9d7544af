// Paper §5.2 "The carrier/pattern decomposition" (eq. 5, Table 2), the pattern deviation
// of §5.3 (eq. 6) and the §5.4 output decomposition. Implements docs/definitions.md §5.
//
// At position t the pre-activation of unit j splits into a carrier and an input term
// (eq. 5):
//   z_t[j] = c_t[j] + Wx[j][x_t],      c_t = Wh·S[t-1] + bh      (S[-1] = 0)
// Unit j is pattern-sensitive (PS) at t when some byte could put z on either side of 0:
//   min_v (c_t[j] + Wx[j][v]) ≤ 0 ≤ max_v (c_t[j] + Wx[j][v])     (all 256 bytes v)
// and carrier-determined otherwise. Since c_t[j] does not depend on v,
//   min_v (c + Wx[j][v]) = c + min_v Wx[j][v]
// so the row range of Wx is computed once (the naive twin loops over all 256 bytes).
// The inequality is closed as defined; its boundary case (c + min Wx = 0 exactly,
// every byte then giving sign +1) has measure zero on real weights.
//
// Carrier-only state at t (Table 2; one position at a time, never fed forward):
//   h'_t[j] = tanh(c_t[j]) if j is PS at t, else S[t][j]
// This is an intervention, so it is written on the hook forward (lib/rnn/hooks.ts): the
// hook `carrierOnly` replaces the 'readout' point (the state the readout reads, which is
// not fed forward) using the step's own 'carrier' point.
// Deviation (eq. 6):  δ_t[j] = S[t][j] - tanh(c_t[j]) if PS, else 0;  so S[t] = h'_t + δ_t.
// (§5.4's split of the logit along S[t] = h'_t + δ_t is lib/analysis/decomposition.ts.)
//
// Layouts (row-major): c, δ are (N, H): c[t*H + j]; the PS mask is (N, H) uint8.
// S is the trace's float32 state; everything computed here is float64.

import { V, type Weights } from '../rnn/weights.ts';
import { bitsOf, readoutLogp4 } from '../rnn/forward.ts';
import { runWithHooks, type Hook } from '../rnn/hooks.ts';

type States = Float32Array | Float64Array;

// ---------------------------------------------------------------- carrier and PS test

/**
 * Carrier c_t = Wh·S[t-1] + bh for t = 0..N-1, float64, (N, H).
 * The sum runs in the same order as the forward pass (Σ_k Wh[j][k]·S[t-1][k], then + bh),
 * so z_t[j] = fround(Wx[j][x_t] + c_t[j]) up to that final float32 rounding.
 * Four rows of Wh (float64 copy) per pass over S[t-1], each summed in that order: bitwise
 * equal to carrierNaive (test/analysis/carrier.test.ts).
 */
export function carrier(w: Weights, S: States, N: number): Float64Array {
  const { H, bh } = w;
  const Wh = Float64Array.from(w.Wh);
  const c = new Float64Array(N * H);
  const prev = new Float64Array(H);
  for (let j = 0; j < H; j++) c[j] = 0 + bh[j];
  for (let t = 1; t < N; t++) {
    for (let k = 0; k < H; k++) prev[k] = S[(t - 1) * H + k];
    const base = t * H;
    let j = 0;
    for (; j + 3 < H; j += 4) {
      const r0 = j * H, r1 = r0 + H, r2 = r1 + H, r3 = r2 + H;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (let k = 0; k < H; k++) {
        const p = prev[k];
        a0 += Wh[r0 + k] * p;
        a1 += Wh[r1 + k] * p;
        a2 += Wh[r2 + k] * p;
        a3 += Wh[r3 + k] * p;
      }
      c[base + j] = a0 + bh[j];
      c[base + j + 1] = a1 + bh[j + 1];
      c[base + j + 2] = a2 + bh[j + 2];
      c[base + j + 3] = a3 + bh[j + 3];
    }
    for (; j < H; j++) {
      let acc = 0;
      const row = j * H;
      for (let k = 0; k < H; k++) acc += Wh[row + k] * prev[k];
      c[base + j] = acc + bh[j];
    }
  }
  return c;
}

/** Naive twin of carrier: one row at a time. */
export function carrierNaive(w: Weights, S: States, N: number): Float64Array {
  const { H, Wh, bh } = w;
  const c = new Float64Array(N * H);
  for (let t = 0; t < N; t++) {
    const prev = (t - 1) * H;
    for (let j = 0; j < H; j++) {
      let acc = 0;
      if (t > 0) {
        const row = j * H;
        for (let k = 0; k < H; k++) acc += Wh[row + k] * S[prev + k];
      }
      c[t * H + j] = acc + bh[j];
    }
  }
  return c;
}

/** Row range of Wx: lo[j] = min_v Wx[j][v], hi[j] = max_v Wx[j][v] (H each). */
export function wxRange(w: Weights): { lo: Float64Array; hi: Float64Array } {
  const { H, Wx } = w;
  const lo = new Float64Array(H);
  const hi = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    let a = Infinity;
    let b = -Infinity;
    for (let v = 0; v < V; v++) {
      const x = Wx[j * V + v];
      if (x < a) a = x;
      if (x > b) b = x;
    }
    lo[j] = a;
    hi[j] = b;
  }
  return { lo, hi };
}

/** PS mask (N, H): 1 where c + min Wx ≤ 0 ≤ c + max Wx. */
export function patternSensitive(w: Weights, c: Float64Array): Uint8Array {
  const { H } = w;
  const { lo, hi } = wxRange(w);
  const ps = new Uint8Array(c.length);
  for (let i = 0; i < c.length; i++) {
    const j = i % H;
    ps[i] = c[i] + lo[j] <= 0 && 0 <= c[i] + hi[j] ? 1 : 0;
  }
  return ps;
}

/** Naive twin of patternSensitive: min and max of c + Wx[j][v] over all 256 bytes. */
export function patternSensitiveNaive(w: Weights, c: Float64Array): Uint8Array {
  const { H, Wx } = w;
  const ps = new Uint8Array(c.length);
  for (let i = 0; i < c.length; i++) {
    const j = i % H;
    let mn = Infinity;
    let mx = -Infinity;
    for (let v = 0; v < V; v++) {
      const zv = c[i] + Wx[j * V + v];
      if (zv < mn) mn = zv;
      if (zv > mx) mx = zv;
    }
    ps[i] = mn <= 0 && 0 <= mx ? 1 : 0;
  }
  return ps;
}

// ---------------------------------------------------------------- Table 2

/**
 * The carrier-only intervention as a 'readout' hook: PS units read tanh(c_t[j]), the
 * others S[t][j]; the PS test is patternSensitive's, on the step's own carrier. If `psOut`
 * ((N, H), indexed by position) is given, the hook writes the mask it used there.
 */
export function carrierOnly(w: Weights, psOut?: Uint8Array, steps?: Hook['steps']): Hook {
  const { H } = w;
  const { lo, hi } = wxRange(w);
  return {
    point: 'readout',
    steps,
    fn: (h, step) => {
      const c = step.carrier;
      const off = step.t * H;
      for (let j = 0; j < H; j++) {
        const ps = c[j] + lo[j] <= 0 && 0 <= c[j] + hi[j];
        if (ps) h[j] = Math.tanh(c[j]);
        if (psOut) psOut[off + j] = ps ? 1 : 0;
      }
    },
  };
}

/** Bits of x_{t+1} under the carrier-only state, t = 0..N-2 (floor as for bpc): one hooked forward run. */
export function carrierOnlyBits(w: Weights, xs: Uint8Array, floor: number): Float64Array {
  const N = xs.length;
  const bits = new Float64Array(Math.max(0, N - 1));
  const steps = (t: number) => t + 1 < N;
  runWithHooks(w, xs, {
    hooks: [carrierOnly(w, undefined, steps), { point: 'logp', steps, fn: (lp, step) => void (bits[step.t] = bitsOf(lp[xs[step.t + 1]], floor)) }],
  });
  return bits;
}

/**
 * carrierOnlyBits from the trace instead of a hooked forward run: the carrier-only state
 * h'_t needs only S[t-1] (through c_t, see carrier()) and S[t], so positions are
 * independent and are read out four at a time (readoutLogp4). c is carrier(w, S, N).
 * Bitwise equal to carrierOnlyBits (test/analysis/carrier.test.ts), about 2× faster.
 */
export function carrierOnlyBitsFast(w: Weights, xs: Uint8Array, S: States, c: Float64Array, floor: number): Float64Array {
  const { H } = w;
  const N = xs.length;
  const T = Math.max(0, N - 1);
  const bits = new Float64Array(T);
  const { lo, hi } = wxRange(w);
  const Wy64 = Float64Array.from(w.Wy);
  const h = new Float64Array(4 * H);
  const lp = new Float64Array(4 * V);
  for (let t0 = 0; t0 < T; t0 += 4) {
    const n = Math.min(4, T - t0);
    h.fill(0);
    for (let i = 0; i < n; i++) {
      const off = (t0 + i) * H;
      for (let j = 0; j < H; j++) {
        const cj = c[off + j];
        h[i * H + j] = cj + lo[j] <= 0 && 0 <= cj + hi[j] ? Math.tanh(cj) : S[off + j];
      }
    }
    readoutLogp4(w, Wy64, h, lp, 0);
    for (let i = 0; i < n; i++) bits[t0 + i] = bitsOf(lp[i * V + xs[t0 + i + 1]], floor);
  }
  return bits;
}

/** Per-position PS count (N) and per-unit PS count over positions t = first..last. */
export function psCounts(ps: Uint8Array, H: number, first: number, last: number): { perPosition: Int32Array; perUnit: Int32Array } {
  const perPosition = new Int32Array(last - first + 1);
  const perUnit = new Int32Array(H);
  for (let t = first; t <= last; t++) {
    let n = 0;
    for (let j = 0; j < H; j++) {
      if (ps[t * H + j]) {
        n++;
        perUnit[j]++;
      }
    }
    perPosition[t - first] = n;
  }
  return { perPosition, perUnit };
}

// ---------------------------------------------------------------- eq. 6

/** Deviation δ (eq. 6), (N, H): S[t][j] - tanh(c_t[j]) where PS, else 0. */
export function deviation(S: States, c: Float64Array, ps: Uint8Array): Float64Array {
  const d = new Float64Array(c.length);
  for (let i = 0; i < c.length; i++) d[i] = ps[i] ? S[i] - Math.tanh(c[i]) : 0;
  return d;
}
