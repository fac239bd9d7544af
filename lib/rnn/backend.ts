// The training backend contract (docs/definitions.md §2): what lib/rnn/train.ts's epoch loop asks of a
// chunk kernel. It has its own file so that the kernels (lib/rnn/bptt-blocked.ts,
// lib/rnn/wasm-kernel.ts) and the driver that picks one (lib/rnn/train.ts) all import it
// and none imports another's module for its types.

import type { AdamHyper } from './optim.ts';

/**
 * Which kernel trained: 'wasm-relaxed' (WebAssembly SIMD with fused multiply-adds,
 * build/rnn-relaxed.wasm), 'wasm-simd' (WebAssembly SIMD, build/rnn.wasm), 'ts' (blocked
 * TypeScript, float64 gradients), 'naive' (lib/rnn/bptt.ts). They round differently, so
 * the kernel is part of a training result.
 */
export type KernelName = 'wasm-relaxed' | 'wasm-simd' | 'ts' | 'naive';

/** One training engine: live weights, gradients and moments, and the chunk kernel. */
export interface Backend {
  readonly kernel: KernelName;
  /** Threads the kernel runs on (the results do not depend on it). */
  readonly threads: number;
  /** The live weights, authors' layout (may be a view into WebAssembly memory: copy it). */
  readonly params: Float32Array;
  /** State S[-1] = 0 (start of an epoch). */
  resetState(): void;
  /** Zero the gradients, then forward + backward over predictions start..start+L-1; Σ -ln p. */
  chunk(start: number, L: number): number;
  /** Σ g² of the chunk gradient, float64. */
  gradSumSq(): number;
  adam(scale: number, step: number, hp: AdamHyper): void;
  sgd(scale: number, lr: number): void;
  /** Release threads and memory (the backend is unusable after). */
  dispose(): void;
}

export type BackendFactory = (params0: Float32Array, H: number, xs: Uint8Array) => Backend;
