// Paper §3.1 "RNN–UM isomorphism" (docs/definitions.md §3.1): the doubled event space.
//
// Each hidden unit j becomes a binary event space {h_j+, h_j-} with
//   P(h_j+) = σ(2 z_j),  P(h_j-) = 1 - P(h_j+)          (tanh z = 2σ(2z) - 1)
// and every weight becomes a *pattern* of strength |w| from a source event to a target
// event:
//   input byte v (observed: P = 1 when x_t = v, else 0) -> h_j+ if Wx[j][v] > 0, h_j- if < 0
//   bias (an always-on source, P = 1)                    -> h_j+ if bh[j] > 0,    h_j- if < 0
//   hidden h_k+ (with P(h_k+))  -> h_j+ if Wh[j][k] > 0, h_j- if < 0
//   hidden h_k- (with P(h_k-))  -> the mirror: h_j- if Wh[j][k] > 0, h_j+ if < 0
// The evidence of an event is Σ strength · P(source) over the patterns into it. The
// evidence difference E(h_j+) - E(h_j-) is then exactly z_j, and the unit's value is
// P(h_j+) - P(h_j-). The state starts at P = ½ (h = 0) and is read out with
// Wy·(P+ - P-) + by. Everything is float64; this is its own evaluation of the UM, not a
// call to the RNN forward pass.

import { V, type Weights } from '../rnn/weights.ts';
import { TRACE_BLOCK, readoutLogpRows, bitsOf } from '../rnn/forward.ts';
import { denseArena } from '../rnn/wasm-dense.ts';

/**
 * The UM's patterns, stored by source event (CSR), so that a step only visits the
 * patterns whose source has non-zero probability.
 * Event numbering: byte events 0..V-1, the bias event V, then h_j+ = V+1+2j, h_j- = V+2+2j.
 */
export interface Patterns {
  H: number;
  nEvents: number;
  /** (nEvents + 1): patterns of source s are start[s] .. start[s+1]-1 */
  start: Int32Array;
  /** (nPatterns): target event of each pattern */
  target: Int32Array;
  /** (nPatterns): strength |w| of each pattern */
  strength: Float64Array;
}

export const BIAS_EVENT = V;
export const plusEvent = (j: number) => V + 1 + 2 * j;
export const minusEvent = (j: number) => V + 2 + 2 * j;

/** Build the pattern set from the RNN's weights (zero weights make no pattern). */
export function buildPatterns(w: Weights): Patterns {
  const { H, Wx, Wh, bh } = w;
  const nEvents = V + 1 + 2 * H;
  const bySource: { target: number; strength: number }[][] = Array.from({ length: nEvents }, () => []);
  const add = (src: number, wt: number, plusTarget: number, minusTarget: number) => {
    if (wt > 0) bySource[src].push({ target: plusTarget, strength: wt });
    else if (wt < 0) bySource[src].push({ target: minusTarget, strength: -wt });
  };
  for (let j = 0; j < H; j++) {
    // Wx is (H, V): Wx[j*V + v]
    for (let v = 0; v < V; v++) add(v, Wx[j * V + v], plusEvent(j), minusEvent(j));
    add(BIAS_EVENT, bh[j], plusEvent(j), minusEvent(j));
    // Wh is (H, H): Wh[j*H + k], from S[t-1]_k to unit j
    for (let k = 0; k < H; k++) {
      const wt = Wh[j * H + k];
      add(plusEvent(k), wt, plusEvent(j), minusEvent(j));
      add(minusEvent(k), wt, minusEvent(j), plusEvent(j)); // the mirrored pattern
    }
  }
  const start = new Int32Array(nEvents + 1);
  for (let s = 0; s < nEvents; s++) start[s + 1] = start[s] + bySource[s].length;
  const target = new Int32Array(start[nEvents]);
  const strength = new Float64Array(start[nEvents]);
  for (let s = 0; s < nEvents; s++) {
    bySource[s].forEach((p, i) => {
      target[start[s] + i] = p.target;
      strength[start[s] + i] = p.strength;
    });
  }
  return { H, nEvents, start, target, strength };
}

export interface UmResult {
  /** (T, H): u[t*H + j] = P(h_j+) - P(h_j-) after reading x_t (float64) */
  u: Float64Array;
  /** (T-1): -log2 max(p(x_{t+1}), floor) of the UM readout */
  bits: Float64Array;
  bpc: number;
  nPatterns: number;
}

/**
 * Evaluate the UM on xs: at each t, event probabilities P (sources) give evidence to the
 * hidden events, P(h_j+) = σ(2 (E(h_j+) - E(h_j-))), then the readout predicts x_{t+1}.
 */
export function evaluateUm(w: Weights, pat: Patterns, xs: Uint8Array, floor: number): UmResult {
  const u = umStatesDense(pat, xs) ?? umStates(pat, xs);
  return readUm(w, u, xs, floor, pat.target.length);
}

/** The UM's unit values u (T, H) on xs, pattern by pattern: the definition, and the fallback of umStatesDense. */
export function umStates(pat: Patterns, xs: Uint8Array): Float64Array {
  const { H } = pat;
  const T = xs.length;
  const { start, target, strength, nEvents } = pat;
  const P = new Float64Array(nEvents); // probabilities of the source events at step t
  const E = new Float64Array(nEvents); // evidence of the target events
  const u = new Float64Array(T * H);
  for (let j = 0; j < H; j++) {
    P[plusEvent(j)] = 0.5; // h = 0 before x_0
    P[minusEvent(j)] = 0.5;
  }
  P[BIAS_EVENT] = 1;
  for (let t = 0; t < T; t++) {
    E.fill(0);
    P[xs[t]] = 1; // the observed byte event
    for (let s = 0; s < nEvents; s++) {
      const ps = P[s];
      if (ps === 0) continue;
      for (let q = start[s]; q < start[s + 1]; q++) E[target[q]] += strength[q] * ps;
    }
    P[xs[t]] = 0;
    for (let j = 0; j < H; j++) {
      const z = E[plusEvent(j)] - E[minusEvent(j)];
      const pPlus = 1 / (1 + Math.exp(-2 * z));
      P[plusEvent(j)] = pPlus;
      P[minusEvent(j)] = 1 - pPlus;
      u[t * H + j] = pPlus - (1 - pPlus);
    }
  }
  return u;
}

/**
 * umStates with the hidden sources' evidence in WebAssembly (asm/dense.ts umStep: the same
 * sums in the same order, each target's hidden terms h_k+ then h_k- for k ascending, a
 * missing pattern adding +0), the byte and bias events' evidence here first. Null without
 * the module, or for pattern sets buildPatterns does not make (a hidden source reaching a
 * byte or bias event, or one source reaching one target twice): umStates then.
 */
export function umStatesDense(pat: Patterns, xs: Uint8Array): Float64Array | null {
  const { H, start, target, strength, nEvents } = pat;
  const Hp = Math.ceil(H / 8) * 8;
  const T = xs.length;
  if (nEvents !== V + 1 + 2 * H) return null;
  const d = denseArena({ u: ['f64', H], Ep: ['f64', Hp], Em: ['f64', Hp], Pp: ['f64', H], Pm: ['f64', H], C: ['f64', 4 * H * Hp] });
  if (!d) return null;
  // C planes: 0 Cpp, 1 Cmp (to h_j+ from h_k+, h_k-), 2 Cpm, 3 Cmm (to h_j-)
  const C = d.v.C;
  const seen = new Uint8Array(4 * H * Hp);
  for (let k = 0; k < H; k++) {
    for (const [src, fromMinus] of [[plusEvent(k), 0], [minusEvent(k), 1]] as const) {
      for (let q = start[src]; q < start[src + 1]; q++) {
        const tg = target[q] - (V + 1);
        if (tg < 0) return null;
        const j = tg >> 1;
        const toMinus = tg & 1;
        const at = (toMinus * 2 + fromMinus) * H * Hp + k * Hp + j;
        if (seen[at]) return null;
        seen[at] = 1;
        C[at] = strength[q];
      }
    }
  }
  const u = new Float64Array(T * H);
  d.v.Pp.fill(0.5, 0, H); // h = 0 before x_0
  d.v.Pm.fill(0.5, 0, H);
  const E = new Float64Array(nEvents);
  for (let t = 0; t < T; t++) {
    // the byte x_t's and the bias's patterns, in event order (P = 1)
    E.fill(0);
    for (const s of [xs[t], BIAS_EVENT]) for (let q = start[s]; q < start[s + 1]; q++) E[target[q]] += strength[q] * 1;
    for (let j = 0; j < H; j++) {
      d.v.Ep[j] = E[plusEvent(j)];
      d.v.Em[j] = E[minusEvent(j)];
    }
    d.x.umStep(d.p.u, d.p.Ep, d.p.Em, d.p.Pp, d.p.Pm, d.p.C, H, Hp);
    u.set(d.v.u, t * H);
  }
  return u;
}

/** The UM's readout of u: bits per prediction and their mean. */
function readUm(w: Weights, u: Float64Array, xs: Uint8Array, floor: number, nPatterns: number): UmResult {
  const T = xs.length;
  const { H } = w;
  const bits = new Float64Array(Math.max(0, T - 1));
  // each row as readoutLogp gives it, four at a time, over blocks of positions (the whole
  // (T, V) float64 would be 1 GiB at 512 KiB)
  const Wy64 = Float64Array.from(w.Wy);
  const logp = new Float64Array(Math.min(TRACE_BLOCK, bits.length) * V);
  let sum = 0;
  for (let t0 = 0; t0 < bits.length; t0 += TRACE_BLOCK) {
    const m = Math.min(TRACE_BLOCK, bits.length - t0);
    readoutLogpRows(w, u.subarray(t0 * H, (t0 + m) * H), m, logp, Wy64);
    for (let t = t0; t < t0 + m; t++) {
      bits[t] = bitsOf(logp[(t - t0) * V + xs[t + 1]], floor);
      sum += bits[t];
    }
  }
  return { u, bits, bpc: T > 1 ? sum / (T - 1) : 0, nPatterns };
}

/** max over t, j of |u[t][j] - S[t][j]| and where it occurs. */
export function maxStateDiff(u: Float64Array, S: Float32Array, H: number): { max: number; t: number; j: number } {
  let max = 0;
  let at = 0;
  for (let i = 0; i < u.length; i++) {
    const d = Math.abs(u[i] - S[i]);
    if (d > max) {
      max = d;
      at = i;
    }
  }
  return { max, t: Math.floor(at / H), j: at % H };
}
