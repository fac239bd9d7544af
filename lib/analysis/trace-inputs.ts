// The upstream outputs an analysis of the trained network reads (the `model`, `data` and
// `trace` stages), typed and checked to belong together: the trace must be the forward
// pass of this model over these bytes (same H, one row per byte).

import type { StageOutput } from '../engine/types.ts';
import { bytesOf, traceOf, weightsOf } from '../rnn/io.ts';
import type { StoredTrace } from '../rnn/forward.ts';
import type { Weights } from '../rnn/weights.ts';

export interface TraceInputs {
  w: Weights;
  xs: Uint8Array;
  tr: StoredTrace;
  N: number;
  H: number;
}

export function traceInputs(stage: string, inputs: Record<string, StageOutput>): TraceInputs {
  for (const name of ['model', 'data', 'trace']) {
    if (!inputs[name]) throw new Error(`stage ${stage}: missing input "${name}" (got: ${Object.keys(inputs).join(', ') || 'none'})`);
  }
  const w = weightsOf(inputs.model);
  const xs = bytesOf(inputs.data);
  const tr = traceOf(inputs.trace);
  if (tr.H !== w.H || tr.T !== xs.length) {
    throw new Error(
      `stage ${stage}: trace is ${tr.T}×${tr.H} but data has ${xs.length} bytes and the model H=${w.H}` +
        `\nhint: the trace must come from the same model and data stages (re-run trace)`,
    );
  }
  return { w, xs, tr, N: xs.length, H: w.H };
}

/**
 * The output positions an offset analysis reads, T = firstT..N-3, each with maxOffset bytes
 * before it (baselines, influence): lastT, or a usage error naming the stage's params.
 */
export function offsetPositions(stage: string, maxOffset: number, firstT: number, N: number): { D: number; firstT: number; lastT: number } {
  const lastT = N - 3;
  if (firstT < maxOffset - 1 || lastT < firstT) {
    throw new Error(
      `stage ${stage}: need maxOffset - 1 ≤ firstT ≤ N - 3, got maxOffset=${maxOffset}, firstT=${firstT}, N=${N}` +
        `\nhint: set ${stage}.firstT ≥ ${stage}.maxOffset - 1, or use more data (data.bytes)`,
    );
  }
  return { D: maxOffset, firstT, lastT };
}
