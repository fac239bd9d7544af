// Paper §2 ("BPTT-50, Adam (η = 0.001), 4000 epochs on 1024 bytes … Seed 42"); docs/definitions.md §2.
// Trains the Elman RNN of eqs. 3-4 from the seeded init on the data stage's bytes:
// truncated BPTT with the state carried across chunks, summed chunk gradients, global
// clip 5, the authors' cosine sgd (default) or adam, and the best-checkpoint rule. The
// default is the authors' released recipe: sgd from glibc srand(seed)/rand() init, which
// reproduces the shipped weights bit for bit where training never touches them. The math
// is in lib/rnn/train.ts (driver), lib/rnn/prng.ts (init), lib/rnn/bptt*.ts and
// asm/rnn.ts (chunk kernels).
//
// Runs by a prediction budget (docs/definitions.md §6.4): `predictions` sets the total number of
// predictions instead of `epochs`, grown with the data by `predictionsGrowth` (0: compute-matched);
// epochs = max(minEpochs, round(budget / (N - 1))), and the cosine schedule spans the epochs
// actually run. With `stopOnHeldout` (adam only) those epochs are a cap: the run stops as
// soon as its held-out curve counts as converged (docs/q3.md, Q3's length rule).
import { defineStage } from '../lib/engine/types.ts';
import type { InitName } from '../lib/rnn/train.ts';
import { WASM_FILES, preferredWasm } from '../lib/rnn/wasm-files.ts';
import type { Params } from '../schemas/train.params.ts';

// Built by `npm run build:wasm` (run by npm ci). When one loads, a WebAssembly kernel
// trains (build/rnn-relaxed.wasm where the runtime has relaxed SIMD, else build/rnn.wasm),
// else the TypeScript one; they agree to ~1e-8, not bit for bit, so which one runs must be
// in the key: the binary that will run is declared as an external file. The thread count
// does not change the result (tested), so it is not in the key.

/**
 * The prediction budget at N bytes: predictions × ((N − 1) / 1023)^growth, exactly
 * `predictions` when growth is 0 or N = 1024 (the paper's run); null without predictions.
 */
export function budgetFor(p: Pick<Params, 'predictions'> & Partial<Pick<Params, 'predictionsGrowth'>>, N: number): number | null {
  if (p.predictions === null || p.predictions === undefined) return null;
  const g = p.predictionsGrowth ?? 0;
  return g === 0 ? p.predictions : p.predictions * ((Math.max(1, N - 1) / 1023) ** g);
}

/**
 * Epochs for a run: `epochs`, or when predictions is set round(budget / (N - 1)) and at
 * least minEpochs (default 1): the length rule of Q3 (docs/q3.md).
 */
export function epochsFor(p: Pick<Params, 'epochs' | 'predictions'> & Partial<Pick<Params, 'minEpochs' | 'predictionsGrowth'>>, N: number): number {
  const B = budgetFor(p, N);
  if (B === null) return p.epochs;
  return Math.max(1, p.minEpochs ?? 1, Math.round(B / Math.max(1, N - 1)));
}

/** The recipe in words, for the JSON and the report. */
export function recipeOf(p: Pick<Params, 'optimizer' | 'init'>, E: number, stopCap: number | null = null) {
  const stopping =
    stopCap === null
      ? ''
      : E < stopCap
        ? `; stopped on the held-out curve after ${E} of at most ${stopCap} epochs (its best held-out bpc improved by less than 0.01 over the last quarter)`
        : `; to stop on the held-out curve, which had not converged at the cap of ${stopCap} epochs`;
  return {
    optimizer: p.optimizer,
    init: p.init,
    lrSchedule:
      (p.optimizer === 'sgd'
        ? `cosine: lr_e = max(1e-4, 0.01·½(1 + cos(π e/${E}))), e = 1..${E}`
        : 'constant 0.001 (adam β1 0.9, β2 0.999, ε 1e-8)') + stopping,
    name: p.optimizer === 'sgd' && p.init === 'glibc' ? "the authors' released trainer (sgd + glibc init)" : `${p.optimizer} + ${p.init} init`,
  };
}

const PRNG: Record<InitName, string> = {
  glibc: 'glibc srand(seed)/rand() (TYPE_3), U = (float)rand()/RAND_MAX',
  mulberry32: 'mulberry32(seed), U = next() rounded to float32',
};

export default defineStage<Params>({
  name: 'train',
  description: 'trains the RNN (docs/definitions.md §2): best checkpoint, training curve, eval bpc',
  section: '§2',
  inputs: ['data'],
  // Minutes of training: under --jobs its first run goes to a child process.
  long: true,
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
    const { train, convergedOf, heldoutEveryFor, heldoutEveryStop, CONVERGED_TOL } = await import('../lib/rnn/train.ts');
    const xs = bytesOf(inputs.data);
    const H = params.hidden;
    const E0 = epochsFor(params, xs.length);
    // The data stage's held-out text (docs/definitions.md §6.4): scored along the way, read-only.
    const ho = inputs.data.tensors.heldout?.data as Uint8Array | undefined;
    const heldout = ho && ho.length >= 2 ? ho : null;
    const stop = params.stopOnHeldout;
    if (stop && (!heldout || params.optimizer !== 'adam' || params.maxDoublings > 0)) {
      throw new Error(
        `train.stopOnHeldout needs held-out text (data.heldoutBytes ≥ 2), train.optimizer=adam (sgd's cosine schedule spans the planned epochs, not the epochs run) and train.maxDoublings=0; got ${heldout ? `${heldout.length} held-out bytes` : 'no held-out text'}, ${params.optimizer}, maxDoublings ${params.maxDoublings}`,
      );
    }
    const everyFor = (Ei: number) => (stop ? heldoutEveryStop(params.heldoutEvery, xs.length) : heldoutEveryFor(params.heldoutEvery, Ei));
    // Q3's length rule (docs/q3.md): a model that did not converge trains again from its
    // init with twice the epochs (the cosine schedule spanning them), at most maxDoublings
    // times; the last run is the model, the earlier ones are listed in `attempts`.
    const attempts: { epochs: number; converged: boolean | null; improvementLastQuarter: number | null; bestHeldoutBpc: number | null }[] = [];
    let E = E0;
    let r: ReturnType<typeof train>;
    let conv: ReturnType<typeof convergedOf> | null;
    for (;;) {
      const Ei = E;
      r = train(xs, { ...params, epochs: Ei, heldout, heldoutEvery: everyFor(Ei), stopOnHeldout: stop }, {
        onEpoch: (e, _E, bpc) => progress(e, Ei, `${attempts.length ? `run ${attempts.length + 1}: ` : ''}epoch ${e} bpc ${bpc.toFixed(4)}`),
      });
      conv = heldout ? convergedOf(r.heldoutEpochs, r.heldoutBpc, r.epochs) : null;
      attempts.push({ epochs: r.epochs, converged: conv?.converged ?? null, improvementLastQuarter: conv?.improvement ?? null, bestHeldoutBpc: heldout ? Math.min(...r.heldoutBpc) : null });
      if (conv?.converged !== false || attempts.length > params.maxDoublings) break;
      E = 2 * Ei;
    }
    const heldoutEvery = everyFor(E);
    // the epochs planned, and those run (fewer when the run stopped on the held-out curve)
    const cap = E;
    E = r.epochs;
    const fromBudget = Math.round((budgetFor(params, xs.length) ?? 0) / Math.max(1, xs.length - 1));
    const n = paramCount(H);
    const hj = inputs.data.json.heldout as { offset?: number; bytes?: number } | undefined;
    return {
      json: {
        hidden: H,
        epochs: E,
        epochsCap: cap,
        epochsFrom: E < cap ? 'heldout' : E !== E0 ? 'doubled' : params.predictions === null ? 'epochs' : E === params.minEpochs && E > fromBudget ? 'minEpochs' : 'predictions',
        attempts,
        predictions: E * (xs.length - 1),
        optimizer: params.optimizer,
        init: params.init,
        recipe: recipeOf(params, E, stop ? cap : null),
        seed: params.seed,
        bptt: params.bptt,
        evalEvery: params.evalEvery,
        paramCount: n,
        kernel: r.kernel,
        prng: `${PRNG[params.init]}; w = (U - 0.5f)/H in float32, drawn per hidden row (its Wx row, then its Wh row), then Wy row by row; biases 0`,
        predictionsPerEpoch: xs.length - 1,
        bestEpoch: r.bestEpoch,
        bestTrainBpc: r.bestTrainBpc,
        finalTrainBpc: r.curveTrainBpc[E - 1],
        bestEvalBpc: r.bestEvalBpc,
        finalEvalBpc: r.finalEvalBpc,
        curve: r.evalEpochs.map((epoch, i) => ({ epoch, trainBpc: r.curveTrainBpc[epoch - 1], evalBpc: r.evalBpc[i] })),
        heldoutEvery,
        heldout: heldout
          ? {
              offset: hj?.offset ?? xs.length,
              bytes: heldout.length,
              curve: r.heldoutEpochs.map((epoch, i) => ({ epoch, heldoutBpc: r.heldoutBpc[i] })),
              bestBpc: Math.min(...r.heldoutBpc),
              bestEpoch: r.heldoutEpochs[r.heldoutBpc.indexOf(Math.min(...r.heldoutBpc))],
              checkpointBpc: r.bestCheckpointHeldoutBpc!,
              improvementLastQuarter: conv!.improvement,
              cutEpoch: conv!.cut,
              tolerance: CONVERGED_TOL,
            }
          : null,
        converged: conv ? conv.converged : null,
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
