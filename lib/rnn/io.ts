// Typed access to the upstream outputs every analysis reads: the data bytes, the model's
// weights and the forward trace. Stages call these instead of poking at tensors by name.

import type { StageOutput, Tensor } from '../engine/types.ts';
import { V, weightsFrom, type Weights } from './weights.ts';
import type { StoredTrace } from './forward.ts';

function tensor<A>(out: StageOutput, name: string, stage: string): A {
  const t: Tensor | undefined = out.tensors[name];
  if (!t) throw new Error(`stage ${stage}: output has no tensor "${name}" (has: ${Object.keys(out.tensors).join(', ') || 'none'})`);
  return t.data as unknown as A;
}

/** The `data` stage's bytes x_0..x_{N-1}. */
export function bytesOf(data: StageOutput): Uint8Array {
  return tensor<Uint8Array>(data, 'bytes', 'data');
}

/**
 * The `data` stage's held-out text (docs/definitions.md §6.3: by default bytes N..2N−1 of
 * enwik9) and where it lies; an error with a hint when the run has none.
 */
export function heldoutOf(data: StageOutput): { bytes: Uint8Array; offset: number } {
  const bytes = data.tensors.heldout?.data as Uint8Array | undefined;
  if (!bytes || bytes.length < 2) {
    throw new Error('stage data: no held-out text in this run (data.heldoutBytes = 0)\nhint: leave data.heldoutBytes null (the N bytes after the training prefix), or set it to at least 2');
  }
  return { bytes, offset: data.json.heldout?.offset ?? data.json.bytes };
}

/** The `model` stage's weights (float32, authors' layout). */
export function weightsOf(model: StageOutput): Weights {
  const H = model.json.H as number;
  return weightsFrom(tensor<Float32Array>(model, 'params', 'model'), H);
}

/**
 * The `trace` stage's forward pass: `logp` (T, V) only when the stage stored it (N up to
 * trace.logpMaxBytes), `lpNext` always.
 */
export function traceOf(trace: StageOutput): StoredTrace {
  const z = tensor<Float32Array>(trace, 'z', 'trace');
  const H = trace.json.H as number;
  return {
    T: z.length / H,
    H,
    z,
    S: tensor<Float32Array>(trace, 'S', 'trace'),
    logp: trace.tensors.logp?.data as Float64Array | undefined,
    lpNext: tensor<Float64Array>(trace, 'lpNext', 'trace'),
    bits: tensor<Float64Array>(trace, 'bits', 'trace'),
  };
}

export { V };
