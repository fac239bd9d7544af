// Paper §4.2 "The reverse isomorphism keeps trained dynamics" (docs/definitions.md §4.2).
//
// Hidden states are written from skip-bigram statistics alone; only the readout is trained.
// It uses NO trained weights (whatever the paper says): no Wx, no Wh, no trained Wy.
//
//   c_d[a][y]  = #{t = d..N-2 : x_{t-d} = a, x_{t+1} = y}          (state offset d)
//   unit 16g + i  (offset d_g from the §3.3 list, y_i the i-th most frequent byte):
//     h_t[16g + i] = clip( ln( p(y_i | x_{t-d_g}) / p(y_i) ), -3, 3 ),   t = m..N-1
//     p(y | a) = (c_d[a][y] + 0.001) / (Σ_y c_d[a][y] + 0.256)   (p(y) if a never seen at d)
//     p(y)     = (count_y + 0.001) / (N + 0.256)
// with m = max_g d_g (27 on the paper's data). Readout: by from the marginal (as §4.1),
// Wy = 0, then full-batch gradient descent Wy, by -= lr · mean_t (softmax - onehot) ⊗ h_t
// on t = m..N-2. The figure is the mean loss -ln(p + 1e-10) in bits at the start of the
// last step (in-sample).

import { V } from '../rnn/weights.ts';
import { marginalBias } from './construction.ts';
import {
  byteClasses, factorBlocks, factoredGd, factoredGrad, fromClasses, gdWork, lrAt, sampleFactored, sampleTargets, targetClasses, toClasses,
  type GdSchedule,
} from './factored-readout.ts';
import { blockPositions, positionBlocks, type PositionBlocks } from './position-blocks.ts';

/** Skip-bigram counts at state offset d: c[a*V + y] over t = d..N-2 (source x_{t-d}, target x_{t+1}). */
export function stateOffsetCounts(xs: Uint8Array, d: number): Float64Array {
  const c = new Float64Array(V * V);
  for (let t = d; t + 1 < xs.length; t++) c[xs[t - d] * V + xs[t + 1]]++;
  return c;
}

/**
 * Bytes by frequency, the authors' way: start from 0..255; for i = 0..254, j = i+1..255,
 * swap positions i and j when the byte at j has a strictly larger count (fixes tie order).
 */
export function rankBytes(count: ArrayLike<number>): Int32Array {
  const order = new Int32Array(V);
  for (let o = 0; o < V; o++) order[o] = o;
  for (let i = 0; i < V - 1; i++) {
    for (let j = i + 1; j < V; j++) {
      if (count[order[j]] > count[order[i]]) {
        const tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
      }
    }
  }
  return order;
}

export interface ReverseSpec {
  /** the §3.3 offset list d_g, used as state offsets */
  offsets: readonly number[];
  /** bytes per offset (16): H = offsets.length · bytesPerOffset */
  bytesPerOffset: number;
  /** clip of the log ratio (3) */
  clip: number;
  /** additive smoothing per byte (0.001; 256 of them make the 0.256) */
  smoothing: number;
}

/**
 * The hidden trajectory (N, H): Hs[t*H + g*B + i] for t = m..N-1 (rows t < m stay 0),
 * B = bytesPerOffset. Also returns the ranked bytes y_0..y_{B-1} and m.
 */
export function reverseHidden(xs: Uint8Array, spec: ReverseSpec): { Hs: Float64Array; H: number; m: number; bytes: number[] } {
  const m = Math.max(...spec.offsets);
  if (!(m >= 1 && m < xs.length - 1)) throw new Error(`reverse-iso: offsets ${spec.offsets.join(',')} need 1 ≤ max < N - 1 = ${xs.length - 1}`);
  const tables = reverseTables(xs, spec);
  return { Hs: reverseStates(tables, xs, spec), H: tables.H, m, bytes: tables.bytes };
}

/**
 * The log-ratio tables counted on `train`: lr[g][a*B + i] = clip(ln(p(y_i | a) / p(y_i)))
 * for source byte a at offset d_g, and the B most frequent bytes y_i.
 */
export function reverseTables(train: Uint8Array, spec: ReverseSpec): { table: Float64Array[]; bytes: number[]; H: number } {
  const { offsets, bytesPerOffset: B, clip, smoothing: e } = spec;
  const N = train.length;
  const count = new Float64Array(V);
  for (let t = 0; t < N; t++) count[train[t]]++;
  const bytes = Array.from(rankBytes(count).subarray(0, B));
  const table: Float64Array[] = [];
  for (const d of offsets) {
    const c = stateOffsetCounts(train, d);
    const tg = new Float64Array(V * B);
    for (let a = 0; a < V; a++) {
      let n = 0;
      for (let y = 0; y < V; y++) n += c[a * V + y];
      for (let i = 0; i < B; i++) {
        const y = bytes[i];
        const py = (count[y] + e) / (N + V * e);
        const pya = n > 0 ? (c[a * V + y] + e) / (n + V * e) : py;
        tg[a * B + i] = Math.min(clip, Math.max(-clip, Math.log(pya / py)));
      }
    }
    table.push(tg);
  }
  return { table, bytes, H: offsets.length * B };
}

/** The hidden values (text.length, H) the tables give on `text`; rows t < max offset are 0. */
export function reverseStates(tables: { table: Float64Array[]; H: number }, text: Uint8Array, spec: ReverseSpec): Float64Array {
  const { offsets, bytesPerOffset: B } = spec;
  const { table, H } = tables;
  const m = Math.max(...offsets);
  const Hs = new Float64Array(text.length * H);
  for (let t = m; t < text.length; t++) {
    for (let g = 0; g < offsets.length; g++) {
      const a = text[t - offsets[g]];
      for (let i = 0; i < B; i++) Hs[t * H + g * B + i] = table[g][a * B + i];
    }
  }
  return Hs;
}

export interface ReverseResult {
  /** in-sample bits at the start of the last step */
  bpc: number;
  H: number;
  m: number;
  bytes: number[];
  /** (V, H) and (V): the trained readout */
  Wy: Float64Array;
  by: Float64Array;
  /** mean loss in bits at the start of each step (over the fit's positions: its sample when sampled) */
  bits: Float64Array;
  /** the loss in bits over every position t = m..N-2 at the start of the first step */
  firstBpc: number;
  /** the positions of t = m..N-2 the descent ran on */
  sample: PositionBlocks;
}

/** Above maxPositions positions the descent fits on evenly spread blocks of blockLength of them. */
export interface FitSample {
  maxPositions: number;
  blockLength: number;
}

/**
 * docs/definitions.md §4.2 end to end on bytes xs. With `fit` and more than fit.maxPositions
 * positions t = m..N-2, the descent runs on evenly spread blocks of them (position-blocks.ts)
 * and the reported losses (bpc at the start of the last step, firstBpc) are still over every
 * position; `bits` is then the sample's loss at each step.
 */
export function reverseIso(
  xs: Uint8Array, spec: ReverseSpec, sched: GdSchedule, eps: number,
  progress?: (done: number, total: number) => void, fit?: FitSample,
): ReverseResult {
  const N = xs.length;
  const { Hs, H, m, bytes } = reverseHidden(xs, spec);
  const F = factorBlocks(Hs, N, H, spec.bytesPerOffset);
  const cls = byteClasses(xs);
  const W = new Float64Array(cls.K * H);
  const b = toClasses(marginalBias(xs), 1, cls);
  const y = targetClasses(xs, cls);
  const sample = positionBlocks(m, N - 2, fit ? fit.maxPositions : N, fit ? fit.blockLength : N);
  let bits: Float64Array;
  let bpc: number;
  let firstBpc: number;
  if (!sample.sampled) {
    const nats = factoredGd(F, W, b, cls, y, m, N - 1, sched, eps, progress);
    bits = nats.map((l) => l / Math.LN2);
    bpc = bits[bits.length - 1];
    firstBpc = bits[0];
  } else {
    // the descent on the sample; the loss over every position before the first and the last step
    const pos = blockPositions(sample);
    const Fs = sampleFactored(F, pos);
    const ys = sampleTargets(y, pos);
    const work = gdWork(F, cls.K);
    const dW = new Float64Array(W.length);
    const db = new Float64Array(b.length);
    const lossAll = () => factoredGrad(dW, db, F, W, b, cls, y, m, N - 1, eps, work) / (N - 1 - m) / Math.LN2;
    firstBpc = lossAll();
    const head = factoredGd(Fs, W, b, cls, ys, 0, pos.length, { ...sched, steps: sched.steps - 1 }, eps, progress);
    bpc = lossAll();
    const last = factoredGd(Fs, W, b, cls, ys, 0, pos.length, { steps: 1, lr: lrAt(sched, sched.steps - 1), decay: 1, decayAt: [] }, eps);
    bits = new Float64Array(sched.steps);
    bits.set(head.map((l) => l / Math.LN2));
    bits[sched.steps - 1] = last[0] / Math.LN2;
    progress?.(sched.steps, sched.steps);
  }
  const Wy = fromClasses(W, H, cls);
  const by = fromClasses(b, 1, cls);
  return { bpc, H, m, bytes, Wy, by, bits, firstBpc, sample };
}
