// Paper §6.2, open question 4, the scoring (docs/definitions.md §6.3): each RNN that
// `rebuild` wrote from a description alone, beside the trained model T, and the reference
// rows built from the training text alone (the data as its own description).
//
//   kl_train    mean over t = 0..N-2 of KL(p_T ‖ p_R) = Σ_o p_T(o) (log2 p_T(o) − log2 p_R(o))
//   sign_train  over the rebuilt units kept one to one with T's (unitMap[u] = j ≥ 0) and
//               t = 0..N-2: the fraction of neuron-steps with sign S_R[t][u] = sign S_T[t][j],
//               R fed forward on its own states (sign(0) = +1)
//   worth_bits  1 when no reference row has both no more bits and no higher bpc
//
// The §4.2 reference's hidden values on another text (the held-out bytes) use the tables
// of the training text: unit 16g + i carries clip(ln(p(y_i | x_{t−d_g}) / p(y_i))) with the
// counts and ranked bytes of the training text, t ≥ max d_g of the scored text.

import { V } from '../rnn/weights.ts';
import { bitsOf, logSoftmax } from '../rnn/forward.ts';
import { Mv4 } from '../rnn/wasm-dense.ts';
import { reverseStates, reverseTables, type ReverseSpec } from './reverse-iso.ts';

/** Mean KL(p_T ‖ p_R) in bits over positions t0..t1-1 of two (T, V) log-probability arrays. */
export function klBits(logpT: Float64Array, logpR: Float64Array, t0: number, t1: number): number {
  let s = 0;
  for (let t = t0; t < t1; t++) {
    const o = t * V;
    let kl = 0;
    for (let y = 0; y < V; y++) {
      const p = Math.exp(logpT[o + y]);
      if (p > 0) kl += p * (logpT[o + y] - logpR[o + y]);
    }
    s += kl;
  }
  return s / (t1 - t0) / Math.LN2;
}

/** Fraction of (t < P, u with map[u] ≥ 0) where sign SR[t][u] = sign ST[t][map[u]]; null when no unit is mapped. */
export function signAgreement(SR: ArrayLike<number>, HR: number, ST: ArrayLike<number>, HT: number, map: readonly number[], P: number): number | null {
  const units = [...map.keys()].filter((u) => map[u] >= 0);
  if (!units.length) return null;
  let agree = 0;
  for (let t = 0; t < P; t++) {
    for (const u of units) if ((SR[t * HR + u] >= 0) === (ST[t * HT + map[u]] >= 0)) agree++;
  }
  return agree / (P * units.length);
}

/** The §4.2 hidden values (text.length, H) on `text`, from the tables of `train`; rows t < max offset are 0. */
export function reverseStatesOn(train: Uint8Array, text: Uint8Array, spec: ReverseSpec): Float64Array {
  return reverseStates(reverseTables(train, spec), text, spec);
}

/**
 * log softmax(Wy·h_t + by) for every row of Hs (T, H): (T, V), float64. Four rows at a time
 * in WebAssembly when it is there (Mv4: each logit summed over j in order from by[o], then
 * forward.ts's logSoftmax, the same bits); the rest, or everything without it, here.
 */
export function readoutLogpAll(Hs: ArrayLike<number>, T: number, H: number, Wy: ArrayLike<number>, by: ArrayLike<number>): Float64Array {
  const out = new Float64Array(T * V);
  const mv = Mv4.for(Float64Array.from(Wy), V, H);
  let t0 = 0;
  if (mv) for (; t0 + 4 <= T; t0 += 4) mv.run(Hs, t0 * H, by, out, t0 * V, V, true);
  return readoutLogpAllNaive(Hs, T, H, Wy, by, out, t0);
}

/** Naive twin of readoutLogpAll (rows t0..T-1 into out): one logit at a time. */
export function readoutLogpAllNaive(Hs: ArrayLike<number>, T: number, H: number, Wy: ArrayLike<number>, by: ArrayLike<number>, out = new Float64Array(T * V), t0 = 0): Float64Array {
  for (let t = t0; t < T; t++) {
    for (let o = 0; o < V; o++) {
      let acc = by[o];
      for (let j = 0; j < H; j++) acc += Wy[o * H + j] * Hs[t * H + j];
      out[t * V + o] = acc;
    }
    logSoftmax(out, t * V, out, t * V);
  }
  return out;
}

/** Mean bits of the next bytes under (T, V) log-probabilities, positions 0..T-2. */
export function meanBits(logp: Float64Array, xs: Uint8Array, floor: number): number {
  let s = 0;
  for (let t = 0; t + 1 < xs.length; t++) s += bitsOf(logp[t * V + xs[t + 1]], floor);
  return s / (xs.length - 1);
}

/** worth_bits of a row: 1 when no reference (with an in-sample bpc) has both bits ≤ and bpc ≤ its own. */
export function worthBits(row: { bits: number; bpc: number }, refs: readonly { bits: number; bpc: number | null }[]): 0 | 1 {
  return refs.some((r) => r.bpc !== null && r.bits <= row.bits && r.bpc <= row.bpc) ? 0 : 1;
}
