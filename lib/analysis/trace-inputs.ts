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
