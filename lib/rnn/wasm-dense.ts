// The analyses' dense float64 kernels in WebAssembly (asm/dense.ts, built by `npm run
// build:wasm` into build/dense.wasm): a loader and an arena of named typed-array views in
// the module's memory. The kernels give the same bits as the JavaScript loops they stand
// in for (asm/dense.ts says how), so callers use them when the module is there and fall
// back to those loops when it is not (no build, or TOTAL_INTERP_DENSE=js), and the choice
// never reaches a result or a cache key.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DENSE_WASM_FILE = fileURLToPath(new URL('../../build/dense.wasm', import.meta.url));

export interface DenseExports {
  mv4(out: number, M: number, rows: number, n: number, v: number, init: number): void;
  logSoftmax4(out: number, rows: number): void;
  fillTables(tab: number, nTab: number, R: number, rOff: number, U: number, base: number, G: number, w: number, K: number, Wt: number): void;
  gatherRows(L: number, tab: number, off: number, G: number, K: number, t0: number, t1: number): void;
  gradWeights(Wt: number, H: number, A: number, R: number, rOff: number, U: number, base: number, G: number, w: number, K: number): void;
  expTest(IN: number, OUT: number, n: number): void;
  expTestAll(IN: number, OUT: number, n: number): void;
  subScaled(x: number, y: number, n: number, s: number): void;
  expScalar(x: number): number;
  tanh(x: number): number;
  umStep(u: number, Ep: number, Em: number, Pp: number, Pm: number, C: number, H: number, Hp: number): void;
  step4(next: number, prev: number, v: number, out: number, M: number, H: number, Wx: number, bh: number, x0: number, x1: number, x2: number, x3: number): void;
  step4v(next: number, prev: number, v: number, out: number, M: number, H: number, Wx: number, bh: number, x0: number, x1: number, x2: number, x3: number): void;
  tanhTest(IN: number, OUT: number, n: number): void;
  readoutPick4(out: number, h: number, v: number, L: number, Wy: number, by: number, V: number, H: number, o0: number, o1: number, o2: number, o3: number): void;
  gradients4(G: number, Sb: number, lo: number, WhT: number, H: number, D: number, T0: number, T1: number, T2: number, T3: number, v: number, out: number): void;
  scaledLogp(out: number, L: number, b: number, mult: number, y: number, K: number, t0: number, t1: number, scales: number, nS: number, l: number, code: number, norm: number): void;
  forwardSteps(z: number, S: number, xs: number, t0: number, t1: number, H: number, Wp: number, Wx: number, bh: number, prev: number, acc: number, sign: number): void;
  gradRowsSlots(A: number, db: number, nTab: number, l: number, tab: number, off: number, G: number, K: number, b: number, mult: number, y: number, t0: number, t1: number, eps: number, code: number, P: number, A0: number, db0: number, sPos: number, sN: number, nSlots: number): number;
}

let mod: WebAssembly.Module | null | undefined;
let reason = '';

/** The compiled dense module, or null (reason in denseUnavailableReason()): missing build, or TOTAL_INTERP_DENSE=js. */
/** The kernels this file calls: a module without one of them is not used. */
export const DENSE_EXPORTS = ['mv4', 'logSoftmax4', 'fillTables', 'gatherRows', 'gradWeights', 'scaledLogp', 'forwardSteps', 'step4', 'umStep', 'step4v', 'gradients4', 'readoutPick4', 'gradRowsSlots', 'subScaled'];

export function denseModule(): WebAssembly.Module | null {
  if (process.env.TOTAL_INTERP_DENSE === 'js') {
    reason = 'TOTAL_INTERP_DENSE=js';
    return null;
  }
  if (mod === undefined) {
    mod = null;
    try {
      if (!existsSync(DENSE_WASM_FILE)) throw new Error('build/dense.wasm is missing (npm run build:wasm)');
      const m = new WebAssembly.Module(readFileSync(DENSE_WASM_FILE));
      // A module built from an older asm/dense.ts lacks newer kernels: the JavaScript twins
      // run instead of a call that would fail mid-stage.
      const have = new Set(WebAssembly.Module.exports(m).map((e) => e.name));
      const missing = DENSE_EXPORTS.filter((n) => !have.has(n));
      if (missing.length) throw new Error(`build/dense.wasm is older than asm/dense.ts (no ${missing.join(', ')}; npm run build:wasm rebuilds it)`);
      mod = m;
    } catch (e) {
      reason = (e as Error).message;
    }
  }
  return mod;
}

export function denseUnavailableReason(): string {
  return denseModule() ? '' : reason;
}

type Kind = 'f64' | 'i32' | 'f32' | 'u8';
type Spec = Record<string, readonly [Kind, number]>;
type ViewOf<T extends Kind> = T extends 'f64' ? Float64Array : T extends 'i32' ? Int32Array : T extends 'f32' ? Float32Array : Uint8Array;
type Views<S extends Spec> = { [K in keyof S]: ViewOf<S[K][0]> };
const BYTES: Record<Kind, number> = { f64: 8, i32: 4, f32: 4, u8: 1 };

/** Below this the module's own data lies; the arena starts here. */
const BASE = 65536;

/**
 * One instance of the dense module with a memory holding the named arrays of `spec`
 * (each 16-byte aligned, zeroed): `v.name` is the typed-array view, `p.name` its byte
 * address for the kernels. Null when the module is unavailable.
 */
export function denseArena<S extends Spec>(spec: S): { x: DenseExports; v: Views<S>; p: Record<keyof S, number> } | null {
  const m = denseModule();
  if (!m) return null;
  let top = BASE;
  const p = {} as Record<keyof S, number>;
  for (const k of Object.keys(spec) as (keyof S)[]) {
    const [type, n] = spec[k];
    p[k] = top;
    top += Math.ceil((BYTES[type] * n) / 16) * 16 + 16;
  }
  const memory = new WebAssembly.Memory({ initial: Math.ceil(top / 65536) });
  const x = new WebAssembly.Instance(m, {
    env: { memory, exp: Math.exp, log: Math.log, abort: () => { throw new Error('wasm abort'); } },
  }).exports as unknown as DenseExports;
  const v = {} as Record<keyof S, ArrayBufferView>;
  const make = { f64: Float64Array, i32: Int32Array, f32: Float32Array, u8: Uint8Array };
  for (const k of Object.keys(spec) as (keyof S)[]) {
    const [type, n] = spec[k];
    v[k] = new make[type](memory.buffer, p[k], n);
  }
  return { x, v: v as Views<S>, p };
}

// ---------------------------------------------------------------------------------------
// matrix × four vectors

const mv4s = new WeakMap<Float64Array, Mv4 | null>();

/**
 * out_c = init + M·v_c for four vectors c at once, M (rows, n) float64, each output summed
 * over j in order from init (or 0): the register-blocked four-chain loops of the analyses
 * (readoutLogits4, the ablation's step, the backward gradients) in WebAssembly, bit for bit.
 */
export class Mv4 {
  private constructor(
    private readonly d: NonNullable<ReturnType<typeof mv4Arena>>,
    readonly rows: number,
    readonly n: number,
  ) {}

  /**
   * The kernel for M, or null without the module. Cached per M array: M must not change
   * afterwards (callers pass a private float64 copy, made once per run).
   */
  static for(M: Float64Array, rows: number, n: number): Mv4 | null {
    let k = mv4s.get(M);
    if (k === undefined) {
      if (M.length !== rows * n) throw new Error(`Mv4: M has ${M.length} values, expected rows·n = ${rows}·${n}`);
      const d = mv4Arena(rows, n);
      k = d ? new Mv4(d, rows, n) : null;
      if (d) d.v.M.set(M);
      mv4s.set(M, k);
    }
    return k;
  }

  /**
   * out[outOff + c*outStride + q] = init[q] (or 0 when init is null) + Σ_j M[q*n + j] · v[vOff + c*n + j]
   * for c < 4, q < rows: v holds four vectors of n one after the other. With `logSoftmax`,
   * each out_c is then replaced by its log softmax as forward.ts logSoftmax computes it.
   */
  run(v: ArrayLike<number>, vOff: number, init: ArrayLike<number> | null, out: Float64Array, outOff: number, outStride: number, logSoftmax = false): void {
    const { rows, n, d } = this;
    const vi = d.v.v;
    for (let c = 0; c < 4; c++) for (let j = 0; j < n; j++) vi[j * 4 + c] = v[vOff + c * n + j];
    if (init) for (let q = 0; q < rows; q++) d.v.init[q] = init[q];
    d.x.mv4(d.p.out, d.p.M, rows, n, d.p.v, init ? d.p.init : 0);
    if (logSoftmax) d.x.logSoftmax4(d.p.out, rows);
    const o = d.v.out;
    for (let c = 0; c < 4; c++) {
      const base = outOff + c * outStride;
      for (let q = 0; q < rows; q++) out[base + q] = o[q * 4 + c];
    }
  }
}

function mv4Arena(rows: number, n: number) {
  return denseArena({ M: ['f64', rows * n], v: ['f64', 4 * n], init: ['f64', rows], out: ['f64', 4 * rows] });
}

// ---------------------------------------------------------------------------------------
// the forward pass's states

/** What forwardStatesDense reads of a model: H and its float32 Wx (H, 256), Wh (H, H), bh (H). */
export interface RecurrentWeights {
  H: number;
  Wx: Float32Array;
  Wh: Float32Array;
  bh: Float32Array;
}

/**
 * z and S (T, H) float32 of the forward pass over xs from S[-1] = h0 (default 0), in
 * WebAssembly: bit for bit lib/rnn/forward.ts forwardStates (each unit's Wh·S[t-1] summed
 * over j in order, z = fround(Wx[i][x] + sum + bh[i]), S = fround(tanh z) with Math.tanh's
 * bits), some five times faster at H = 128. Null without the module (the caller runs
 * forwardStates).
 */
export function forwardStatesDense(w: RecurrentWeights, xs: Uint8Array, h0?: ArrayLike<number>): { z: Float32Array; S: Float32Array } | null {
  return statesDense(w, xs, h0, 0);
}

/**
 * The §3.2 sign dynamics (lib/analysis/boolean.ts signDynamics), in WebAssembly: s_t =
 * sign(fround(Wx[i][x_t] + Σ_j Wh[i][j] s_{t-1}[j] + bh[i])) (sign(0) = +1), s_{-1} = -1,
 * each sum over j in order, as (T, H) float64 ±1. Null without the module.
 */
export function signStatesDense(w: RecurrentWeights, xs: Uint8Array): Int8Array | null {
  const r = statesDense(w, xs, new Float64Array(w.H).fill(-1), 1);
  return r && Int8Array.from(r.S);
}

function statesDense(w: RecurrentWeights, xs: Uint8Array, h0: ArrayLike<number> | undefined, sign: number): { z: Float32Array; S: Float32Array } | null {
  const { H } = w;
  const T = xs.length;
  const HB = Math.ceil(H / 16);
  const d = denseArena({
    z: ['f32', T * H], S: ['f32', T * H], xs: ['u8', T], Wp: ['f64', HB * H * 16],
    Wx: ['f32', H * 256], bh: ['f32', H], prev: ['f64', H], acc: ['f64', HB * 16],
  });
  if (!d) return null;
  // Wp[(b*H + j)*16 + r] = Wh[(16b + r)*H + j]: sixteen rows side by side per j
  const Wp = d.v.Wp;
  for (let i = 0; i < H; i++) {
    const b = i >> 4;
    const r = i & 15;
    for (let j = 0; j < H; j++) Wp[(b * H + j) * 16 + r] = w.Wh[i * H + j];
  }
  d.v.Wx.set(w.Wx);
  d.v.bh.set(w.bh);
  d.v.xs.set(xs);
  if (h0) for (let j = 0; j < H; j++) d.v.prev[j] = h0[j];
  for (let t = 0; t < T; t += STEPS) d.x.forwardSteps(d.p.z, d.p.S, d.p.xs, t, Math.min(T, t + STEPS), H, d.p.Wp, d.p.Wx, d.p.bh, d.p.prev, d.p.acc, sign);
  return { z: d.v.z.slice(), S: d.v.S.slice() };
}

/** Steps per call of forwardSteps (see asm/dense.ts). */
const STEPS = 16;

// ---------------------------------------------------------------------------------------
// four forward steps side by side (the ablation's chains)

const step4s = new WeakMap<Float32Array, Step4 | null>();

/**
 * Four float32 forward steps at once, chain c from prev_c with byte x_c (x_c < 0: no input
 * term): the ablation's step4 (lib/analysis/ablation.ts) in WebAssembly, bit for bit, tanh
 * included.
 */
export class Step4 {
  private constructor(private readonly d: NonNullable<ReturnType<typeof step4Arena>>, readonly H: number) {}

  /** The kernel for w's Wx, Wh, bh, or null without the module. Cached per w.Wh array: w must not change afterwards. */
  static for(w: RecurrentWeights): Step4 | null {
    let k = step4s.get(w.Wh);
    if (k === undefined) {
      const d = step4Arena(w.H);
      k = d ? new Step4(d, w.H) : null;
      if (d) {
        for (let i = 0; i < w.Wh.length; i++) d.v.M[i] = w.Wh[i];
        d.v.Wx.set(w.Wx);
        d.v.bh.set(w.bh);
      }
      step4s.set(w.Wh, k);
    }
    return k;
  }

  /** next (4, H) from prev (4, H), chains one after another. */
  run(prev: Float64Array, x0: number, x1: number, x2: number, x3: number, next: Float64Array): void {
    const { d, H } = this;
    d.v.prev.set(prev.subarray(0, 4 * H));
    d.x.step4v(d.p.next, d.p.prev, d.p.v, d.p.out, d.p.M, H, d.p.Wx, d.p.bh, x0, x1, x2, x3); // step4 with tanh two lanes at a time
    next.set(d.v.next);
  }
}

function step4Arena(H: number) {
  return denseArena({
    M: ['f64', H * H], prev: ['f64', 4 * H], next: ['f64', 4 * H], v: ['f64', 4 * H], out: ['f64', 4 * H],
    Wx: ['f32', H * 256], bh: ['f32', H],
  });
}
