// A fake run context for calling a stage's run() directly, as the engine will.
import type { RunContext, StageOutput, Tensor } from '../../lib/engine/types.ts';

export function output(json: any, tensors: Record<string, Tensor> = {}): StageOutput {
  return { json, tensors, key: 'k', outputHash: 'h' };
}

export function dataOutput(bytes: Uint8Array): StageOutput {
  return output({ bytes: bytes.length }, { bytes: { dtype: 'uint8', shape: [bytes.length], data: bytes } });
}

export function ctx<P>(params: P, inputs: Record<string, StageOutput> = {}, extra: Partial<RunContext<P>> = {}): RunContext<P> {
  return { params, inputs, externals: {}, progress: () => {}, warn: () => {}, env: {}, ...extra };
}
