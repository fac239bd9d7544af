// Paper §5.1 "Three failed approaches": backward-gradient attribution, ablation and
// decisive chains. Implements SPEC §5 (§5.1 baselines), for output positions
// T = firstT..lastT and state offsets d = 0..D-1 (byte x_{T-d}).
//
// Gradient attribution. With G[s] = ∂L_T/∂S[s] (lib/analysis/influence.ts) and
// ∂S[s]_j/∂Wx[j][x_s] = 1 - S[s]_j², the byte x_{T-d}'s input term gets
//   raw(T, d) = |Σ_j G[T-d]_j (1 - S[T-d]_j²) Wx[j][x_{T-d}]|
//   normalized(T, d) = raw(T, d) / Σ_d' raw(T, d')          (then averaged over T)
//
// Ablation. Recompute step s = T-d without its Wx term (z'_s = Wh·S[s-1] + bh), run the
// float32 forward on to T and read out x_{T+1}:
//   Δbits(T, d) = bits_ablated(T) - bits(T)
// The fast kernel runs forward once from each ablated step s to min(s + D - 1, lastT) and
// reads the bits at every T it passes (d = T - s); the naive twin re-runs every (T, d).
// Both replay the trace's float32 arithmetic (lib/rnn/forward.ts) step for step, so an
// ablation that changes nothing gives Δ = 0 exactly.
//
// Decisive chains. The term Wh[j][k]·S[t-1][k] is decisive for node (t, j) when removing
// it flips the sign of the pre-activation: sign(z_t[j] - Wh[j][k]·S[t-1][k]) ≠ sign(z_t[j])
// (sign(0) = +1). The decisive children of (t, j) are the nodes (t-1, k) of its decisive
// terms, and the depth reached from (t, j) is the length of the longest path of decisive
// terms:
//   depth(t, j) = 0                                       if (t, j) has no decisive term
//               = 1 + max_{k decisive for (t,j)} depth(t-1, k)   otherwise
// (t = 0 has none, as S[-1] = 0.) It is memoized over (t, j) by filling t = 0, 1, …, so
// a chain from (T, j) reaches depth d exactly when depth(T, j) ≥ d. The naive twin
// searches the paths recursively without memo.
//
// Layouts (row-major): per-(T, d) tables are (nT, D): M[(T - firstT)*D + d]; depth is
// (N, H): depth[t*H + j]. S and z are the trace's float32 arrays.

import { V, type Weights } from '../rnn/weights.ts';
import { bitsOf, forwardStates, readoutLogp } from '../rnn/forward.ts';
import { forEachGradient, gradientsAt } from './influence.ts';

type States = Float32Array | Float64Array;

// ---------------------------------------------------------------- gradient attribution

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

/** Column means of an (nT, D) table, and of its absolute values. */
export function columnMeans(M: Float64Array, D: number): { mean: number[]; meanAbs: number[] } {
  const nT = M.length / D;
  const mean = new Array<number>(D).fill(0);
  const meanAbs = new Array<number>(D).fill(0);
  for (let i = 0; i < nT; i++) {
    for (let d = 0; d < D; d++) {
      mean[d] += M[i * D + d];
      meanAbs[d] += Math.abs(M[i * D + d]);
    }
  }
  for (let d = 0; d < D; d++) {
    mean[d] /= nT || 1;
    meanAbs[d] /= nT || 1;
  }
  return { mean, meanAbs };
}

// ---------------------------------------------------------------- ablation

/**
 * Four float32 forward steps side by side, the arithmetic of forwardStates for each:
 * chain c goes from prev (4, H) to next (4, H) with byte xc (xc < 0: no input term, the
 * ablated step). Register-blocked over two rows of Wh × four chains (a last odd row alone).
 */
function step4(w: Weights, prev: Float64Array, x0: number, x1: number, x2: number, x3: number, next: Float64Array): void {
  const { H, Wh } = w;
  const p1 = H, p2 = 2 * H, p3 = 3 * H;
  let i = 0;
  for (; i + 1 < H; i += 2) {
    const row = i * H;
    const row1 = row + H;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    let e0 = 0, e1 = 0, e2 = 0, e3 = 0;
    for (let j = 0; j < H; j++) {
      const wt = Wh[row + j];
      const wu = Wh[row1 + j];
      const h0 = prev[j], h1 = prev[p1 + j], h2 = prev[p2 + j], h3 = prev[p3 + j];
      a0 += wt * h0;
      a1 += wt * h1;
      a2 += wt * h2;
      a3 += wt * h3;
      e0 += wu * h0;
      e1 += wu * h1;
      e2 += wu * h2;
      e3 += wu * h3;
    }
    squash4(w, i, a0, a1, a2, a3, x0, x1, x2, x3, next);
    squash4(w, i + 1, e0, e1, e2, e3, x0, x1, x2, x3, next);
  }
  if (i < H) {
    const row = i * H;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (let j = 0; j < H; j++) {
      const wt = Wh[row + j];
      a0 += wt * prev[j];
      a1 += wt * prev[p1 + j];
      a2 += wt * prev[p2 + j];
      a3 += wt * prev[p3 + j];
    }
    squash4(w, i, a0, a1, a2, a3, x0, x1, x2, x3, next);
  }
}

/** next[c*H + i] = fround(tanh(fround(Wx[i][xc] + ac + bh[i]))) for the four chains c (xc < 0: no Wx term). */
function squash4(w: Weights, i: number, a0: number, a1: number, a2: number, a3: number, x0: number, x1: number, x2: number, x3: number, next: Float64Array): void {
  const { H, Wx, bh } = w;
  const b = bh[i];
  const r = i * V;
  next[i] = Math.fround(Math.tanh(x0 >= 0 ? Math.fround(Wx[r + x0] + a0 + b) : Math.fround(a0 + b)));
  next[H + i] = Math.fround(Math.tanh(x1 >= 0 ? Math.fround(Wx[r + x1] + a1 + b) : Math.fround(a1 + b)));
  next[2 * H + i] = Math.fround(Math.tanh(x2 >= 0 ? Math.fround(Wx[r + x2] + a2 + b) : Math.fround(a2 + b)));
  next[3 * H + i] = Math.fround(Math.tanh(x3 >= 0 ? Math.fround(Wx[r + x3] + a3 + b) : Math.fround(a3 + b)));
}

/**
 * Four readouts side by side: out[i] = log softmax(Wy·h_i + by)[o_i] for h (4, H), in the
 * arithmetic of readoutLogp (logits summed over j in order, then max, Σ exp, log).
 * Register-blocked over two output rows × four chains (V = 256 is even).
 * `logits` is (4, V) scratch.
 */
function readout4(w: Weights, h: Float64Array, o: Int32Array, logits: Float64Array, out: Float64Array): void {
  const { H, Wy, by } = w;
  const p1 = H, p2 = 2 * H, p3 = 3 * H;
  for (let q = 0; q < V; q += 2) {
    const row = q * H;
    const row1 = row + H;
    const b = by[q];
    const c = by[q + 1];
    let a0 = b, a1 = b, a2 = b, a3 = b;
    let e0 = c, e1 = c, e2 = c, e3 = c;
    for (let j = 0; j < H; j++) {
      const wt = Wy[row + j];
      const wu = Wy[row1 + j];
      const h0 = h[j], h1 = h[p1 + j], h2 = h[p2 + j], h3 = h[p3 + j];
      a0 += wt * h0;
      a1 += wt * h1;
      a2 += wt * h2;
      a3 += wt * h3;
      e0 += wu * h0;
      e1 += wu * h1;
      e2 += wu * h2;
      e3 += wu * h3;
    }
    logits[q] = a0;
    logits[V + q] = a1;
    logits[2 * V + q] = a2;
    logits[3 * V + q] = a3;
    logits[q + 1] = e0;
    logits[V + q + 1] = e1;
    logits[2 * V + q + 1] = e2;
    logits[3 * V + q + 1] = e3;
  }
  for (let i = 0; i < 4; i++) {
    const off = i * V;
    let max = -Infinity;
    for (let q = 0; q < V; q++) if (logits[off + q] > max) max = logits[off + q];
    let sum = 0;
    for (let q = 0; q < V; q++) sum += Math.exp(logits[off + q] - max);
    out[i] = logits[off + o[i]] - (max + Math.log(sum));
  }
}

/**
 * Δbits(T, d), (nT, D): one forward run per ablated step s, four runs (s..s+3) in lock
 * step; run i reads its bits at T = s + i + r for r = 0..D-1 (capped at lastT), d = T - (s+i).
 * logp is the trace's (N, V).
 */
export function ablationFast(
  w: Weights,
  xs: Uint8Array,
  S: States,
  logp: Float64Array,
  firstT: number,
  lastT: number,
  D: number,
  floor: number,
  progress?: (done: number, total: number) => void,
): Float64Array {
  const { H } = w;
  const N = xs.length;
  const nT = lastT - firstT + 1;
  const out = new Float64Array(nT * D);
  let a = new Float64Array(4 * H);
  let b = new Float64Array(4 * H);
  const logits = new Float64Array(4 * V);
  const lp = new Float64Array(4);
  const tgt = new Int32Array(4);
  const sFirst = Math.max(0, firstT - D + 1);
  for (let s = sFirst; s <= lastT; s += 4) {
    // a = S[s+i-1] for chain i (S[-1] = 0), then each chain's ablated step
    for (let i = 0; i < 4; i++) {
      const t = s + i - 1;
      for (let j = 0; j < H; j++) a[i * H + j] = t >= 0 && t < N ? S[t * H + j] : 0;
    }
    step4(w, a, -1, -1, -1, -1, b);
    const steps = Math.min(D, lastT - s + 1); // chain 0 runs longest
    for (let r = 0; r < steps; r++) {
      if (r > 0) {
        // byte x_T of each chain; chains past the end step on byte 0 and are not read
        const x = (i: number) => (s + i + r < N ? xs[s + i + r] : 0);
        step4(w, b, x(0), x(1), x(2), x(3), a);
        const tmp = a;
        a = b;
        b = tmp;
      }
      if (s + 3 + r < firstT) continue;
      for (let i = 0; i < 4; i++) tgt[i] = s + i + r + 1 < N ? xs[s + i + r + 1] : 0;
      readout4(w, b, tgt, logits, lp);
      for (let i = 0; i < 4; i++) {
        const T = s + i + r;
        if (T < firstT || T > lastT) continue;
        const actual = bitsOf(logp[T * V + xs[T + 1]], floor);
        out[(T - firstT) * D + r] = bitsOf(lp[i], floor) - actual;
      }
    }
    if (progress && ((s - sFirst) & 63) === 0) progress(s - sFirst, lastT - sFirst + 1);
  }
  return out;
}

/** Naive twin of ablationFast: a fresh re-run through forwardStates for every (T, d). */
export function ablationNaive(
  w: Weights,
  xs: Uint8Array,
  S: States,
  logp: Float64Array,
  firstT: number,
  lastT: number,
  D: number,
  floor: number,
): Float64Array {
  const { H, Wh, bh } = w;
  const nT = lastT - firstT + 1;
  const out = new Float64Array(nT * D);
  const lp = new Float64Array(V);
  for (let T = firstT; T <= lastT; T++) {
    for (let d = 0; d < D; d++) {
      const s = T - d;
      // step s without Wx: z'_s = Wh·S[s-1] + bh
      const h0 = new Float32Array(H);
      for (let i = 0; i < H; i++) {
        let acc = 0;
        for (let j = 0; j < H; j++) acc += Wh[i * H + j] * (s > 0 ? S[(s - 1) * H + j] : 0);
        h0[i] = Math.tanh(Math.fround(acc + bh[i]));
      }
      const rest = forwardStates(w, xs.subarray(s + 1, T + 1), h0).S;
      const hT = d === 0 ? h0 : rest.subarray((d - 1) * H, d * H);
      readoutLogp(w, hT, 0, lp);
      out[(T - firstT) * D + d] = bitsOf(lp[xs[T + 1]], floor) - bitsOf(logp[T * V + xs[T + 1]], floor);
    }
  }
  return out;
}

// ---------------------------------------------------------------- decisive chains

/** Is Wh[j][k]·S[t-1][k] decisive for (t, j)? z is the trace's (N, H) pre-activation. */
export function isDecisive(w: Weights, z: States, S: States, t: number, j: number, k: number): boolean {
  const { H, Wh } = w;
  if (t === 0) return false;
  const zj = z[t * H + j];
  const term = Wh[j * H + k] * S[(t - 1) * H + k];
  return zj - term >= 0 !== zj >= 0;
}

/** depth(t, j) for t = 0..N-1, (N, H), memoized forward in t. */
export function decisiveDepth(w: Weights, z: States, S: States, N: number): Int32Array {
  const { H, Wh } = w;
  const depth = new Int32Array(N * H);
  for (let t = 1; t < N; t++) {
    const prev = (t - 1) * H;
    for (let j = 0; j < H; j++) {
      const zj = z[t * H + j];
      const pos = zj >= 0;
      const row = j * H;
      let best = 0;
      for (let k = 0; k < H; k++) {
        if (zj - Wh[row + k] * S[prev + k] >= 0 !== pos) {
          const c = 1 + depth[prev + k];
          if (c > best) best = c;
        }
      }
      depth[t * H + j] = best;
    }
  }
  return depth;
}

/** Naive twin: does a path of `d` decisive terms start at (t, j)? (no memo; small inputs) */
export function reachesNaive(w: Weights, z: States, S: States, t: number, j: number, d: number): boolean {
  if (d === 0) return true;
  for (let k = 0; k < w.H; k++) {
    if (isDecisive(w, z, S, t, j, k) && reachesNaive(w, z, S, t - 1, k, d - 1)) return true;
  }
  return false;
}

/** Fraction of nodes (T, j), T = firstT..lastT, all j, with depth ≥ d, for d = 1..maxDepth. */
export function reachFractions(depth: Int32Array, H: number, firstT: number, lastT: number, maxDepth: number): number[] {
  const counts = new Array<number>(maxDepth).fill(0);
  for (let T = firstT; T <= lastT; T++) {
    for (let j = 0; j < H; j++) {
      const v = depth[T * H + j];
      for (let d = 1; d <= maxDepth && d <= v; d++) counts[d - 1]++;
    }
  }
  const n = (lastT - firstT + 1) * H;
  return counts.map((c) => c / n);
}
