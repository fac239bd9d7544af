// Paper §2 ("BPTT-50, Adam (η = 0.001), 4000 epochs on 1024 bytes … Seed 42"); SPEC §2.
// Trains the Elman RNN of eqs. 3-4 from the seeded init on the data stage's bytes:
// truncated BPTT with the state carried across chunks, summed chunk gradients, global
// clip 5, adam or the authors' cosine sgd, and the best-checkpoint rule. The math is in
// lib/rnn/train.ts (driver), lib/rnn/bptt*.ts and asm/rnn.ts (chunk kernels).
import { defineStage } from '../lib/engine/types.ts';
import type { Optimizer } from '../lib/rnn/train.ts';
import { WASM_FILES, preferredWasm } from '../lib/rnn/wasm-files.ts';

// Built by `npm run build:wasm` (run by npm ci). When one loads, a WebAssembly kernel
// trains (build/rnn-relaxed.wasm where the runtime has relaxed SIMD, else build/rnn.wasm),
// else the TypeScript one; they agree to ~1e-8, not bit for bit, so which one runs must be
// in the key: the binary that will run is declared as an external file. The thread count
// does not change the result (tested), so it is not in the key.

interface Params {
  hidden: number;
  epochs: number;
  optimizer: Optimizer;
  seed: number;
  bptt: number;
  evalEvery: number;
}

export default defineStage<Params>({
  name: 'train',
  description: 'trains the RNN (SPEC §2): best checkpoint, training curve, eval bpc',
  section: '§2',
  inputs: ['data'],
  // The WebAssembly kernels' source: build/rnn*.wasm, loaded at run time, are built from it.
  extraSources: ['asm/rnn.ts'],
  externals: () => {
    const v = preferredWasm();
    return v ? [{ name: 'kernel', path: WASM_FILES[v] }] : [];
  },
  volatile: ['msPerEpoch', 'msTotal'],
  tensors: ['params', 'finalParams', 'curveTrainBpc'],
  async run({ params, inputs, progress }) {
    // kernels load inside run, so that a no-op pipeline run does not pay for them
    const { bytesOf } = await import('../lib/rnn/io.ts');
    const { paramCount } = await import('../lib/rnn/weights.ts');
    const { train } = await import('../lib/rnn/train.ts');
    const xs = bytesOf(inputs.data);
    const { hidden: H, epochs: E } = params;
    const r = train(xs, params, {
      onEpoch: (e, _E, bpc) => progress(e, E, `epoch ${e} bpc ${bpc.toFixed(4)}`),
    });
    const n = paramCount(H);
    return {
      json: {
        hidden: H,
        epochs: E,
        optimizer: params.optimizer,
        seed: params.seed,
        bptt: params.bptt,
        evalEvery: params.evalEvery,
        paramCount: n,
        kernel: r.kernel,
        prng: 'mulberry32(seed), one draw per weight in the order Wx, Wh, Wy; w = (U - 0.5)/H; biases 0',
        predictionsPerEpoch: xs.length - 1,
        bestEpoch: r.bestEpoch,
        bestTrainBpc: r.bestTrainBpc,
        finalTrainBpc: r.curveTrainBpc[E - 1],
        bestEvalBpc: r.bestEvalBpc,
        finalEvalBpc: r.finalEvalBpc,
        curve: r.evalEpochs.map((epoch, i) => ({ epoch, trainBpc: r.curveTrainBpc[epoch - 1], evalBpc: r.evalBpc[i] })),
        msPerEpoch: r.msPerEpoch,
        msTotal: r.msTotal,
      },
      tensors: {
        params: { dtype: 'float32', shape: [n], data: r.params },
        finalParams: { dtype: 'float32', shape: [n], data: r.finalParams },
        curveTrainBpc: { dtype: 'float64', shape: [E], data: r.curveTrainBpc },
      },
    };
  },
});
