// Paper §6.2, open question 4 (docs/definitions.md §6.3): write every weight of an Elman
// RNN of the same shape from a description (lib/analysis/describe.ts) alone. The rebuild
// reads nothing else; the fitted readouts below run in describe, which writes what they
// produce into the description.
//
// Rule levels. Units 0..F-1 compute the level's features themselves, with gain a:
//   word length, thermometer units k = 1..cap (+1 iff word_len[t] ≥ k):
//     k = 1:  z = a·n(x_t)                         n(v) = −1 for space, \n, \t, else +1
//     k ≥ 2:  z = a·(n(x_t) + S[t-1]_{k-1} − 1.5)  (an AND of "not whitespace" and unit k−1)
//   in-tag, one bistable unit g:  z = a·S[t-1]_g − 0.5a + (3a if x_t = '<', −3a if '>')
//   x1, one unit per byte class b:  z = a if x_t = b else −a
//   x2, a copy of each x1 unit one step later:  z = a·S[t-1]_{x1 unit}
// (S[-1] = 0 reads as "no byte", and the biases put every unit on the right side at t = 0.)
// Each remaining unit r gets, from the description, its cell carriers ĉ_r(cell) and its Wx
// bins. Its carrier row is the weighted least-squares fit over the cells but the start cell
//   min Σ_k n_k (Wh[r]·φ_k + bh[r] − ĉ_r(k))² + ridge·|Wh[r]|²
// where n_k is the cell's number of positions (written in the description), φ_k the ideal
// values of the feature units in S[t-1] (±1) for the cell's features: the same fit as over
// positions t = 1..N-2. Wh[r] is 0 on non-feature units. Its Wx row puts each seen byte in
// the middle of its bin between thresholds −ĉ (the outer bins at ± margin beyond the last
// threshold). The linear form writes each unit's row and Wx directly instead.
// Readout: as written in the description (the model's own on the described units, or one
// that describe fitted on the rebuilt RNN's own states over t = 0..N-2 by full-batch
// L-BFGS on the cross-entropy, from Wy = 0 and the marginal by, with §4.2's loss and
// gradient kernels, lib/analysis/factored-readout.ts).

import { V, zeroWeights, type Weights } from '../rnn/weights.ts';
import { forwardStatesFast } from './forward-fast.ts';
import { byteClasses, factorBlocks, factoredBpc, factoredGrad, fromClasses, gdWork, sampleTargets, targetClasses, toClasses } from './factored-readout.ts';
import { blockPositions, positionBlocks } from './position-blocks.ts';
import { denseArena } from '../rnn/wasm-dense.ts';
import { marginalBias } from './construction.ts';
import { featuresOf, prefixFeatures, type FeatureSet } from './timing-carrier.ts';
import { packReadout, type Description, type Readout } from './describe.ts';

const WS = (v: number) => v === 0x20 || v === 0x0a || v === 0x09;

export interface FeatureLayout {
  set: FeatureSet;
  cap: number;
  /** first unit of each feature group, −1 when unused */
  wl: number;
  tag: number;
  x1: number;
  x2: number;
  classes: number[];
  /** feature units in all */
  F: number;
}

export function featureLayout(header: Record<string, any>): FeatureLayout {
  const set = header.set as FeatureSet;
  const use = featuresOf(set);
  const cap = use.wl ? header.features.wl.cap : 0;
  const classes: number[] = use.x1 ? header.features.x1.classes : [];
  let F = 0;
  const take = (on: boolean, n: number) => (on ? ((F += n), F - n) : -1);
  const wl = take(use.wl, cap);
  const tag = take(use.tag, 1);
  const x1 = take(use.x1, classes.length);
  const x2 = take(use.x2, classes.length);
  return { set, cap, wl, tag, x1, x2, classes, F };
}

/** Write the feature units of a layout into w (rows 0..F-1 of Wx, Wh, bh). */
export function writeFeatureUnits(w: Weights, L: FeatureLayout, a: number): void {
  const { H, Wx, Wh, bh } = w;
  if (L.wl >= 0) {
    for (let k = 1; k <= L.cap; k++) {
      const u = L.wl + k - 1;
      for (let v = 0; v < V; v++) Wx[u * V + v] = WS(v) ? -a : a;
      if (k >= 2) {
        Wh[u * H + u - 1] = a;
        bh[u] = -1.5 * a;
      }
    }
  }
  if (L.tag >= 0) {
    const g = L.tag;
    Wx[g * V + 0x3c] = 3 * a;
    Wx[g * V + 0x3e] = -3 * a;
    Wh[g * H + g] = a;
    bh[g] = -0.5 * a;
  }
  L.classes.forEach((b, c) => {
    if (L.x1 >= 0) for (let v = 0; v < V; v++) Wx[(L.x1 + c) * V + v] = v === b ? a : -a;
    if (L.x2 >= 0) Wh[(L.x2 + c) * H + L.x1 + c] = a;
  });
}

/**
 * Ideal values of the feature units in S[t-1] for a position whose cell key (the values
 * of the set's features of the prefix, lib/analysis/describe.ts cellKey) is `key`: ±1, and
 * 0 for an x2 unit before x_1 (S[0] of an x2 unit is tanh(a·S[-1]) = 0).
 */
export function featuresOfKey(key: readonly number[], L: FeatureLayout): Float64Array {
  const phi = new Float64Array(L.F);
  const use = featuresOf(L.set);
  let i = 0;
  const wl = use.wl ? key[i++] : 0;
  const tag = use.tag ? key[i++] : 0;
  const x1 = use.x1 ? key[i++] : -1;
  const x2 = use.x2 ? key[i++] : -1;
  for (let k = 1; k <= L.cap; k++) phi[L.wl + k - 1] = wl >= k ? 1 : -1;
  if (L.tag >= 0) phi[L.tag] = tag ? 1 : -1;
  L.classes.forEach((b, c) => {
    if (L.x1 >= 0) phi[L.x1 + c] = x1 === b ? 1 : -1;
    if (L.x2 >= 0) phi[L.x2 + c] = x2 < 0 ? 0 : x2 === b ? 1 : -1;
  });
  return phi;
}

/** Ideal values of the feature units in S[t-1], for t = 0..P-1, computed from the bytes: (P, F). The naive twin of featuresOfKey over cells. */
export function idealFeatures(xs: Uint8Array, L: FeatureLayout, P: number): Float64Array {
  const f = prefixFeatures(xs, Math.max(1, L.cap));
  const phi = new Float64Array(P * L.F);
  for (let t = 1; t < P; t++) {
    const o = t * L.F;
    for (let k = 1; k <= L.cap; k++) phi[o + L.wl + k - 1] = f.wl[t] >= k ? 1 : -1;
    if (L.tag >= 0) phi[o + L.tag] = f.tag[t] ? 1 : -1;
    L.classes.forEach((b, c) => {
      if (L.x1 >= 0) phi[o + L.x1 + c] = f.x1[t] === b ? 1 : -1;
      if (L.x2 >= 0 && t >= 2) phi[o + L.x2 + c] = f.x2[t] === b ? 1 : -1;
    });
  }
  return phi;
}

/**
 * Ridge least squares with an intercept, many right-hand sides:
 *   for each column r of Y (P, R): β_r = argmin Σ_t w_t (X_t·β + β0 − Y[t, r])² + ridge·|β|²
 * (w_t = weight[t], 1 when not given)
 * X is (P, F). Returns (R, F + 1): β then β0. Gaussian elimination with partial pivoting
 * on the (F+1)² normal equations.
 */
export function ridgeLS(X: Float64Array, Y: Float64Array, P: number, F: number, R: number, ridge: number, weight?: ArrayLike<number>): Float64Array {
  const n = F + 1;
  const A = new Float64Array(n * n);
  const B = new Float64Array(n * R);
  const row = new Float64Array(n);
  for (let t = 0; t < P; t++) {
    for (let i = 0; i < F; i++) row[i] = X[t * F + i];
    row[F] = 1;
    const wt = weight ? weight[t] : 1;
    if (wt === 0) continue;
    for (let i = 0; i < n; i++) {
      if (row[i] === 0) continue;
      for (let k = 0; k < n; k++) A[i * n + k] += wt * row[i] * row[k];
      for (let r = 0; r < R; r++) B[i * R + r] += wt * row[i] * Y[t * R + r];
    }
  }
  for (let i = 0; i < F; i++) A[i * n + i] += ridge;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let i = c + 1; i < n; i++) if (Math.abs(A[i * n + c]) > Math.abs(A[p * n + c])) p = i;
    if (p !== c) {
      for (let k = 0; k < n; k++) [A[c * n + k], A[p * n + k]] = [A[p * n + k], A[c * n + k]];
      for (let r = 0; r < R; r++) [B[c * R + r], B[p * R + r]] = [B[p * R + r], B[c * R + r]];
    }
    const d = A[c * n + c];
    if (Math.abs(d) < 1e-300) continue;
    for (let i = 0; i < n; i++) {
      if (i === c) continue;
      const m = A[i * n + c] / d;
      if (m === 0) continue;
      for (let k = c; k < n; k++) A[i * n + k] -= m * A[c * n + k];
      for (let r = 0; r < R; r++) B[i * R + r] -= m * B[c * R + r];
    }
  }
  const out = new Float64Array(R * n);
  for (let i = 0; i < n; i++) {
    const d = A[i * n + i];
    for (let r = 0; r < R; r++) out[r * n + i] = Math.abs(d) < 1e-300 ? 0 : B[i * R + r] / d;
  }
  return out;
}

/** Wx value of each bin between sorted thresholds θ: the middle, or ± margin beyond the ends. */
export function binValue(theta: readonly number[], b: number, margin: number): number {
  if (theta.length === 0) return 0;
  if (b <= 0) return theta[0] - margin;
  if (b >= theta.length) return theta[theta.length - 1] + margin;
  return (theta[b - 1] + theta[b]) / 2;
}

export interface RuleOptions {
  gain: number;
  margin: number;
  ridge: number;
}

/**
 * Every weight of a rule level, from its description alone. Feature units as
 * writeFeatureUnits; each described unit's carrier row (Wh on the feature units, bh) is
 * the least-squares fit of its cell carriers over the cells but the start cell, each cell
 * weighted by its number of positions (the same fit as over positions t = 1..N-2, since a
 * position's ideal features depend on its cell only); its Wx row from its pattern bins;
 * the readout as written.
 */
export function rebuildRules(d: Description): { w: Weights; layout: FeatureLayout; units: number[] } {
  const H = d.header.H as number;
  const o = d.header.rebuild as RuleOptions;
  const w = zeroWeights(H);
  const L = featureLayout(d.header);
  writeFeatureUnits(w, L, o.gain);
  const units = d.body.units as { unit: number; carrier: number[]; wxBin: number[] }[];
  const R = Math.min(units.length, H - L.F);
  const cells = d.body.cells as number[][];
  const count = d.body.cellCount as number[];
  // cell 0 is the start cell (t = 0): every feature unit reads S[-1] = 0 there, a row no
  // other position has, so it would only pull the fit (its carrier is then bh)
  const C = cells.length - 1;
  const X = new Float64Array(C * L.F);
  const Y = new Float64Array(C * R);
  const wt = new Float64Array(C);
  for (let k = 1; k < cells.length; k++) {
    X.set(featuresOfKey(cells[k], L), (k - 1) * L.F);
    for (let r = 0; r < R; r++) Y[(k - 1) * R + r] = units[r].carrier[k];
    wt[k - 1] = count[k];
  }
  const beta = ridgeLS(X, Y, C, L.F, R, o.ridge, wt);
  const seen = d.body.seen as number[];
  for (let r = 0; r < R; r++) {
    const u = L.F + r;
    for (let i = 0; i < L.F; i++) w.Wh[u * H + i] = beta[r * (L.F + 1) + i];
    w.bh[u] = beta[r * (L.F + 1) + L.F];
    const theta = [...new Set(units[r].carrier.map((c) => (c === 0 ? 0 : -c)))].sort((a, b) => a - b);
    seen.forEach((v, i) => (w.Wx[u * V + v] = binValue(theta, units[r].wxBin[i], o.margin)));
  }
  writeReadout(w, d, L.F, R);
  return { w, layout: L, units: units.slice(0, R).map((u) => u.unit) };
}

/** The readout of a rule description into w: rows of the seen bytes over its columns, byOther for the rest. */
export function writeReadout(w: Weights, d: Description, F: number, R: number): void {
  const { H, Wy, by } = w;
  const ro = d.body.readout as Readout;
  const all = d.header.readout?.columns === 'all';
  const seen = d.body.seen as number[];
  by.fill(ro.byOther);
  Wy.fill(0);
  seen.forEach((v, i) => {
    by[v] = ro.by[i];
    if (all) for (let j = 0; j < H; j++) Wy[v * H + j] = ro.Wy[i][j];
    else for (let r = 0; r < R; r++) Wy[v * H + F + r] = ro.Wy[i][r];
  });
}

/** Every weight as written in a `full` description. */
export function rebuildFull(d: Description): Weights {
  const H = d.header.H as number;
  const w = zeroWeights(H);
  const b = d.body;
  w.Wx.set(b.Wx);
  w.Wh.set(b.Wh);
  w.bh.set(b.bh);
  w.Wy.set(b.Wy);
  w.by.set(b.by);
  return w;
}

/** No recurrence; by = ln of each listed byte's share of the counts, −1e4 for the others. */
export function rebuildMarginal(d: Description): Weights {
  const w = zeroWeights(d.header.H as number);
  const bytes = d.body.bytes as number[];
  const counts = d.body.counts as number[];
  const n = counts.reduce((a, b) => a + b, 0);
  w.by.fill(-1e4);
  bytes.forEach((o, i) => (w.by[o] = Math.log(counts[i] / n)));
  return w;
}

/** v·w summed in index order from 0. */
function dotOf(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * The L-BFGS two-loop recursion: q = H_k · g from the pairs (s_i, y_i), oldest first, with
 * rho_i = 1 / s_i·y_i, sy_i = s_i·y_i, yy_i = y_i·y_i and H_0 = (s·y / y·y of the newest
 * pair) I (without pairs: 1 / max(1, |g|) I). Returns the slope -g·q. Each pass over q also
 * forms the dot product the next step needs, the same products summed in the same order as
 * lbfgsDirectionNaive, so the same bits with one pass per pair instead of two. alpha is
 * scratch of at least the number of pairs.
 */
export function lbfgsDirection(
  q: Float64Array, g: Float64Array, Ss: readonly Float64Array[], Ys: readonly Float64Array[],
  rho: readonly number[], sy: readonly number[], yy: readonly number[], alpha: Float64Array,
): number {
  const D = q.length;
  const m = Ss.length;
  q.set(g);
  let acc = m > 0 ? dotOf(Ss[m - 1], q) : 0;
  for (let i = m - 1; i >= 0; i--) {
    const a = (alpha[i] = rho[i] * acc);
    const yi = Ys[i];
    if (i > 0) {
      const sn = Ss[i - 1];
      let sum = 0;
      for (let j = 0; j < D; j++) {
        const v = (q[j] -= a * yi[j]);
        sum += sn[j] * v;
      }
      acc = sum;
    } else for (let j = 0; j < D; j++) q[j] -= a * yi[j];
  }
  const gamma = m > 0 ? sy[m - 1] / yy[m - 1] : 1 / Math.max(1, Math.sqrt(dotOf(g, g)));
  {
    const next = m > 0 ? Ys[0] : g;
    let sum = 0;
    for (let j = 0; j < D; j++) {
      const v = (q[j] *= gamma);
      sum += next[j] * v;
    }
    acc = sum;
  }
  for (let i = 0; i < m; i++) {
    const c = alpha[i] - rho[i] * acc;
    const si = Ss[i];
    const next = i + 1 < m ? Ys[i + 1] : g;
    let sum = 0;
    for (let j = 0; j < D; j++) {
      const v = (q[j] += si[j] * c);
      sum += next[j] * v;
    }
    acc = sum;
  }
  return -acc;
}

/** Naive twin of lbfgsDirection: the textbook two loops, one dot product per pass. */
export function lbfgsDirectionNaive(q: Float64Array, g: Float64Array, Ss: readonly Float64Array[], Ys: readonly Float64Array[], rho: readonly number[]): number {
  const D = q.length;
  q.set(g);
  const alpha: number[] = [];
  for (let i = Ss.length - 1; i >= 0; i--) {
    alpha[i] = rho[i] * dotOf(Ss[i], q);
    for (let j = 0; j < D; j++) q[j] -= alpha[i] * Ys[i][j];
  }
  const last = Ss.length - 1;
  const gamma = last >= 0 ? dotOf(Ss[last], Ys[last]) / dotOf(Ys[last], Ys[last]) : 1 / Math.max(1, Math.sqrt(dotOf(g, g)));
  for (let j = 0; j < D; j++) q[j] *= gamma;
  for (let i = 0; i < Ss.length; i++) {
    const beta = rho[i] * dotOf(Ys[i], q);
    for (let j = 0; j < D; j++) q[j] += Ss[i][j] * (alpha[i] - beta);
  }
  return -dotOf(g, q);
}

/**
 * The vectors of an L-BFGS run over θ of length D and its last `memory` pairs (s, y), with
 * the steps fitReadout takes on them: direction() (lbfgsDirection: q = H_k·g, returns the
 * slope), trial(step) (xn = x - step·q), pair() (s = xn - x, y = gn - g, kept when
 * s·y > 1e-12, the oldest dropped beyond `memory`), divide(v, n) (v /= n). In the dense
 * module's memory when it has these kernels (the same operations in the same order, so the
 * same bits), else the JavaScript loops.
 */
export interface LbfgsState {
  x: Float64Array;
  g: Float64Array;
  q: Float64Array;
  xn: Float64Array;
  gn: Float64Array;
  /** pairs kept, oldest first */
  pairs(): number;
  direction(): number;
  trial(step: number): void;
  pair(): void;
  divide(v: Float64Array, n: number): void;
}

interface LbfgsKernels {
  lbfgsDir(q: number, g: number, Sp: number, Yp: number, rho: number, sy: number, yy: number, m: number, alpha: number, n: number): number;
  subScaledTo(out: number, x: number, y: number, n: number, s: number): void;
  lbfgsPair(s: number, y: number, xn: number, x: number, gn: number, g: number, n: number): number;
  dotInOrder(a: number, b: number, n: number): number;
  divBy(x: number, n: number, d: number): void;
}

export function lbfgsState(D: number, memory: number, js = false): LbfgsState {
  return (!js && lbfgsDense(D, memory)) || lbfgsJs(D, memory);
}

function lbfgsJs(D: number, memory: number): LbfgsState {
  const x = new Float64Array(D);
  const g = new Float64Array(D);
  const q = new Float64Array(D);
  const xn = new Float64Array(D);
  const gn = new Float64Array(D);
  const Ss: Float64Array[] = [];
  const Ys: Float64Array[] = [];
  const rho: number[] = [];
  // per pair, s·y and y·y (the scale of the initial inverse Hessian)
  const sy: number[] = [];
  const yy: number[] = [];
  const alpha = new Float64Array(memory + 1);
  return {
    x, g, q, xn, gn,
    pairs: () => Ss.length,
    direction: () => lbfgsDirection(q, g, Ss, Ys, rho, sy, yy, alpha),
    trial(step) {
      for (let j = 0; j < D; j++) xn[j] = x[j] - step * q[j];
    },
    pair() {
      const s = new Float64Array(D);
      const yv = new Float64Array(D);
      for (let j = 0; j < D; j++) {
        s[j] = xn[j] - x[j];
        yv[j] = gn[j] - g[j];
      }
      const sY = dotOf(s, yv);
      if (sY > 1e-12) {
        Ss.push(s);
        Ys.push(yv);
        rho.push(1 / sY);
        sy.push(sY);
        yy.push(dotOf(yv, yv));
        if (Ss.length > memory) {
          Ss.shift();
          Ys.shift();
          rho.shift();
          sy.shift();
          yy.shift();
        }
      }
    },
    divide(v, n) {
      for (let i = 0; i < v.length; i++) v[i] /= n;
    },
  };
}

function lbfgsDense(D: number, memory: number): LbfgsState | null {
  const slots = memory + 1;
  const d = denseArena({
    x: ['f64', D], g: ['f64', D], q: ['f64', D], xn: ['f64', D], gn: ['f64', D],
    S: ['f64', slots * D], Y: ['f64', slots * D],
    Sp: ['i32', memory], Yp: ['i32', memory], rho: ['f64', memory], sy: ['f64', memory], yy: ['f64', memory], alpha: ['f64', memory + 1],
  });
  const k = d?.x as unknown as Partial<LbfgsKernels> | undefined;
  if (!d || !k || typeof k.lbfgsDir !== 'function' || typeof k.subScaledTo !== 'function' || typeof k.lbfgsPair !== 'function' || typeof k.dotInOrder !== 'function' || typeof k.divBy !== 'function') return null;
  const x = k as LbfgsKernels;
  const { v, p } = d;
  // slot i of the pair store: s at S + 8·i·D, y at Y + 8·i·D; `order` lists the kept slots, oldest first
  const sAt = (i: number) => p.S + 8 * i * D;
  const yAt = (i: number) => p.Y + 8 * i * D;
  const order: number[] = [];
  const rho: number[] = [];
  const sy: number[] = [];
  const yy: number[] = [];
  const base = (a: Float64Array) => (a.buffer === v.x.buffer ? a.byteOffset : -1);
  return {
    x: v.x, g: v.g, q: v.q, xn: v.xn, gn: v.gn,
    pairs: () => order.length,
    direction() {
      const m = order.length;
      for (let i = 0; i < m; i++) {
        v.Sp[i] = sAt(order[i]);
        v.Yp[i] = yAt(order[i]);
        v.rho[i] = rho[i];
        v.sy[i] = sy[i];
        v.yy[i] = yy[i];
      }
      return x.lbfgsDir(p.q, p.g, p.Sp, p.Yp, p.rho, p.sy, p.yy, m, p.alpha, D);
    },
    trial(step) {
      x.subScaledTo(p.xn, p.x, p.q, D, step);
    },
    pair() {
      // a free slot: one not in order (there are memory + 1)
      let free = 0;
      while (order.includes(free)) free++;
      const sY = x.lbfgsPair(sAt(free), yAt(free), p.xn, p.x, p.gn, p.g, D);
      if (sY > 1e-12) {
        order.push(free);
        rho.push(1 / sY);
        sy.push(sY);
        yy.push(x.dotInOrder(yAt(free), yAt(free), D));
        if (order.length > memory) {
          order.shift();
          rho.shift();
          sy.shift();
          yy.shift();
        }
      }
    },
    divide(a, n) {
      const at = base(a);
      if (at >= 0) x.divBy(at, a.length, n);
      else for (let i = 0; i < a.length; i++) a[i] /= n;
    },
  };
}

/**
 * Fit Wy, by of w in place on its own states over t = 0..N-2: L-BFGS (memory 10, Armijo
 * backtracking from step 1) on the mean cross-entropy, from Wy = 0 and the marginal by.
 * The loss and gradient are factored-readout's factoredGrad (tested against its naive twin).
 * Returns the mean loss (bits) after each iteration (non-increasing), and the bpc of the
 * rebuilt RNN with the fitted readout as stored (float32), over t = 0..N-2 with `floor`:
 * the factored readout of its states (bytes that never occur share one logit row, exactly
 * as the full 256-way softmax of a forward pass computes it, which the tests check).
 */
export function fitReadout(w: Weights, xs: Uint8Array, iters: number, floor = 1e-8, memory = 10, sample?: FitSample): { losses: Float64Array; bpc: number } {
  const { H } = w;
  const N = xs.length;
  const cls = byteClasses(xs);
  const pb = positionBlocks(0, N - 2, sample?.maxPositions ?? Infinity, sample?.blockLength ?? 1);
  let { S } = forwardStatesFast(w, xs);
  let y = targetClasses(xs, cls);
  let T = N;
  if (pb.sampled) {
    // the states and targets of the sampled positions only: the fit treats positions independently
    const pos = blockPositions(pb);
    const Ss = new Float32Array(pos.length * H);
    for (let i = 0; i < pos.length; i++) Ss.set(S.subarray(pos[i] * H, pos[i] * H + H), i * H);
    S = Ss;
    y = sampleTargets(y, pos);
    T = pos.length;
  }
  const n = pb.sampled ? T : N - 1;
  const Fb = factorBlocks(S, T, H, H);
  const KH = cls.K * H;
  const D = KH + cls.K;
  // θ = [W (K, H), b (K)]
  const L = lbfgsState(D, memory);
  const { x, g, xn, gn } = L;
  x.set(toClasses(marginalBias(xs), 1, cls), KH);
  const work = gdWork(Fb, cls.K);
  const lossGrad = (th: Float64Array, gr: Float64Array): number => {
    const l = factoredGrad(gr.subarray(0, KH), gr.subarray(KH), Fb, th.subarray(0, KH), th.subarray(KH), cls, y, 0, n, 1e-30, work);
    L.divide(gr, n);
    return l / n;
  };
  let f = lossGrad(x, g);
  const losses = new Float64Array(iters);
  for (let it = 0; it < iters; it++) {
    // two-loop recursion: q = H_k · g, and the slope -g·q
    const slope = L.direction();
    let step = 1;
    let fn: number;
    for (;;) {
      L.trial(step);
      fn = lossGrad(xn, gn);
      if (fn <= f + 1e-4 * step * slope || step < 1e-8) break;
      step /= 2;
    }
    if (!(fn <= f)) {
      losses.fill(f / Math.LN2, it);
      break; // no descent left (converged to float precision)
    }
    L.pair();
    x.set(xn);
    g.set(gn);
    f = fn;
    losses[it] = f / Math.LN2;
  }
  w.Wy.set(fromClasses(x.subarray(0, KH), H, cls));
  w.by.set(fromClasses(x.subarray(KH), 1, cls));
  // the bpc only when asked for: describe writes the readout and scores nothing here
  let bpc: number | undefined;
  return {
    losses,
    get bpc() {
      return (bpc ??= factoredBpc(Fb, toClasses(w.Wy, H, cls), toClasses(w.by, 1, cls), cls, y, 0, n, floor));
    },
  };
}

/** Which positions a readout fit uses: every t = 0..N-2 up to maxPositions, above it evenly spread blocks of blockLength. */
export interface FitSample {
  maxPositions: number;
  blockLength: number;
}

/** The words a description's readout rule uses for the positions of its fit. */
function fitPositions(N: number, sample: FitSample | undefined): string {
  const pb = positionBlocks(0, N - 2, sample?.maxPositions ?? Infinity, sample?.blockLength ?? 1);
  return pb.sampled ? `${pb.count} of the positions t = 0..N-2, in ${pb.blocks.length} evenly spread blocks of ${pb.blocks[0][1] - pb.blocks[0][0] + 1}` : 't = 0..N-2';
}

/**
 * The rule description d with its readout replaced by one fitted on its own rebuilt states
 * (fitReadout, `iters` L-BFGS steps on t = 0..N-2 of xs) and written for every unit,
 * rounded to `digits` decimals: level rules_<set>_fit. The fit reads the data's next bytes;
 * it happens here, in describe, and what it produced is in the description, counted.
 */
export function withFittedReadout(d: Description, xs: Uint8Array, iters: number, digits: number, sample?: FitSample): Description {
  const { w } = rebuildRules(d);
  fitReadout(w, xs, iters, undefined, undefined, sample);
  const H = w.H;
  const out: Description = structuredClone(d);
  out.header.level = `${d.header.level}_fit`;
  out.header.readout = {
    columns: 'all', source: 'fit',
    rule: `per seen byte, a Wy row over all ${H} units and its by, fitted in describe on the rebuilt states (${iters} L-BFGS steps on the cross-entropy over ${fitPositions(xs.length, sample)}, from Wy = 0 and the smoothed marginal by), rounded to ${digits} decimals; byOther: the by of the bytes never seen`,
  };
  out.body.readout = packReadout(w.Wy, w.by, H, d.body.seen as number[], [...Array(H).keys()], digits);
  return out;
}

/**
 * The linear form of a rule level: each described unit's carrier written as the rule the
 * cell-carrier fit gives (its Wh row on the feature units, then bh, rounded to `rowDigits`)
 * and its pattern table as its Wx on the seen bytes (rounded to `wxDigits`) instead of cell
 * carriers and bins; a readout fitted on the states this form rebuilds (as withFittedReadout),
 * rounded to `readoutDigits`. Level rules_<set>_linear. No cells are written: the rule
 * holds for every cell.
 */
export function linearForm(d: Description, xs: Uint8Array, iters: number, rowDigits: number, wxDigits: number, readoutDigits: number, sample?: FitSample): Description {
  const { w, layout: L, units } = rebuildRules(d);
  const H = w.H;
  const seen = d.body.seen as number[];
  const rnd = (x: number, k: number) => {
    const y = Number(x.toFixed(k));
    return y === 0 ? 0 : y;
  };
  const body: Record<string, any> = {
    seen,
    units: units.map((j, r) => {
      const u = L.F + r;
      return {
        unit: j,
        row: [...Array.from(w.Wh.subarray(u * H, u * H + L.F), (x) => rnd(x, rowDigits)), rnd(w.bh[u], rowDigits)],
        wx: seen.map((v) => rnd(w.Wx[u * V + v], wxDigits)),
      };
    }),
  };
  const out: Description = {
    header: {
      ...structuredClone(d.header),
      level: `${d.header.level}_linear`,
      form: 'linear',
      rebuild: { gain: d.header.rebuild.gain, rule: 'feature units at gain a; each described unit: Wh on the feature units and bh from its row, Wx on the seen bytes from wx (0 for the others)' },
      row: `per described unit, its carrier as a rule of the features: the weights on the feature units in S[t-1] (in layout order) and then bh, rounded to ${rowDigits} decimals`,
      wx: `per described unit and seen byte, Wx rounded to ${wxDigits} decimals (the pattern table: byte v switches the unit on where carrier + Wx[v] ≥ 0)`,
    },
    body,
  };
  delete out.header.cellKey;
  delete out.header.cellCount;
  delete out.header.carrier;
  delete out.header.wxBin;
  const { w: lw } = rebuildLinearStates(out);
  fitReadout(lw, xs, iters, undefined, undefined, sample);
  out.header.readout = {
    columns: 'all', source: 'fit',
    rule: `per seen byte, a Wy row over all ${H} units and its by, fitted in describe on the states of this form (${iters} L-BFGS steps on the cross-entropy over ${fitPositions(xs.length, sample)}), rounded to ${readoutDigits} decimals; byOther: the by of the bytes never seen`,
  };
  out.body.readout = packReadout(lw.Wy, lw.by, H, seen, [...Array(H).keys()], readoutDigits);
  return out;
}

/** Wx, Wh, bh of a linear-form rule description (the readout left 0). */
function rebuildLinearStates(d: Description): { w: Weights; layout: FeatureLayout; units: number[] } {
  const H = d.header.H as number;
  const w = zeroWeights(H);
  const L = featureLayout(d.header);
  writeFeatureUnits(w, L, d.header.rebuild.gain);
  const units = d.body.units as { unit: number; row: number[]; wx: number[] }[];
  const R = Math.min(units.length, H - L.F);
  const seen = d.body.seen as number[];
  for (let r = 0; r < R; r++) {
    const u = L.F + r;
    for (let i = 0; i < L.F; i++) w.Wh[u * H + i] = units[r].row[i] ?? 0;
    w.bh[u] = units[r].row[L.F] ?? 0;
    seen.forEach((v, i) => (w.Wx[u * V + v] = units[r].wx[i]));
  }
  return { w, layout: L, units: units.slice(0, R).map((u) => u.unit) };
}

/**
 * Every weight from a checked description (lib/analysis/describe.ts parseDescription), and
 * which of the model's units each rebuilt unit stands for (-1: none; null: no unit is kept
 * one to one, as in marginal).
 */
export function rebuildFrom(d: Description): { w: Weights; unitMap: number[] | null } {
  const level = d.header.level as string;
  if (level === 'full') {
    const w = rebuildFull(d);
    return { w, unitMap: [...Array(w.H).keys()] };
  }
  if (level === 'marginal') return { w: rebuildMarginal(d), unitMap: null };
  const linear = d.header.form === 'linear';
  const { w, layout, units } = linear ? rebuildLinearStates(d) : rebuildRules(d);
  if (linear) writeReadout(w, d, layout.F, units.length);
  const map = new Array(w.H).fill(-1);
  units.forEach((j, r) => (map[layout.F + r] = j));
  return { w, unitMap: map };
}
