// Paper §5 (SPEC §5): the upstream outputs every §5 stage reads (model, data, trace),
// checked against each other, plus the carrier c_t and the pattern-sensitive mask of
// eq. 5 that all four stages start from (lib/analysis/carrier.ts).

import type { StageOutput } from '../engine/types.ts';
import { bytesOf, traceOf, weightsOf } from '../rnn/io.ts';
import type { Trace } from '../rnn/forward.ts';
import type { Weights } from '../rnn/weights.ts';
import { carrier, patternSensitive } from './carrier.ts';

export interface S5Inputs {
  w: Weights;
  xs: Uint8Array;
  tr: Trace;
  N: number;
  H: number;
  /** (N, H) carrier c_t = Wh·S[t-1] + bh, float64 */
  c: Float64Array;
  /** (N, H) 1 where unit j is pattern-sensitive at t */
  ps: Uint8Array;
}

export function s5Inputs(stage: string, inputs: Record<string, StageOutput>): S5Inputs {
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
  const N = xs.length;
  const c = carrier(w, tr.S, N);
  return { w, xs, tr, N, H: w.H, c, ps: patternSensitive(w, c) };
}

/** "t = a..b (n positions)", the positions line of a table or metric. */
export function positionsLabel(a: number, b: number, what = 'positions'): string {
  return `t = ${a}..${b} (${b - a + 1} ${what})`;
}

/** A byte as a readable character: printable ASCII as itself, others as \xNN. */
export function byteChar(b: number): string {
  if (b === 0x0a) return '\\n';
  if (b === 0x09) return '\\t';
  return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
}
