// The §5.4 decomposition at every position, for the viewer. The decomposition stage is
// to emit it as tensors (carrierLogit, patternLogit, totalLogit [T]; topUnits [T×k] int32,
// topContrib [T×k]); when its output has them they are used as they are, otherwise the
// same numbers are computed here with the same kernel (lib/analysis/carrier.ts), so the
// switch changes where the numbers come from, not what they are.

import type { StageOutput, Tensor, TypedArray } from '../../engine/types.ts';
import type { Weights } from '../../rnn/weights.ts';
import { carrier, outputDecomposition } from '../../analysis/carrier.ts';
import { topByMagnitude, type Decomposition } from './data.ts';

const TENSORS = ['carrierLogit', 'patternLogit', 'totalLogit', 'topUnits'] as const;
/** The per-unit contributions tensor, under either name. */
const CONTRIB = ['topContrib', 'topContributions'] as const;

/** The decomposition stage's per-position tensors, or null when it does not have them all. */
export function fromStage(out: StageOutput | undefined, T: number): Decomposition | null {
  const tensors = out?.tensors;
  const contrib = CONTRIB.map((n) => tensors?.[n]).find((x) => x);
  if (!tensors || !contrib || !TENSORS.every((n) => tensors[n])) return null;
  const t: Record<string, Tensor> = { ...tensors, topContrib: contrib };
  const k = t.topUnits.shape[1] ?? 0;
  if (t.carrierLogit.data.length !== T || t.topUnits.data.length !== T * k || t.topContrib.data.length !== T * k) return null;
  const arr = (a: TypedArray) => a as unknown as ArrayLike<number>;
  return {
    source: 'decomposition stage',
    carrier: arr(t.carrierLogit.data),
    pattern: arr(t.patternLogit.data),
    total: arr(t.totalLogit.data),
    topUnits: arr(t.topUnits.data),
    topContrib: arr(t.topContrib.data),
    k,
  };
}

/** outputDecomposition at t = 0..N-2, top k units by |Wy[o][j]·δ_t[j]|. */
export function computeEverywhere(w: Weights, xs: Uint8Array, S: Float32Array, ps: Uint8Array, k: number): Decomposition {
  const N = xs.length;
  const T = Math.max(0, N - 1);
  const c = carrier(w, S, N);
  const out: Decomposition = {
    source: 'viewer stage',
    carrier: new Float64Array(T),
    pattern: new Float64Array(T),
    total: new Float64Array(T),
    topUnits: new Int32Array(T * k),
    topContrib: new Float64Array(T * k),
    k,
  };
  for (let t = 0; t < T; t++) {
    const d = outputDecomposition(w, xs, S, c, ps, t);
    (out.carrier as Float64Array)[t] = d.carrierLogit;
    (out.pattern as Float64Array)[t] = d.patternLogit;
    (out.total as Float64Array)[t] = d.carrierLogit + d.patternLogit;
    const top = topByMagnitude(d.unitContribution, w.H, k);
    (out.topUnits as Int32Array).set(top.units, t * k);
    (out.topContrib as Float64Array).set(top.values, t * k);
  }
  return out;
}

export async function decompositionEverywhere(out: StageOutput | undefined, w: Weights, xs: Uint8Array, S: Float32Array, ps: Uint8Array, k: number): Promise<Decomposition> {
  return fromStage(out, Math.max(0, xs.length - 1)) ?? computeEverywhere(w, xs, S, ps, k);
}
