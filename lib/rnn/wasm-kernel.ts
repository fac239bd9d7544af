// The thin TypeScript driver of the WebAssembly SIMD training kernels (asm/rnn.ts, paper
// §2 / docs/definitions.md §2; same mathematics as lib/rnn/bptt.ts). It lays the buffers out in one shared
// WebAssembly memory, gives typed-array views of them, starts the second thread
// (lib/rnn/wasm-worker.mjs) when asked for two, and wraps the kernels as a training Backend.
// The modules are built by `npm run build:wasm` (lib/rnn/wasm-files.ts says which one this
// runtime uses); when none loads, wasmBackend returns null and training uses the
// TypeScript kernel (lib/rnn/bptt-blocked.ts).
//
// Threads: the kernel's commands run on the main thread, and a worker joins each one when it
// is free in time (asm/rnn.ts, header). The results are the same bits with one thread or two.

import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { V, paramCount } from './weights.ts';
import { DEFAULT_FLOOR } from './forward.ts';
import type { AdamHyper } from './optim.ts';
import type { Backend } from './backend.ts';
import { WASM_FILES, preferredWasm, relaxedSimdAvailable, type WasmVariant } from './wasm-files.ts';

export { WASM_FILES, preferredWasm, relaxedSimdAvailable, type WasmVariant };

interface Exports {
  CB_BYTES: WebAssembly.Global;
  command(cb: number, threads: number, awaitWorker: boolean): number;
  stopWorker(cb: number): void;
  sumSq(G: number, n: number): number;
  mathTest(which: number, IN: number, OUT: number, n: number): void;
}

// control block offsets (asm/rnn.ts)
const CB = {
  KIND: 4, START: 8, LEN: 12, HID: 16, NPAR: 20,
  P: 32, G: 36, M: 40, Q: 44, X: 48, HS: 52, Y: 56, D: 60, DH: 64, NLL: 68, SS: 72, TOUCH: 76,
  A0: 96, MAXLOSS: 176, LOSS: 184, SUMSQ: 192, JOIN: 256, DONE: 320, READY: 1088, JOINS: 1092, WTASKS: 1100,
} as const;
const CMD_CHUNK = 1;
const CMD_SGD = 2;
const CMD_ADAM = 3;
/** The module's own data (constant tables) lies below this; our buffers start here. */
const HEAP_BASE = 65536;

const modules = new Map<WasmVariant, WebAssembly.Module | null>();
const loadErrors = new Map<WasmVariant, string>();

/** The compiled module of a variant, or null (with the reason in wasmUnavailableReason()). */
export function wasmModule(variant: WasmVariant = 'wasm-simd'): WebAssembly.Module | null {
  if (!modules.has(variant)) {
    let mod: WebAssembly.Module | null = null;
    try {
      if (variant === 'wasm-relaxed' && !relaxedSimdAvailable()) throw new Error('this runtime has no relaxed SIMD');
      mod = new WebAssembly.Module(readFileSync(WASM_FILES[variant]));
    } catch (e) {
      loadErrors.set(variant, (e as Error).message);
    }
    modules.set(variant, mod);
  }
  return modules.get(variant)!;
}

export function wasmUnavailableReason(variant: WasmVariant = 'wasm-simd'): string {
  return wasmModule(variant) ? '' : loadErrors.get(variant)!;
}

/** The kernels need H % 16 = 0 (four f32x4 vectors per block of Whᵀ columns). */
export function wasmSupports(H: number, variant: WasmVariant = 'wasm-simd'): boolean {
  return H % 16 === 0 && wasmModule(variant) !== null;
}

export type ThreadsOption = number | 'auto';

/**
 * Threads for training when not told: TOTAL_INTERP_TRAIN_THREADS (1, 2 or auto) if set,
 * else 'auto' (two threads when they are faster, see wasmBackend) when the machine has two
 * cores and the model is big enough for a second thread to pay (H ≥ 64), else 1.
 */
export function defaultThreads(H: number): ThreadsOption {
  const env = process.env.TOTAL_INTERP_TRAIN_THREADS;
  if (env === 'auto') return 'auto';
  if (Number(env) >= 1) return Math.min(2, Math.floor(Number(env)));
  return H >= 64 && availableParallelism() >= 2 ? 'auto' : 1;
}

/**
 * One kernel instance with its own shared memory: weights P, gradient G, Adam moments M
 * and Q (each paramCount(H) f32, authors' layout), the data X, and the chunk's work buffers
 * for chunks of up to maxL predictions; with threads = 2, a worker thread on the same memory.
 */
export class WasmKernel {
  readonly H: number;
  readonly n: number;
  /** Threads the next commands run on: 1, or 2 when the worker exists (setThreads). */
  threads: number;
  readonly params: Float32Array;
  readonly grad: Float32Array;
  readonly m: Float32Array;
  readonly q: Float32Array;
  /** HS row 0: the carried state S[start-1]. */
  readonly state: Float32Array;
  private readonly x: Exports;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly cb: number;
  private readonly maxL: number;
  private readonly N: number;
  private worker: Worker | null = null;
  /** Tests: every command waits for the worker to join before starting (so that it surely takes part). */
  awaitWorker = false;

  constructor(mod: WebAssembly.Module, H: number, xs: Uint8Array, maxL: number, threads = 1) {
    if (H % 16 !== 0) throw new Error(`WebAssembly kernel needs H % 16 = 0, got H=${H}`);
    const K = Math.ceil(maxL / 4) * 4;
    const n = paramCount(H);
    let top = HEAP_BASE;
    const take = (bytes: number) => {
      const p = top;
      top += Math.ceil(bytes / 64) * 64;
      return p;
    };
    const cb = take(2048);
    const at = {
      P: take(4 * n), G: take(4 * n), M: take(4 * n), Q: take(4 * n),
      X: take(xs.length),
      HS: take(4 * (K + 1) * H), Y: take(4 * K * V), D: take(4 * K * H), DH: take(4 * H),
      NLL: take(8 * K), SS: take(8 * (V / 16 + H / 16)), TOUCH: take(V),
    };
    const pages = Math.ceil(top / 65536);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    this.x = new WebAssembly.Instance(mod, { env: { memory, abort: () => { throw new Error('wasm abort'); } } }).exports as unknown as Exports;
    if (cb + (this.x.CB_BYTES.value as number) > at.P) throw new Error('control block overlaps the buffers');
    const buf = memory.buffer as unknown as ArrayBuffer;
    this.i32 = new Int32Array(buf, cb, 512);
    this.f64 = new Float64Array(buf, cb, 256);
    const set = (off: number, v: number) => (this.i32[off >> 2] = v);
    set(CB.HID, H);
    set(CB.NPAR, n);
    for (const [k, v] of Object.entries(at)) set(CB[k as keyof typeof at], v);
    set(CB.JOIN, -1);
    set(CB.DONE, -1);
    this.cb = cb;
    this.H = H;
    this.n = n;
    this.maxL = maxL;
    this.N = xs.length;
    this.params = new Float32Array(buf, at.P, n);
    this.grad = new Float32Array(buf, at.G, n);
    this.m = new Float32Array(buf, at.M, n);
    this.q = new Float32Array(buf, at.Q, n);
    this.state = new Float32Array(buf, at.HS, H);
    new Uint8Array(buf, at.X, xs.length).set(xs);
    this.threads = threads >= 2 ? 2 : 1;
    if (this.threads === 2) {
      this.worker = new Worker(new URL('./wasm-worker.mjs', import.meta.url), { workerData: { module: mod, memory, cb } });
      this.worker.unref(); // never keeps the process alive
      this.worker.on('error', () => {}); // a dead worker just never joins: role 0 does everything
    }
  }

  /** Run the next commands on one thread (the worker idles, then sleeps) or two (needs the worker). */
  setThreads(threads: number): void {
    this.threads = threads >= 2 && this.worker ? 2 : 1;
  }

  /** Block until the worker thread runs (tests: so that two threads really share the work); false on timeout. */
  waitForWorker(timeoutMs = 10000): boolean {
    if (!this.worker) return false;
    const at = CB.READY >> 2;
    const end = Date.now() + timeoutMs;
    while (Atomics.load(this.i32, at) === 0) {
      const left = end - Date.now();
      if (left <= 0) return false;
      Atomics.wait(this.i32, at, 0, Math.min(left, 50));
    }
    return true;
  }

  /** Commands the worker has joined so far. */
  get workerJoins(): number {
    return Atomics.load(this.i32, CB.JOINS >> 2);
  }

  /** Tasks the worker has run so far. */
  get workerTasks(): number {
    return Atomics.load(this.i32, CB.WTASKS >> 2);
  }

  /** Gradient of predictions start..start+L-1 into grad; state carried; returns Σ -ln max(p, floor). */
  chunk(start: number, L: number, floor = DEFAULT_FLOOR): number {
    if (L < 1 || L > this.maxL || start < 0 || start + L >= this.N) {
      throw new Error(`chunk(${start}, ${L}) out of range (maxL ${this.maxL}, N ${this.N})`);
    }
    this.i32[CB.KIND >> 2] = CMD_CHUNK;
    this.i32[CB.START >> 2] = start;
    this.i32[CB.LEN >> 2] = L;
    this.f64[CB.MAXLOSS >> 3] = -Math.log(floor);
    return this.x.command(this.cb, this.threads, this.awaitWorker);
  }

  /** Σ g² of the last chunk's gradient (f64, summed per gradient block in a fixed order). */
  gradSumSq(): number {
    return this.f64[CB.SUMSQ >> 3];
  }

  adam(scale: number, step: number, hp: AdamHyper): void {
    const a = CB.A0 >> 3;
    const args = [scale, hp.lr, hp.beta1, hp.beta2, 1 - hp.beta1, 1 - hp.beta2, hp.eps, 1 / (1 - Math.pow(hp.beta1, step)), 1 / (1 - Math.pow(hp.beta2, step))];
    for (let i = 0; i < args.length; i++) this.f64[a + i] = args[i];
    this.i32[CB.KIND >> 2] = CMD_ADAM;
    this.x.command(this.cb, this.threads, this.awaitWorker);
  }

  sgd(scale: number, lr: number): void {
    this.f64[CB.A0 >> 3] = lr * scale;
    this.i32[CB.KIND >> 2] = CMD_SGD;
    this.x.command(this.cb, this.threads, this.awaitWorker);
  }

  /** Stop the worker thread (it returns at its next look at the command word). */
  dispose(): void {
    if (this.worker) {
      this.x.stopWorker(this.cb);
      this.worker = null;
    }
  }
}

/** The kernels' f32x4 exp or tanh applied to xs (length % 4 = 0), for the twin tests. */
export function wasmMath(fn: 'exp' | 'tanh', xs: Float32Array, variant: WasmVariant = 'wasm-simd'): Float32Array {
  const mod = wasmModule(variant);
  if (!mod) throw new Error(`WebAssembly kernel unavailable: ${wasmUnavailableReason(variant)}`);
  const pages = Math.ceil((HEAP_BASE + 8 * xs.length) / 65536);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const x = new WebAssembly.Instance(mod, { env: { memory, abort: () => {} } }).exports as unknown as Exports;
  const buf = memory.buffer as unknown as ArrayBuffer;
  new Float32Array(buf, HEAP_BASE, xs.length).set(xs);
  x.mathTest(fn === 'exp' ? 0 : 1, HEAP_BASE, HEAP_BASE + 4 * xs.length, xs.length);
  return Float32Array.from(new Float32Array(buf, HEAP_BASE + 4 * xs.length, xs.length));
}

/**
 * A WebAssembly kernel as a training backend (chunks of up to maxL), or null when it cannot
 * run here. `variant` 'auto' takes the relaxed-SIMD one when the runtime has it. `threads`
 * 'auto' starts the worker and runs each window of AUTO_WINDOW chunks on one thread or
 * two, whichever took less kernel time per chunk when last measured; the other is tried
 * again after AUTO_RETRY windows, and after twice as many each time it loses again (up to
 * AUTO_RETRY_MAX), and never while the load average says no core is free: two spinning
 * threads lose badly, by 3× and more, when other processes want the cores, and win by ~1.7×
 * when they do not.
 */
export function wasmBackend(
  params0: Float32Array, H: number, xs: Uint8Array, maxL: number,
  variant: WasmVariant | 'auto' = 'auto', threads: ThreadsOption = defaultThreads(H),
): Backend | null {
  const v = variant === 'auto' ? preferredWasm() : variant;
  const mod = v && wasmModule(v);
  if (!v || !mod || H % 16 !== 0) return null;
  const auto = threads === 'auto';
  const k = new WasmKernel(mod, H, xs, maxL, auto ? 2 : threads);
  k.params.set(params0);
  // two threads only while the machine has a core to spare for the worker: the 1-minute
  // load average less our own running threads below the other cores less a half
  const coreFree = () => loadavg()[0] - k.threads < availableParallelism() - 1.5;
  // 'auto': kernel ms per chunk in the last window run on 1 and on 2 threads
  const perChunk: Record<1 | 2, number> = { 1: NaN, 2: NaN };
  let best: 1 | 2 = 2;
  let retryEvery = AUTO_RETRY;
  let sinceRetry = 0;
  let chunks = 0;
  let spent = 0;
  const endWindow = () => {
    const ran = k.threads as 1 | 2;
    perChunk[ran] = spent / chunks;
    spent = chunks = 0;
    const other = (3 - ran) as 1 | 2;
    const wins = !(perChunk[other] < perChunk[ran]); // an untried count wins
    if (ran !== best) retryEvery = wins ? AUTO_RETRY : Math.min(2 * retryEvery, AUTO_RETRY_MAX); // it was a retry
    best = wins ? ran : other;
    if (Number.isNaN(perChunk[1])) best = 2; // window 1 tries one thread
    let next = best;
    if (++sinceRetry >= retryEvery || Number.isNaN(perChunk[1])) {
      sinceRetry = 0;
      next = (3 - best) as 1 | 2;
    }
    k.setThreads(next === 2 && !coreFree() ? 1 : next);
  };
  if (auto && !coreFree()) k.setThreads(1);
  const timed = <T>(f: () => T): T => {
    if (!auto) return f();
    const t0 = performance.now();
    const r = f();
    spent += performance.now() - t0;
    return r;
  };
  return {
    kernel: v,
    get threads() {
      return k.threads;
    },
    params: k.params,
    resetState: () => k.state.fill(0),
    chunk: (start, L) => {
      if (auto && chunks === AUTO_WINDOW) endWindow();
      chunks++;
      return timed(() => k.chunk(start, L));
    },
    gradSumSq: () => k.gradSumSq(),
    adam: (scale, step, hp) => timed(() => k.adam(scale, step, hp)),
    sgd: (scale, lr) => timed(() => k.sgd(scale, lr)),
    dispose: () => k.dispose(),
  };
}

/** With threads 'auto': chunks per window of one thread count, and how many windows pass before the loser is retried. */
export const AUTO_WINDOW = 8;
export const AUTO_RETRY = 8;
export const AUTO_RETRY_MAX = 256;
