// The update rules of docs/definitions.md §2 (paper §2: "Adam (η = 0.001)"; the authors' released
// trainer: SGD with a cosine learning rate). Plain TypeScript twins of the WebAssembly
// kernels; the driver in lib/rnn/train.ts calls them once per chunk:
//   1. n² = Σ g² (float64: summing in float32 drifts the loss, PERFORMANCE.md)
//   2. scale = 5/n if n > 5 else 1 (global L2 clip of all gradients)
//   3. adamStep or sgdStep with the clipped gradient scale·g.

import type { FloatArray } from './bptt.ts';

export const CLIP_NORM = 5;

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export const ADAM: AdamHyper = Object.freeze({ lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 });

/** Σ g² accumulated in float64. */
export function gradSumSq(g: FloatArray): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return s;
}

/** The factor that brings the global L2 norm down to `maxNorm` (1 if it is already within). */
export function clipScale(sumSq: number, maxNorm = CLIP_NORM): number {
  const norm = Math.sqrt(sumSq);
  return norm > maxNorm ? maxNorm / norm : 1;
}

/**
 * Adam, step number `step` = 1, 2, … (one per chunk over the whole run), on the clipped
 * gradient gc = scale·g:
 *   m = β1 m + (1-β1) gc      v = β2 v + (1-β2) gc²
 *   w -= lr · (m / (1-β1^step)) / (sqrt(v / (1-β2^step)) + ε)
 */
export function adamStep(
  params: FloatArray, // (n) updated in place
  g: FloatArray, // (n) summed chunk gradient, unclipped
  m: FloatArray, // (n) first moment
  v: FloatArray, // (n) second moment
  scale: number,
  step: number,
  hp: AdamHyper = ADAM,
): void {
  const { lr, beta1, beta2, eps } = hp;
  const c1 = 1 / (1 - Math.pow(beta1, step));
  const c2 = 1 / (1 - Math.pow(beta2, step));
  for (let i = 0; i < params.length; i++) {
    const gc = g[i] * scale;
    m[i] = beta1 * m[i] + (1 - beta1) * gc;
    v[i] = beta2 * v[i] + (1 - beta2) * gc * gc;
    params[i] -= (lr * (m[i] * c1)) / (Math.sqrt(v[i] * c2) + eps);
  }
}

/** SGD: w -= lr · scale·g. */
export function sgdStep(params: FloatArray, g: FloatArray, scale: number, lr: number): void {
  const f = lr * scale;
  for (let i = 0; i < params.length; i++) params[i] -= f * g[i];
}

/** The released trainer's schedule: lr_e = max(1e-4, 0.01 · ½ (1 + cos(π e / E))), e = 1..E. */
export function sgdLearningRate(epoch: number, epochs: number): number {
  return Math.max(1e-4, 0.01 * 0.5 * (1 + Math.cos((Math.PI * epoch) / epochs)));
}
