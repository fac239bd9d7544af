// Training the Elman RNN (paper §2: "BPTT-50, Adam (η = 0.001), 4000 epochs on 1024
// bytes … Seed 42"). Implements docs/definitions.md §2 exactly:
//
// - Init (`init`, lib/rnn/prng.ts): every weight (Wx, Wh, Wy) is (U - 0.5f)/H in float32,
//   U from glibc's srand(seed)/rand() as (float)rand()/RAND_MAX (the authors' trainer)
//   or from mulberry32(seed); drawn per hidden row i: its 256 Wx entries, then its H Wh
//   entries; then Wy row by row. The biases bh, by are 0 and take no draws.
// - Epoch: the state is reset to 0; chunks start at 0, bptt, 2·bptt, …; chunk c makes the
//   predictions t = c·bptt .. min((c+1)·bptt, N-1) - 1 (N-1 = 1023 per epoch at N = 1024,
//   the last chunk 23). The state carries from chunk to chunk; gradients do not
//   (lib/rnn/bptt.ts). Gradients are summed over the chunk, clipped to global L2 norm 5
//   (norm in float64), and each chunk makes one update (lib/rnn/optim.ts).
// - adam: lr 0.001, β1 0.9, β2 0.999, ε 1e-8, one Adam step per chunk over the whole run.
//   sgd: lr_e = max(1e-4, 0.01·½(1 + cos(π e/E))) in epoch e = 1..E.
// - Best checkpoint: the weights after any epoch whose training bpc (mean over that
//   epoch's predictions while the weights change, floor 1e-8) beats the best so far by
//   more than 1e-4.
// - Eval bpc: the float32 forward of lib/rnn/forward.ts over all N-1 positions from state
//   0, floor 1e-8, every `evalEvery` epochs and after the last; also of the best
//   checkpoint.
//
// Precision: the weights and the forward states are float32 (the authors' float32 weights);
// the wasm and naive kernels keep gradients and Adam moments in float32 too (the ts
// kernel in float64); losses, the gradient norm and the optimizer's scalar factors are
// float64. The weights are bit-identical for the same params on the same kernel, whatever
// its thread count; the kernels sum in different orders (the wasm ones use ~1-ulp f32
// exp/tanh, wasm-relaxed fused multiply-adds), so they agree to float32 rounding (tested),
// not bit for bit, and the kernel is part of the output. Kernel choice ('auto'):
// wasm-relaxed when the runtime has relaxed SIMD, else wasm-simd, when its module loads and
// H % 16 = 0 (lib/rnn/wasm-files.ts), else ts when H % 4 = 0, else naive. The contract
// every kernel meets is lib/rnn/backend.ts.

import { V, paramCount, views, weightsFrom } from './weights.ts';
import { DEFAULT_FLOOR, forwardTraceStored } from './forward.ts';
import { glibcRand, mulberry32 } from './prng.ts';
import { chunkGradNaive } from './bptt.ts';
import { ADAM, adamStep, gradSumSq, clipScale, sgdLearningRate, sgdStep } from './optim.ts';
import { blockedBackend } from './bptt-blocked.ts';
import { wasmBackend, wasmUnavailableReason, type ThreadsOption } from './wasm-kernel.ts';
import type { Backend, BackendFactory, KernelName } from './backend.ts';
import type { Params as TrainParams } from '../../schemas/train.params.ts';

export type { Backend, BackendFactory, KernelName };
/** The optimizers and init PRNGs the train schema allows (schemas/train.params.json). */
export type Optimizer = TrainParams['optimizer'];
export type InitName = TrainParams['init'];

/**
 * What the kernel needs of the train stage's params: narrowed from the type derived from
 * schemas/train.params.json (no third declaration to drift). evalEvery: eval bpc every
 * this many epochs (and after the last); init: the init PRNG (default glibc, the authors').
 */
export type TrainOptions = Pick<TrainParams, 'hidden' | 'epochs' | 'optimizer' | 'seed' | 'bptt' | 'evalEvery'> &
  Partial<Pick<TrainParams, 'init'>> & {
    /**
     * Held-out text (docs/definitions.md §6.4): scored by the same float32 forward as the
     * eval bpc, at epoch 0 (the init), every `heldoutEvery` epochs and after the last. It
     * only reads the weights: the training, its curve and its weights are the same with or
     * without it.
     */
    heldout?: Uint8Array | null;
    /** Held-out eval interval in epochs (default: heldoutEveryFor(null, E), eight points along the run). */
    heldoutEvery?: number | null;
    /**
     * Stop on the held-out curve (docs/definitions.md §6.4): after each held-out point from
     * the STOP_MIN_POINTS-th on, stop when the run so far counts as converged, i.e. its best
     * held-out bpc improved by less than CONVERGED_TOL over the last quarter of the epochs
     * run. `epochs` is then the cap. Adam only: its rate is constant, so a run that stops at
     * epoch e had the schedule of a run planned for e epochs; sgd's cosine spans the cap.
     */
    stopOnHeldout?: boolean;
  };

/**
 * The held-out eval interval: `every`, or when null ⌊E/8⌋ (at least 1), so that a run of any
 * length gets about eight points besides the init and one of them falls at ⌊3E/4⌋ when 8
 * divides E. One pass over the 64 KiB Q3 block costs about 5.5 s of CPU (JavaScript
 * forward and readout), so a fixed number of points keeps short runs on large held-out
 * text affordable.
 */
export function heldoutEveryFor(every: number | null | undefined, E: number): number {
  return every ?? Math.max(1, Math.floor(E / 8));
}

/** Predictions between two held-out points when a run stops on the held-out curve (heldoutEvery null): every epoch from 32 KiB, every 32 at 1 KiB, so that the small sizes, which stop improving on held-out text within a few dozen epochs, show where. */
export const STOP_HELDOUT_PREDICTIONS = 32768;

/** Held-out points after the init before a run may stop on them: the last quarter then holds at least two, and a run that scores every epoch (from 32 KiB) trains at least 8, whose last quarter is not a single epoch. */
export const STOP_MIN_POINTS = 8;

/** The held-out eval interval of a run that stops on the held-out curve: `every`, or when null about STOP_HELDOUT_PREDICTIONS predictions (at least one epoch). */
export function heldoutEveryStop(every: number | null | undefined, N: number): number {
  return every ?? Math.max(1, Math.round(STOP_HELDOUT_PREDICTIONS / Math.max(1, N - 1)));
}

/** What a model counts as converged (docs/definitions.md §6.4): its best held-out bpc improved by less than this over the last quarter of its training. */
export const CONVERGED_TOL = 0.01;

/**
 * The convergence rule of docs/definitions.md §6.4 on a held-out curve (epochs ascending,
 * starting at 0 = the init): the best held-out bpc over points at epochs ≤ ⌊3E/4⌋ minus the
 * best over all points is below `tol`. A coarse curve (no point between an earlier one and
 * ⌊3E/4⌋) measures the improvement over a longer stretch than the last quarter, which
 * can only make a model count as not converged. null when the curve is empty or has no
 * point at or before ⌊3E/4⌋.
 */
export function convergedOf(epochs: readonly number[], bpc: readonly number[], E: number, tol = CONVERGED_TOL): { converged: boolean | null; improvement: number | null; cut: number } {
  const cut = Math.floor((3 * E) / 4);
  let before = Infinity;
  let all = Infinity;
  for (let i = 0; i < epochs.length; i++) {
    if (!Number.isFinite(bpc[i])) continue;
    all = Math.min(all, bpc[i]);
    if (epochs[i] <= cut) before = Math.min(before, bpc[i]);
  }
  if (!Number.isFinite(before)) return { converged: null, improvement: null, cut };
  const improvement = before - all;
  return { converged: improvement < tol, improvement, cut };
}

export interface TrainResult {
  kernel: KernelName;
  /** Epochs run: `epochs`, or fewer when the run stopped on the held-out curve. */
  epochs: number;
  /** Best checkpoint (float32, authors' layout). */
  params: Float32Array;
  finalParams: Float32Array;
  bestEpoch: number;
  bestTrainBpc: number;
  bestEvalBpc: number;
  finalEvalBpc: number;
  /** (epochs run) training bpc of epoch e at index e-1. */
  curveTrainBpc: Float64Array;
  /** Eval points: epochs and their eval bpc. */
  evalEpochs: number[];
  evalBpc: number[];
  /** Held-out eval points (empty without held-out text): epochs (0 = the init) and their held-out bpc. */
  heldoutEpochs: number[];
  heldoutBpc: number[];
  /** Held-out bpc of the best checkpoint (the weights the analyses read); null without held-out text. */
  bestCheckpointHeldoutBpc: number | null;
  /** Wall time of the epochs (evals excluded), ms. Not deterministic. */
  msPerEpoch: number;
  msTotal: number;
}

/** U in [0, 1] for the init, float32 as the authors' C computes it. */
export function initUniform(init: InitName, seed: number): () => number {
  if (init === 'mulberry32') {
    const rng = mulberry32(seed);
    return () => Math.fround(rng.next());
  }
  const rand = glibcRand(seed);
  // (float)rand() / RAND_MAX: the int rand() rounds to float, and RAND_MAX (2^31 - 1)
  // converts to the float 2^31 for the float division, so U = fround(rand()) / 2^31
  // (exact: a power of two) and U can be 1.
  return () => Math.fround(rand()) / 2147483648;
}

/** The docs/definitions.md §2 init: weights (U - 0.5f)/H in float32, per hidden row Wx then Wh, then Wy; biases 0. */
export function initParams(H: number, seed: number, init: InitName = 'glibc'): Float32Array {
  const params = new Float32Array(paramCount(H));
  const { Wx, Wh, Wy } = views(params, H);
  const u = initUniform(init, seed);
  const fH = Math.fround(H);
  const draw = () => Math.fround(Math.fround(u() - 0.5) / fH);
  for (let i = 0; i < H; i++) {
    for (let v = 0; v < V; v++) Wx[i * V + v] = draw();
    for (let j = 0; j < H; j++) Wh[i * H + j] = draw();
  }
  for (let k = 0; k < Wy.length; k++) Wy[k] = draw();
  return params;
}

/**
 * Eval bpc: float32 forward from S[-1] = 0, mean over t = 0..N-2 of -log2 max(p(x_{t+1}), floor).
 * The trace's pass (forwardTraceStored): the readout runs four rows at a time in
 * WebAssembly over blocks of positions, each row bit for bit readoutLogp's, so the figure
 * is the one-row-at-a-time loop's exactly (test/rnn/heldout.test.ts) at about half its
 * cost; the held-out curve of a Q3 run makes about ten passes over 64 KiB.
 */
export function evalBpc(params: Float32Array, H: number, xs: Uint8Array, floor = DEFAULT_FLOOR): number {
  const { bits } = forwardTraceStored(weightsFrom(params, H), xs, false, floor);
  let sum = 0;
  for (let t = 0; t < bits.length; t++) sum += bits[t];
  return sum / bits.length;
}

/** The naive twin as a backend: every array float32, lib/rnn/bptt.ts per step. */
export const naiveBackend: BackendFactory = (params0, H, xs) => {
  const params = Float32Array.from(params0);
  const n = params.length;
  const g = new Float32Array(n);
  const m = new Float32Array(n);
  const v = new Float32Array(n);
  const h = new Float32Array(H);
  return {
    kernel: 'naive',
    threads: 1,
    params,
    resetState: () => h.fill(0),
    chunk(start, L) {
      g.fill(0);
      return chunkGradNaive(g, h, params, H, xs, start, L, DEFAULT_FLOOR);
    },
    gradSumSq: () => gradSumSq(g),
    adam: (scale, step, hp) => adamStep(params, g, m, v, scale, step, hp),
    sgd: (scale, lr) => sgdStep(params, g, scale, lr),
    dispose: () => {},
  };
};

/**
 * 'auto': the WebAssembly kernel when a module is built and H % 16 = 0 (the relaxed-SIMD
 * one when the runtime has it), else the blocked TypeScript kernel when H % 4 = 0, else the
 * naive one. `maxL` is the longest chunk; `threads` only changes the speed of the
 * WebAssembly kernels (default: lib/rnn/wasm-kernel.ts defaultThreads).
 */
export function makeBackend(
  which: 'auto' | KernelName, params0: Float32Array, H: number, xs: Uint8Array, maxL: number, threads?: ThreadsOption,
): Backend {
  if (which === 'naive') return naiveBackend(params0, H, xs);
  if (which === 'ts') return blockedBackend(params0, H, xs);
  const variant = which === 'auto' ? 'auto' : which;
  const wasm = wasmBackend(params0, H, xs, maxL, variant, threads);
  if (wasm) return wasm;
  if (which !== 'auto') {
    throw new Error(
      `train: the WebAssembly kernel '${which}' cannot run (H=${H}; needs H % 16 = 0 and its module: ${wasmUnavailableReason(which) || 'built'})` +
        '\nhint: run `npm run build:wasm`',
    );
  }
  return H % 4 === 0 ? blockedBackend(params0, H, xs) : naiveBackend(params0, H, xs);
}

export interface TrainHooks {
  backend?: 'auto' | KernelName;
  /** Threads for the WebAssembly kernels: 1, 2 or 'auto' (the result does not depend on it). */
  threads?: ThreadsOption;
  /** Called after every epoch with its training bpc. */
  onEpoch?: (epoch: number, epochs: number, trainBpc: number) => void;
  /** Clock for msPerEpoch (default performance.now). */
  now?: () => number;
}

/** Train from the docs/definitions.md §2 init. Deterministic except for the timings. */
export function train(xs: Uint8Array, opt: TrainOptions, hooks: TrainHooks = {}): TrainResult {
  const { hidden: H, epochs: E, optimizer, seed, bptt, evalEvery } = opt;
  const N = xs.length;
  if (N < 2) throw new Error(`train: need at least 2 bytes of data, got ${N}`);
  const heldoutEvery = heldoutEveryFor(opt.heldoutEvery, E);
  if (!(H >= 1 && E >= 1 && bptt >= 1 && evalEvery >= 1 && heldoutEvery >= 1)) {
    throw new Error(`train: hidden, epochs, bptt, evalEvery and heldoutEvery must be ≥ 1, got ${JSON.stringify({ ...opt, heldout: opt.heldout?.length })}`);
  }
  const heldout = opt.heldout && opt.heldout.length >= 2 ? opt.heldout : null;
  const stopOnHeldout = opt.stopOnHeldout === true;
  if (stopOnHeldout && (!heldout || optimizer !== 'adam')) {
    throw new Error(`train: stopOnHeldout needs held-out text and optimizer adam (sgd's cosine spans the planned epochs), got ${heldout ? optimizer : 'no held-out text'}`);
  }
  const now = hooks.now ?? (() => performance.now());
  const be = makeBackend(hooks.backend ?? 'auto', initParams(H, seed, opt.init ?? 'glibc'), H, xs, Math.min(bptt, N - 1), hooks.threads);
  const P = N - 1; // predictions per epoch
  const curve = new Float64Array(E);
  const best = Float32Array.from(be.params);
  let bestBpc = Infinity;
  let bestEpoch = 0;
  const evalEpochs: number[] = [];
  const evalBpcs: number[] = [];
  const heldoutEpochs: number[] = [];
  const heldoutBpcs: number[] = [];
  // The held-out evals read the weights and nothing else (no draws, no state of the kernel).
  const scoreHeldout = (e: number) => {
    if (!heldout) return;
    heldoutEpochs.push(e);
    heldoutBpcs.push(evalBpc(be.params, H, heldout));
  };
  scoreHeldout(0);
  let step = 0;
  let ms = 0;
  let run = E;
  const t0 = now();

  for (let e = 1; e <= E; e++) {
    const te = now();
    be.resetState();
    const lr = optimizer === 'sgd' ? sgdLearningRate(e, E) : 0;
    let loss = 0;
    for (let start = 0; start < P; start += bptt) {
      loss += be.chunk(start, Math.min(bptt, P - start));
      const scale = clipScale(be.gradSumSq());
      if (optimizer === 'adam') be.adam(scale, ++step, ADAM);
      else be.sgd(scale, lr);
    }
    const bpc = loss / P / Math.LN2;
    curve[e - 1] = bpc;
    if (bpc < bestBpc - 1e-4) {
      bestBpc = bpc;
      bestEpoch = e;
      best.set(be.params);
    }
    ms += now() - te;
    let stop = false;
    if (e % heldoutEvery === 0 || e === E) {
      scoreHeldout(e);
      stop = stopOnHeldout && e < E && heldoutEpochs.length > STOP_MIN_POINTS && convergedOf(heldoutEpochs, heldoutBpcs, e).converged === true;
    }
    if (e % evalEvery === 0 || e === E || stop) {
      evalEpochs.push(e);
      evalBpcs.push(evalBpc(be.params, H, xs));
    }
    hooks.onEpoch?.(e, E, bpc);
    if (stop) {
      run = e;
      break;
    }
  }

  const finalParams = Float32Array.from(be.params);
  be.dispose();
  return {
    kernel: be.kernel,
    epochs: run,
    params: best,
    finalParams,
    bestEpoch,
    bestTrainBpc: bestBpc,
    bestEvalBpc: evalBpc(best, H, xs),
    finalEvalBpc: evalBpcs[evalBpcs.length - 1],
    curveTrainBpc: run === E ? curve : curve.slice(0, run),
    evalEpochs,
    evalBpc: evalBpcs,
    heldoutEpochs,
    heldoutBpc: heldoutBpcs,
    bestCheckpointHeldoutBpc: heldout ? evalBpc(best, H, heldout) : null,
    msPerEpoch: ms / run,
    msTotal: now() - t0,
  };
}
