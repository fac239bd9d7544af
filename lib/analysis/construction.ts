// Paper §4.1 "The shift-register is not the trained RNN" (docs/definitions.md §4.1): an Elman RNN of the
// trained model's shape, written by hand from byte statistics.
//
//   s(x, j) ∈ {±1}                 a 32-bit sign hash of byte x for unit j of a group
//   Wx[j][x] = 10·s(x, j)          group 0 (units 0..7) reads the byte's 8-bit sign code
//   Wh[8g+j][8(g-1)+j] = 5         group g copies group g-1: a shift register, g = 1..15
//   bh = 0,  by[o] = ln((count_o + 0.5) / (N + 128))
// so S[t] group g holds (up to tanh) the sign code of x_{t-g}. Two readouts Wy:
//   analytic   Wy[o][8g+j] = s · (ln P(o | x_{t-g} ∈ S+_j) - ln P(o | x_{t-g} ∈ S-_j)),
//              P from the next-byte histogram over t = g..N-2 with α added to every bin;
//              (α, s) from a grid, scored by eval bpc (all positions, floor 1e-30);
//   optimized  full-batch gradient descent on (Wy, by) from Wy = 0, positions t = 16..N-3.
// The hidden trajectory does not depend on Wy: it is computed once (float32, docs/definitions.md §0) and
// every readout is scored on it through the kernels of factored-readout.ts.

import { V, zeroWeights, type Weights } from '../rnn/weights.ts';
import {
  contextCodes, factoredGd, factoredLogits, scoreScales, targetClasses, toClasses,
  type Classes, type Factored, type GdSchedule,
} from './factored-readout.ts';

// ---------------------------------------------------------------- the sign hash

/**
 * s(x, j): +1 if the low bit of the hash is 1, else -1. Unsigned 32-bit arithmetic:
 *   h = x; h = ((h>>>4)^h)·0x45d9f3b; h ^= h>>>16; h += j·2654435761;
 *   h = ((h>>>4)^h)·0x45d9f3b; h ^= h>>>16
 */
export function signHash(x: number, j: number): 1 | -1 {
  let h = x >>> 0;
  h = Math.imul((h >>> 4) ^ h, 0x45d9f3b) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  h = (h + (Math.imul(j, 2654435761) >>> 0)) >>> 0;
  h = Math.imul((h >>> 4) ^ h, 0x45d9f3b) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h & 1 ? 1 : -1;
}

/** codes[x*units + j] = s(x, j) for every byte x. */
export function signCodes(units: number): Int8Array {
  const codes = new Int8Array(V * units);
  for (let x = 0; x < V; x++) for (let j = 0; j < units; j++) codes[x * units + j] = signHash(x, j);
  return codes;
}

/** Number of distinct sign codes over all 256 bytes (the hash is not injective). */
export function distinctCodes(codes: Int8Array, units: number): number {
  const seen = new Set<string>();
  for (let x = 0; x < V; x++) seen.add(codes.subarray(x * units, (x + 1) * units).join(','));
  return seen.size;
}

// ---------------------------------------------------------------- the network

export interface ShiftSpec {
  groups: number;
  units: number;
  /** group 0's input weight (10) */
  inputWeight: number;
  /** the shift weight between groups (5) */
  shiftWeight: number;
}

/** Wx, Wh, bh of the shift register (Wy and by left 0). H = groups · units. */
export function shiftRegister(codes: Int8Array, spec: ShiftSpec): Weights {
  const { groups, units, inputWeight, shiftWeight } = spec;
  const H = groups * units;
  const w = zeroWeights(H);
  // Wx is (H, V): Wx[i*V + x];  Wh is (H, H): Wh[i*H + k]
  for (let j = 0; j < units; j++) for (let x = 0; x < V; x++) w.Wx[j * V + x] = inputWeight * codes[x * units + j];
  for (let g = 1; g < groups; g++) {
    for (let j = 0; j < units; j++) w.Wh[(g * units + j) * H + (g - 1) * units + j] = shiftWeight;
  }
  return w;
}

/** by[o] = ln((count_o + 0.5) / (N + 128)): the smoothed byte marginal (float64). */
export function marginalBias(xs: Uint8Array): Float64Array {
  const by = new Float64Array(V);
  for (let t = 0; t < xs.length; t++) by[xs[t]]++;
  for (let o = 0; o < V; o++) by[o] = Math.log((by[o] + 0.5) / (xs.length + 128));
  return by;
}

// ---------------------------------------------------------------- analytic Wy

/**
 * Next-byte histograms split by the sign of the byte g steps back, for unit i = g·units + j:
 *   plus[i*V + o]  = #{t = g..N-2 : s(x_{t-g}, j) = +1, x_{t+1} = o}, minus likewise.
 */
export function splitCounts(xs: Uint8Array, codes: Int8Array, groups: number, units: number): { plus: Float64Array; minus: Float64Array } {
  const H = groups * units;
  const plus = new Float64Array(H * V);
  const minus = new Float64Array(H * V);
  const N = xs.length;
  for (let g = 0; g < groups; g++) {
    for (let t = g; t + 1 < N; t++) {
      const a = xs[t - g];
      const o = xs[t + 1];
      for (let j = 0; j < units; j++) {
        const i = g * units + j;
        if (codes[a * units + j] > 0) plus[i * V + o]++;
        else minus[i * V + o]++;
      }
    }
  }
  return { plus, minus };
}

/** Unscaled analytic Wy (V, H): Wy[o*H + i] = ln((n+_o + α)/(n+ + 256α)) - ln((n-_o + α)/(n- + 256α)). */
export function analyticWy(plus: Float64Array, minus: Float64Array, H: number, alpha: number): Float64Array {
  const Wy = new Float64Array(V * H);
  for (let i = 0; i < H; i++) {
    let np = 0;
    let nm = 0;
    for (let o = 0; o < V; o++) {
      np += plus[i * V + o];
      nm += minus[i * V + o];
    }
    const lp = Math.log(np + V * alpha);
    const lm = Math.log(nm + V * alpha);
    for (let o = 0; o < V; o++) {
      Wy[o * H + i] = Math.log(plus[i * V + o] + alpha) - lp - (Math.log(minus[i * V + o] + alpha) - lm);
    }
  }
  return Wy;
}

/**
 * Grid values v_k = k · step for k = 1..count, each the double nearest the decimal
 * (3 · 0.05 gives 0.15, not 0.15000000000000002); nothing accumulates.
 */
export function grid(step: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => Number(((k + 1) * step).toPrecision(12)));
}

export interface GridResult {
  /** (alphas, scales): bpc[a*nS + s] */
  bpc: Float64Array;
  alpha: number;
  scale: number;
  best: number;
}

/**
 * Score every (α, s) by the constructed network's bpc over t0..t1-1 (logits s·Wy_α·S[t] + by).
 * For each α the class logits are one factored product; each s costs one softmax.
 * Best: strictly lowest bpc, α outer, s inner (ties keep the first).
 */
export function analyticGrid(
  F: Factored, cls: Classes, xs: Uint8Array, plus: Float64Array, minus: Float64Array, by: Float64Array,
  alphas: readonly number[], scales: readonly number[], t0: number, t1: number, floor: number,
): GridResult {
  return analyticGridOn(F, cls, targetClasses(xs, cls), plus, minus, by, alphas, scales, t0, t1, floor);
}

/** analyticGrid with the target class of each position given (y[t], e.g. of sampled positions). */
export function analyticGridOn(
  F: Factored, cls: Classes, y: Int32Array, plus: Float64Array, minus: Float64Array, by: Float64Array,
  alphas: readonly number[], scales: readonly number[], t0: number, t1: number, floor: number,
): GridResult {
  const { H } = F;
  const b = toClasses(by, 1, cls);
  const L = new Float64Array((t1 - t0) * cls.K);
  const bpc = new Float64Array(alphas.length * scales.length);
  const row = new Float64Array(scales.length);
  const ctx = contextCodes(F, t0, t1); // positions with equal logit rows, scored once per s
  let best = Infinity;
  let ai = 0;
  let si = 0;
  for (let a = 0; a < alphas.length; a++) {
    factoredLogits(L, F, toClasses(analyticWy(plus, minus, H, alphas[a]), H, cls), cls.K, t0, t1);
    scoreScales(row, L, b, cls, y, t0, t1, scales, floor, ctx);
    for (let s = 0; s < scales.length; s++) {
      bpc[a * scales.length + s] = row[s];
      if (row[s] < best) [best, ai, si] = [row[s], a, s];
    }
  }
  return { bpc, alpha: alphas[ai], scale: scales[si], best };
}

// ---------------------------------------------------------------- optimized Wy

/** Gradient descent on (Wy, by) from Wy = 0 and by on the fixed trajectory; class form, in place. */
export function optimizeWy(
  F: Factored, cls: Classes, xs: Uint8Array, by: Float64Array, t0: number, t1: number, sched: GdSchedule,
  eps: number, progress?: (done: number, total: number) => void,
): { W: Float64Array; b: Float64Array; losses: Float64Array } {
  return optimizeWyOn(F, cls, targetClasses(xs, cls), by, t0, t1, sched, eps, progress);
}

/** optimizeWy with the target class of each position given (y[t], e.g. of sampled positions). */
export function optimizeWyOn(
  F: Factored, cls: Classes, y: Int32Array, by: Float64Array, t0: number, t1: number, sched: GdSchedule,
  eps: number, progress?: (done: number, total: number) => void,
): { W: Float64Array; b: Float64Array; losses: Float64Array } {
  const W = new Float64Array(cls.K * F.H);
  const b = toClasses(by, 1, cls);
  const losses = factoredGd(F, W, b, cls, y, t0, t1, sched, eps, progress);
  return { W, b, losses };
}

