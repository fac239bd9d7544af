// Paper §5.3 "Jacobian × pattern deviation" (eq. 7, Table 3). Implements docs/definitions.md §5.
//
// For an output position T with target o = x_{T+1}, the logit L = Wy[o]·S[T] + by[o]
// has the backward gradient G[s] = ∂L/∂S[s] (float64):
//   G[T] = Wy[o]
//   G[s] = Whᵀ (G[s+1] ⊙ (1 - S[s+1]²))         (S[s+1] = tanh z_{s+1}, so tanh' = 1 - S²)
// and the influence of the byte at state offset d (byte x_{T-d}) on L is
//   influence(T, d) = G[T-d] · δ_{T-d}                                      (eq. 7)
// with δ the pattern deviation of eq. 6 (lib/analysis/carrier.ts). The paper writes
// g_{t-d+1}·δ_{t-d} in its h_{t+1} indexing; with S[t] = h_{t+1} (docs/definitions.md §0) that is
// G[T-d]·δ_{T-d}.
//
// Layouts (row-major): G for one T is (D, H): G[d*H + j] = ∂L_T/∂S[T-d]_j; the
// influence and gradient-norm tables are (nT, D): M[(T - firstT)*D + d].

import type { Weights } from '../rnn/weights.ts';
import { Mv4, denseArena } from '../rnn/wasm-dense.ts';

type States = Float32Array | Float64Array;

/**
 * Backward gradients of L_T (target o) with respect to S[T], S[T-1], …, S[T-D+1]:
 * fills G (D, H). `u` is (H) scratch. Needs T - D + 1 ≥ 0.
 */
export function gradientsAt(w: Weights, S: States, o: number, T: number, D: number, G: Float64Array, u: Float64Array): void {
  const { H, Wh, Wy } = w;
  // Wy is (V, H): Wy[o*H + j]
  for (let j = 0; j < H; j++) G[j] = Wy[o * H + j];
  for (let d = 1; d < D; d++) {
    const next = (d - 1) * H; // G[s+1], s = T - d
    const cur = d * H; // G[s]
    const sNext = (T - d + 1) * H; // S[s+1]
    for (let j = 0; j < H; j++) {
      const h = S[sNext + j];
      u[j] = G[next + j] * (1 - h * h);
      G[cur + j] = 0;
    }
    // Wh is (H, H): Wh[j*H + k] weights S[s]_k into unit j, so (Whᵀ u)_k = Σ_j Wh[j][k] u_j
    for (let j = 0; j < H; j++) {
      const uj = u[j];
      if (uj === 0) continue;
      const row = j * H;
      for (let k = 0; k < H; k++) G[cur + k] += Wh[row + k] * uj;
    }
  }
}

/** Whᵀ as its own (H, H) float64 array: WhT[k*H + j] = Wh[j*H + k]. */
export function transposeWh(w: Weights): Float64Array {
  const { H, Wh } = w;
  const WhT = new Float64Array(H * H);
  for (let j = 0; j < H; j++) for (let k = 0; k < H; k++) WhT[k * H + j] = Wh[j * H + k];
  return WhT;
}

/**
 * gradientsAt for four output positions Ts[0..3] at once, register-blocked: each step
 * reads two rows of Whᵀ once for all four chains. G is (4, D, H): G[(i*D + d)*H + j];
 * `u` is (4, H) scratch. Sums run over j in the same order as gradientsAt, so the results
 * are bitwise identical to it (test/analysis/influence.test.ts compares them).
 */
export function gradientsAt4(w: Weights, WhT: Float64Array, S: States, xs: Uint8Array, Ts: ArrayLike<number>, D: number, G: Float64Array, u: Float64Array): void {
  const { H, Wy } = w;
  const T0 = Ts[0], T1 = Ts[1], T2 = Ts[2], T3 = Ts[3];
  const g0 = 0, g1 = D * H, g2 = 2 * D * H, g3 = 3 * D * H; // chain offsets in G
  const u0 = 0, u1 = H, u2 = 2 * H, u3 = 3 * H; // chain offsets in u
  const o0 = xs[T0 + 1] * H, o1 = xs[T1 + 1] * H, o2 = xs[T2 + 1] * H, o3 = xs[T3 + 1] * H;
  const mv = Mv4.for(WhT, H, H);
  for (let j = 0; j < H; j++) {
    G[g0 + j] = Wy[o0 + j];
    G[g1 + j] = Wy[o1 + j];
    G[g2 + j] = Wy[o2 + j];
    G[g3 + j] = Wy[o3 + j];
  }
  for (let d = 1; d < D; d++) {
    const next = (d - 1) * H;
    const cur = d * H;
    const s0 = (T0 - d + 1) * H, s1 = (T1 - d + 1) * H, s2 = (T2 - d + 1) * H, s3 = (T3 - d + 1) * H;
    for (let j = 0; j < H; j++) {
      const h0 = S[s0 + j], h1 = S[s1 + j], h2 = S[s2 + j], h3 = S[s3 + j];
      u[u0 + j] = G[g0 + next + j] * (1 - h0 * h0);
      u[u1 + j] = G[g1 + next + j] * (1 - h1 * h1);
      u[u2 + j] = G[g2 + next + j] * (1 - h2 * h2);
      u[u3 + j] = G[g3 + next + j] * (1 - h3 * h3);
    }
    // Whᵀ·u for the four chains: in WebAssembly (the same sums in the same order), or
    // two rows of Whᵀ × four chains per pass over u (a last odd row alone)
    if (mv) {
      mv.run(u, 0, null, G, cur, D * H);
      continue;
    }
    let k = 0;
    for (; k + 1 < H; k += 2) {
      const row = k * H;
      const row1 = row + H;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      let e0 = 0, e1 = 0, e2 = 0, e3 = 0;
      for (let j = 0; j < H; j++) {
        const wt = WhT[row + j];
        const wu = WhT[row1 + j];
        const v0 = u[u0 + j], v1 = u[u1 + j], v2 = u[u2 + j], v3 = u[u3 + j];
        a0 += wt * v0;
        a1 += wt * v1;
        a2 += wt * v2;
        a3 += wt * v3;
        e0 += wu * v0;
        e1 += wu * v1;
        e2 += wu * v2;
        e3 += wu * v3;
      }
      G[g0 + cur + k] = a0;
      G[g1 + cur + k] = a1;
      G[g2 + cur + k] = a2;
      G[g3 + cur + k] = a3;
      G[g0 + cur + k + 1] = e0;
      G[g1 + cur + k + 1] = e1;
      G[g2 + cur + k + 1] = e2;
      G[g3 + cur + k + 1] = e3;
    }
    if (k < H) {
      const row = k * H;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (let j = 0; j < H; j++) {
        const wt = WhT[row + j];
        a0 += wt * u[u0 + j];
        a1 += wt * u[u1 + j];
        a2 += wt * u[u2 + j];
        a3 += wt * u[u3 + j];
      }
      G[g0 + cur + k] = a0;
      G[g1 + cur + k] = a1;
      G[g2 + cur + k] = a2;
      G[g3 + cur + k] = a3;
    }
  }
}

/**
 * Calls visit(T, G, base) for T = firstT..lastT, where G[base + d*H + j] = ∂L_T/∂S[T-d]_j,
 * computing the gradients four positions at a time (the tail repeats lastT and skips it):
 * gradientsAt4, or with float32 S and build/dense.wasm its steps in WebAssembly (same bits).
 */
export function forEachGradient(
  w: Weights,
  S: States,
  xs: Uint8Array,
  firstT: number,
  lastT: number,
  D: number,
  visit: (T: number, G: Float64Array, base: number) => void,
): void {
  const { H, Wy } = w;
  const WhT = transposeWh(w);
  const k = S instanceof Float32Array ? denseArena({ G: ['f64', 4 * D * H], Sb: ['f32', (D + 3) * H], WhT: ['f64', H * H], v: ['f64', 4 * H], out: ['f64', 4 * H] }) : null;
  if (k) {
    // gradientsAt4's steps in WebAssembly (asm/dense.ts gradients4), the same bits; the
    // rows of S the four chains read, T0 - D + 2 .. T3, are copied in per group
    k.v.WhT.set(WhT);
    const G = k.v.G;
    for (let T = firstT; T <= lastT; T += 4) {
      const T3 = Math.min(T + 3, lastT);
      const lo = Math.max(0, T - D + 2);
      k.v.Sb.set(S.subarray(lo * H, (T3 + 1) * H));
      for (let i = 0; i < 4; i++) {
        const o = xs[Math.min(T + i, lastT) + 1] * H;
        for (let j = 0; j < H; j++) G[i * D * H + j] = Wy[o + j];
      }
      k.x.gradients4(k.p.G, k.p.Sb, lo, k.p.WhT, H, D, T, Math.min(T + 1, lastT), Math.min(T + 2, lastT), T3, k.p.v, k.p.out);
      for (let i = 0; i < 4 && T + i <= lastT; i++) visit(T + i, G, i * D * H);
    }
    return;
  }
  const G = new Float64Array(4 * D * H);
  const u = new Float64Array(4 * H);
  const Ts = new Int32Array(4);
  for (let T = firstT; T <= lastT; T += 4) {
    for (let i = 0; i < 4; i++) Ts[i] = Math.min(T + i, lastT);
    gradientsAt4(w, WhT, S, xs, Ts, D, G, u);
    for (let i = 0; i < 4 && T + i <= lastT; i++) visit(T + i, G, i * D * H);
  }
}

export interface InfluenceTable {
  firstT: number;
  lastT: number;
  D: number;
  /** (nT, D): G[T-d]·δ_{T-d} */
  influence: Float64Array;
  /** (nT, D): ‖G[T-d]‖₂ */
  gradNorm: Float64Array;
}

/** Eq. 7 for T = firstT..lastT and d = 0..D-1. δ is (N, H). Needs firstT ≥ D - 1. */
export function influenceTable(
  w: Weights,
  xs: Uint8Array,
  S: States,
  delta: Float64Array,
  firstT: number,
  lastT: number,
  D: number,
  progress?: (done: number, total: number) => void,
): InfluenceTable {
  const { H } = w;
  if (firstT - D + 1 < 0) throw new Error(`influence: firstT (${firstT}) must be ≥ maxOffset - 1 (${D - 1})`);
  if (lastT + 1 >= xs.length) throw new Error(`influence: lastT (${lastT}) must be ≤ N - 2 (${xs.length - 2})`);
  const nT = lastT - firstT + 1;
  const influence = new Float64Array(nT * D);
  const gradNorm = new Float64Array(nT * D);
  forEachGradient(w, S, xs, firstT, lastT, D, (T, G, base) => {
    const r = (T - firstT) * D;
    for (let d = 0; d < D; d++) {
      const dOff = (T - d) * H;
      const gOff = base + d * H;
      let dot = 0;
      let sq = 0;
      for (let j = 0; j < H; j++) {
        const g = G[gOff + j];
        dot += g * delta[dOff + j];
        sq += g * g;
      }
      influence[r + d] = dot;
      gradNorm[r + d] = Math.sqrt(sq);
    }
    if (progress && (T - firstT) % 64 === 0) progress(T - firstT, nT);
  });
  return { firstT, lastT, D, influence, gradNorm };
}

export interface OffsetRow {
  d: number;
  /** mean over T of influence(T, d) */
  signed: number;
  /** mean over T of |influence(T, d)| */
  unsigned: number;
  /** mean over T of ‖G[T-d]‖ */
  grad: number;
  /** unsigned(d) / unsigned(0) */
  decay: number;
}

/** Table 3's per-offset summary (all D rows). */
export function summarizeByOffset(t: InfluenceTable): OffsetRow[] {
  const { D, influence, gradNorm } = t;
  const nT = influence.length / D; // rows: every T of firstT..lastT, or the blocks of a sample
  const rows: OffsetRow[] = [];
  for (let d = 0; d < D; d++) {
    let s = 0;
    let a = 0;
    let g = 0;
    for (let i = 0; i < nT; i++) {
      const v = influence[i * D + d];
      s += v;
      a += Math.abs(v);
      g += gradNorm[i * D + d];
    }
    rows.push({ d, signed: s / nT, unsigned: a / nT, grad: g / nT, decay: 0 });
  }
  for (const r of rows) r.decay = rows[0].unsigned === 0 ? 0 : r.unsigned / rows[0].unsigned;
  return rows;
}

/** Mean of rows from..to (inclusive) of each column; the band rows of Table 3. */
export function bandMean(rows: OffsetRow[], from: number, to: number): Omit<OffsetRow, 'd'> & { from: number; to: number } {
  const sel = rows.filter((r) => r.d >= from && r.d <= to);
  const m = (k: 'signed' | 'unsigned' | 'grad' | 'decay') => sel.reduce((s, r) => s + r[k], 0) / (sel.length || 1);
  return { from, to, signed: m('signed'), unsigned: m('unsigned'), grad: m('grad'), decay: m('decay') };
}
