// The thin TypeScript driver of the WebAssembly SIMD training kernels (asm/rnn.ts, paper
// §2 / SPEC §2; same mathematics as lib/rnn/bptt.ts). It lays the buffers out in the
// module's memory, gives typed-array views of them, and wraps the kernels as a training
// Backend. The module is built by `npm run build:wasm` into build/rnn.wasm; when it is
// missing or does not load, wasmBackend returns null and training uses the TypeScript
// kernel (lib/rnn/bptt-blocked.ts).

import { readFileSync } from 'node:fs';
import { V, paramCount } from './weights.ts';
import { DEFAULT_FLOOR } from './forward.ts';
import type { AdamHyper } from './optim.ts';
import type { Backend } from './train.ts';

export const WASM_FILE = new URL('../../build/rnn.wasm', import.meta.url);

interface Exports {
  memory: WebAssembly.Memory;
  chunk(P: number, G: number, X: number, HS: number, Y: number, D: number, DH: number, H: number, start: number, L: number, maxLoss: number): number;
  sumSq(G: number, n: number): number;
  adam(P: number, G: number, M: number, Q: number, n: number, scale: number, lr: number, b1: number, b2: number, omb1: number, omb2: number, eps: number, c1: number, c2: number): void;
  sgd(P: number, G: number, n: number, f: number): void;
  mathTest(which: number, IN: number, OUT: number, n: number): void;
}

let cached: WebAssembly.Module | null | undefined;
let loadError = '';

/** The compiled module, or null (with the reason in wasmUnavailableReason()). */
export function wasmModule(): WebAssembly.Module | null {
  if (cached === undefined) {
    try {
      cached = new WebAssembly.Module(readFileSync(WASM_FILE));
    } catch (e) {
      cached = null;
      loadError = (e as Error).message;
    }
  }
  return cached;
}

export function wasmUnavailableReason(): string {
  return wasmModule() ? '' : loadError;
}

/** The kernels need H % 16 = 0 (four f32x4 vectors per block of Whᵀ columns). */
export function wasmSupports(H: number): boolean {
  return H % 16 === 0 && wasmModule() !== null;
}

/**
 * One instance with its own memory: weights P, gradient G, Adam moments M and Q (each
 * paramCount(H) f32, authors' layout), the data X, and the chunk's work buffers
 * HS (K+1, H), Y (K, V), D (K, H), DH (H) for chunks of up to maxL predictions.
 */
export class WasmKernel {
  readonly H: number;
  readonly n: number;
  readonly params: Float32Array;
  readonly grad: Float32Array;
  readonly m: Float32Array;
  readonly q: Float32Array;
  /** HS row 0: the carried state S[start-1]. */
  readonly state: Float32Array;
  private readonly x: Exports;
  private readonly at: { P: number; G: number; M: number; Q: number; X: number; HS: number; Y: number; D: number; DH: number };
  private readonly maxL: number;
  private readonly N: number;

  constructor(mod: WebAssembly.Module, H: number, xs: Uint8Array, maxL: number) {
    if (H % 16 !== 0) throw new Error(`WebAssembly kernel needs H % 16 = 0, got H=${H}`);
    this.x = new WebAssembly.Instance(mod, {}).exports as unknown as Exports;
    const mem = this.x.memory;
    const K = Math.ceil(maxL / 4) * 4;
    const n = paramCount(H);
    let top = mem.buffer.byteLength; // above the module's own static data
    const take = (bytes: number) => {
      const p = top;
      top += Math.ceil(bytes / 64) * 64;
      return p;
    };
    this.at = {
      P: take(4 * n),
      G: take(4 * n),
      M: take(4 * n),
      Q: take(4 * n),
      X: take(xs.length),
      HS: take(4 * (K + 1) * H),
      Y: take(4 * K * V),
      D: take(4 * K * H),
      DH: take(4 * H),
    };
    mem.grow(Math.ceil((top - mem.buffer.byteLength) / 65536));
    const buf = mem.buffer;
    this.H = H;
    this.n = n;
    this.maxL = maxL;
    this.N = xs.length;
    this.params = new Float32Array(buf, this.at.P, n);
    this.grad = new Float32Array(buf, this.at.G, n);
    this.m = new Float32Array(buf, this.at.M, n);
    this.q = new Float32Array(buf, this.at.Q, n);
    this.state = new Float32Array(buf, this.at.HS, H);
    new Uint8Array(buf, this.at.X, xs.length).set(xs);
  }

  /** Gradient of predictions start..start+L-1 into grad; state carried; returns Σ -ln max(p, floor). */
  chunk(start: number, L: number, floor = DEFAULT_FLOOR): number {
    if (L < 1 || L > this.maxL || start < 0 || start + L >= this.N) {
      throw new Error(`chunk(${start}, ${L}) out of range (maxL ${this.maxL}, N ${this.N})`);
    }
    const a = this.at;
    return this.x.chunk(a.P, a.G, a.X, a.HS, a.Y, a.D, a.DH, this.H, start, L, -Math.log(floor));
  }

  gradSumSq(): number {
    return this.x.sumSq(this.at.G, this.n);
  }

  adam(scale: number, step: number, hp: AdamHyper): void {
    const c1 = 1 / (1 - Math.pow(hp.beta1, step));
    const c2 = 1 / (1 - Math.pow(hp.beta2, step));
    const a = this.at;
    this.x.adam(a.P, a.G, a.M, a.Q, this.n, scale, hp.lr, hp.beta1, hp.beta2, 1 - hp.beta1, 1 - hp.beta2, hp.eps, c1, c2);
  }

  sgd(scale: number, lr: number): void {
    this.x.sgd(this.at.P, this.at.G, this.n, lr * scale);
  }
}

/** The kernels' f32x4 exp or tanh applied to xs (length % 4 = 0), for the twin tests. */
export function wasmMath(fn: 'exp' | 'tanh', xs: Float32Array): Float32Array {
  const mod = wasmModule();
  if (!mod) throw new Error(`WebAssembly kernel unavailable: ${loadError}`);
  const x = new WebAssembly.Instance(mod, {}).exports as unknown as Exports;
  const base = x.memory.buffer.byteLength;
  x.memory.grow(Math.ceil((8 * xs.length) / 65536));
  new Float32Array(x.memory.buffer, base, xs.length).set(xs);
  x.mathTest(fn === 'exp' ? 0 : 1, base, base + 4 * xs.length, xs.length);
  return Float32Array.from(new Float32Array(x.memory.buffer, base + 4 * xs.length, xs.length));
}

/** The WebAssembly kernel as a training backend (chunks of up to maxL), or null when it cannot run here. */
export function wasmBackend(params0: Float32Array, H: number, xs: Uint8Array, maxL: number): Backend | null {
  const mod = wasmModule();
  if (!mod || H % 16 !== 0) return null;
  const k = new WasmKernel(mod, H, xs, maxL);
  k.params.set(params0);
  return {
    kernel: 'wasm-simd',
    params: k.params,
    resetState: () => k.state.fill(0),
    chunk: (start, L) => k.chunk(start, L),
    gradSumSq: () => k.gradSumSq(),
    adam: (scale, step, hp) => k.adam(scale, step, hp),
    sgd: (scale, lr) => k.sgd(scale, lr),
  };
}
