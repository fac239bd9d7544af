// docs/definitions.md §0 (paper eqs. 3-4): the one float32 forward pass of the chosen model over the
// data. Every analysis reads z_t, S[t], the log-probability of each next byte and the bits
// from here instead of running its own forward pass. The math is lib/rnn/forward.ts.
// The full (T, 256) log-probabilities are float64, 2 KiB per position (1 GiB at 512 KiB):
// they are stored only up to trace.logpMaxBytes, and computed over blocks of positions
// otherwise, so that the stage and every stage reading it stay in bounded memory.
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/trace.params.ts';

export default defineStage<Params>({
  name: 'trace',
  description: 'float32 forward pass: z, S (T×H), log p of the next byte and bits (T-1), log p (T×256) up to a size',
  section: '§2',
  inputs: ['model', 'data'],
  expectSeconds: 0.2,
  tensors: ['z', 'S', 'lpNext', 'bits'],
  async run({ params, inputs }) {
    const { bytesOf, weightsOf, V } = await import('../lib/rnn/io.ts');
    const { forwardTraceStored, mean } = await import('../lib/rnn/forward.ts');
    const xs = bytesOf(inputs.data);
    const tr = forwardTraceStored(weightsOf(inputs.model), xs, xs.length <= params.logpMaxBytes);
    const { T, H } = tr;
    return {
      json: { T, H, bpc: mean(tr.bits), positions: tr.bits.length, logp: !!tr.logp },
      tensors: {
        z: { dtype: 'float32', shape: [T, H], data: tr.z },
        S: { dtype: 'float32', shape: [T, H], data: tr.S },
        lpNext: { dtype: 'float64', shape: [tr.lpNext.length], data: tr.lpNext },
        bits: { dtype: 'float64', shape: [tr.bits.length], data: tr.bits },
        ...(tr.logp ? { logp: { dtype: 'float64' as const, shape: [T, V], data: tr.logp } } : {}),
      },
    };
  },
});
