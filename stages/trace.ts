// docs/definitions.md §0 (paper eqs. 3-4): the one float32 forward pass of the chosen model over the
// data. Every analysis reads z_t, S[t], the log-probabilities and the bits from here
// instead of running its own forward pass. The math is lib/rnn/forward.ts.
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/trace.params.ts';

export default defineStage<Params>({
  name: 'trace',
  description: 'float32 forward pass: z, S (T×H), log p (T×256), bits (T-1)',
  section: '§2',
  inputs: ['model', 'data'],
  tensors: ['z', 'S', 'logp', 'bits'],
  async run({ inputs }) {
    const { bytesOf, weightsOf, V } = await import('../lib/rnn/io.ts');
    const { forwardTrace, mean } = await import('../lib/rnn/forward.ts');
    const xs = bytesOf(inputs.data);
    const tr = forwardTrace(weightsOf(inputs.model), xs);
    const { T, H } = tr;
    return {
      json: { T, H, bpc: mean(tr.bits), positions: tr.bits.length },
      tensors: {
        z: { dtype: 'float32', shape: [T, H], data: tr.z },
        S: { dtype: 'float32', shape: [T, H], data: tr.S },
        logp: { dtype: 'float64', shape: [T, V], data: tr.logp },
        bits: { dtype: 'float64', shape: [tr.bits.length], data: tr.bits },
      },
    };
  },
});
