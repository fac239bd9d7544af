// The §5.4 decomposition at every position, for the viewer. The decomposition stage emits
// it as tensors (carrierLogit, patternLogit, totalLogit [T]; topUnits [T×k] int32,
// topContributions [T×k]); when its output has them they are used as they are, otherwise
// (a stage output from before they existed, or another top-k) the same numbers are computed
// by the viewer stage with the same kernel (lib/analysis/decomposition.ts).

import type { StageOutput, Tensor, TypedArray } from '../../engine/types.ts';
import type { Decomposition } from './data.ts';

const TENSORS = ['carrierLogit', 'patternLogit', 'totalLogit', 'topUnits', 'topContributions'] as const;

/** The decomposition stage's per-position tensors, or null when it does not have them all. */
export function fromStage(out: StageOutput | undefined, T: number): Decomposition | null {
  const tensors = out?.tensors;
  if (!tensors || !TENSORS.every((n) => tensors[n])) return null;
  const t: Record<string, Tensor> = tensors;
  const k = t.topUnits.shape[1] ?? 0;
  if (t.carrierLogit.data.length !== T || t.topUnits.data.length !== T * k || t.topContributions.data.length !== T * k) return null;
  const arr = (a: TypedArray) => a as unknown as ArrayLike<number>;
  return {
    source: 'decomposition stage',
    carrier: arr(t.carrierLogit.data),
    pattern: arr(t.patternLogit.data),
    total: arr(t.totalLogit.data),
    topUnits: arr(t.topUnits.data),
    topContrib: arr(t.topContributions.data),
    k,
  };
}

/** The per-position arrays of the decomposition kernel (lib/analysis/decomposition.ts `decompose`). */
export interface KernelDecomposition {
  carrierLogit: Float64Array;
  patternLogit: Float64Array;
  totalLogit: Float64Array;
  topUnits: Int32Array;
  topContributions: Float64Array;
}

/** The kernel's output as the viewer's Decomposition (when the viewer stage ran it itself). */
export function fromKernel(d: KernelDecomposition, k: number): Decomposition {
  return { source: 'viewer stage', carrier: d.carrierLogit, pattern: d.patternLogit, total: d.totalLogit, topUnits: d.topUnits, topContrib: d.topContributions, k };
}
