// The forward pass with hook points (TransformerLens' idea, written as a flat-buffer
// kernel): the Elman RNN of lib/rnn/forward.ts, with named points in every step where an
// intervention reads or replaces values for the units and steps it chooses.
//
// One step t, reading byte x_t from state S[t-1] (S[-1] = h0, default 0), in order:
//
//   point      size  value (before any hook)                      precision
//   'input'    H     u_t = Wx[:, x_t]                               float32 weights
//   'carrier'  H     c_t = Wh·S[t-1] + bh                           float64 sum
//   'z'        H     z_t = u_t + c_t                                rounded to float32
//   'S'        H     S[t] = tanh(z_t)                               rounded to float32; fed forward
//   'readout'  H     the state the readout reads, = S[t]            float64; NOT fed forward
//   'logits'   V     Wy·readout + by                                float64
//   'logp'     V     log softmax(logits)                            float64
//
// Each point's hooks run after its value is computed and before the next point reads it;
// a hook may read the value, overwrite any of its entries, and read every earlier point
// of the same step through `step` (e.g. a 'readout' hook sees step.carrier and step.S).
// Values written at 'z' and 'S' are rounded to float32 (docs/definitions.md §0: the forward pass is
// float32). 'S' feeds the next step; 'readout' only this step's prediction, so a
// one-position substitution (the carrier-only state of Table 2) goes there.
//
// Exactness. z_t is summed as fround((Wx[i][x_t] + Σ_j Wh[i][j]·S[t-1][j]) + bh[i]), the
// order of forwardStates, whenever c_t[i] is the forward's own (a hook that only reads
// changes nothing, bit for bit); where a hook changed c_t[i], z_t[i] = fround(u_t[i] + c_t[i]).
// Zeroing u_t gives fround(Wh·S + bh), the ablated step of §5.1. The readout is
// readoutLogits + logSoftmax of forward.ts. With no hook active at a step, that step runs
// the plain loop of forwardStates (same speed, same bits; bench/hooks.bench.ts).
//
// API
//   runWithHooks(w, xs, { hooks, h0, t0, readout, cache })
//     → { z, S (T, H) float32; logp (T, V) float64 when readout: true, else null;
//         cache: the requested points, (T, H) or (T, V) float64, values after their hooks }
//   A Hook is { point, steps?, fn(value, step) }: `steps` is a list of positions or a
//   predicate (default: every step); positions are t0 + index into xs (t0 default 0), so a
//   run from the middle of the text can keep the text's own numbering.
//   ablate(point, { steps, units, value })     set chosen units to a constant (default 0)
//   patch(point, source, { steps, units })     copy chosen units from another run's (T, H)
//                                              array, indexed by position (activation patching)
// The readout (logits, logp) runs only when asked (readout: true), or when a hook or the
// cache needs it at that step.

import { V, type Weights } from './weights.ts';
import { logSoftmax, plainStep, readoutLogits } from './forward.ts';

export type HookPoint = 'input' | 'carrier' | 'z' | 'S' | 'readout' | 'logits' | 'logp';

export const HOOK_POINTS: readonly HookPoint[] = ['input', 'carrier', 'z', 'S', 'readout', 'logits', 'logp'];

/** The current step's points, as hooks see them (buffers reused from step to step). */
export interface Step {
  /** position of this step: t0 + index into xs */
  t: number;
  /** the byte x_t read at this step */
  x: number;
  /** (H) each */
  input: Float64Array;
  carrier: Float64Array;
  z: Float64Array;
  S: Float64Array;
  readout: Float64Array;
  /** (V) each */
  logits: Float64Array;
  logp: Float64Array;
}

export interface Hook {
  point: HookPoint;
  /** positions at which the hook runs: a list, or a predicate; default every step */
  steps?: readonly number[] | ((t: number) => boolean);
  /** reads and/or overwrites `value` (the point's buffer for this step) in place */
  fn: (value: Float64Array, step: Step) => void;
}

export interface RunOptions {
  hooks?: readonly Hook[];
  /** S[-1], length H (default zeros) */
  h0?: ArrayLike<number>;
  /** position of xs[0] in the text, for step numbering (default 0) */
  t0?: number;
  /** compute logits and log p at every step and return logp (T, V) */
  readout?: boolean;
  /** points to record at every step (after their hooks) */
  cache?: readonly HookPoint[];
}

export interface HookedRun {
  /** (T, H) pre-activations and states, float32 */
  z: Float32Array;
  S: Float32Array;
  /** (T, V) log p(next byte) at each step when readout: true */
  logp: Float64Array | null;
  /** requested points, (T, H) or (T, V) float64 */
  cache: Partial<Record<HookPoint, Float64Array>>;
}

const READOUT_SIDE = new Set<HookPoint>(['readout', 'logits', 'logp']);
const WIDE = new Set<HookPoint>(['logits', 'logp']);

/** Hooks of one point, with their step filters compiled to a mask over this run's steps. */
interface Compiled {
  fns: ((value: Float64Array, step: Step) => void)[];
  /** per hook: null (every step), a mask over steps, or a predicate on positions */
  when: (Uint8Array | ((t: number) => boolean) | null)[];
}

function compile(hooks: readonly Hook[], T: number, t0: number): Map<HookPoint, Compiled> {
  const m = new Map<HookPoint, Compiled>();
  for (const h of hooks) {
    if (!HOOK_POINTS.includes(h.point)) throw new Error(`runWithHooks: unknown hook point "${h.point}" (valid: ${HOOK_POINTS.join(', ')})`);
    let c = m.get(h.point);
    if (!c) m.set(h.point, (c = { fns: [], when: [] }));
    c.fns.push(h.fn);
    if (h.steps === undefined) c.when.push(null);
    else if (typeof h.steps === 'function') c.when.push(h.steps);
    else {
      const mask = new Uint8Array(T);
      for (const t of h.steps) if (t - t0 >= 0 && t - t0 < T) mask[t - t0] = 1;
      c.when.push(mask);
    }
  }
  return m;
}

function active(c: Compiled | undefined, i: number, t: number): boolean {
  if (!c) return false;
  for (const w of c.when) {
    if (w === null) return true;
    if (typeof w === 'function' ? w(t) : w[i]) return true;
  }
  return false;
}

/** Run the point's hooks that are active at step i (position t); true if any ran. */
function fire(c: Compiled | undefined, i: number, step: Step, value: Float64Array): boolean {
  if (!c) return false;
  let ran = false;
  for (let k = 0; k < c.fns.length; k++) {
    const w = c.when[k];
    if (w === null || (typeof w === 'function' ? w(step.t) : w[i])) {
      c.fns[k](value, step);
      ran = true;
    }
  }
  return ran;
}

/** The forward pass over xs with hooks; see the top of this file. */
export function runWithHooks(w: Weights, xs: Uint8Array, opts: RunOptions = {}): HookedRun {
  const { H, Wx, Wh, bh } = w;
  const T = xs.length;
  const t0 = opts.t0 ?? 0;
  const hooks = compile(opts.hooks ?? [], T, t0);
  const cachePoints = opts.cache ?? [];
  for (const p of cachePoints) if (!HOOK_POINTS.includes(p)) throw new Error(`runWithHooks: unknown cache point "${p}" (valid: ${HOOK_POINTS.join(', ')})`);
  if (opts.h0 && opts.h0.length !== H) throw new Error(`runWithHooks: h0 has ${opts.h0.length} values, expected H = ${H}`);

  const z = new Float32Array(T * H);
  const S = new Float32Array(T * H);
  const logpOut = opts.readout ? new Float64Array(T * V) : null;
  const cache: Partial<Record<HookPoint, Float64Array>> = {};
  for (const p of cachePoints) cache[p] = new Float64Array(T * (WIDE.has(p) ? V : H));
  const cacheAll = cachePoints.length > 0;
  const readoutCached = cachePoints.some((p) => READOUT_SIDE.has(p));

  const prev = new Float64Array(H);
  if (opts.h0) for (let j = 0; j < H; j++) prev[j] = opts.h0[j];
  const acc = new Float64Array(H);
  const Wh64 = Float64Array.from(Wh);
  const step: Step = {
    t: t0,
    x: 0,
    input: new Float64Array(H),
    carrier: new Float64Array(H),
    z: new Float64Array(H),
    S: new Float64Array(H),
    readout: new Float64Array(H),
    logits: new Float64Array(V),
    logp: new Float64Array(V),
  };
  const hIn = hooks.get('input'), hC = hooks.get('carrier'), hZ = hooks.get('z'), hS = hooks.get('S');
  const hR = hooks.get('readout'), hL = hooks.get('logits'), hP = hooks.get('logp');
  const record = (p: HookPoint, i: number, v: Float64Array) => {
    const a = cache[p];
    if (a) a.set(v, i * v.length);
  };

  for (let i = 0; i < T; i++) {
    const x = xs[i];
    const t = t0 + i;
    step.t = t;
    step.x = x;
    const anyHook = hooks.size > 0 && (active(hIn, i, t) || active(hC, i, t) || active(hZ, i, t) || active(hS, i, t) || active(hR, i, t) || active(hL, i, t) || active(hP, i, t));
    const off = i * H;
    if (!anyHook && !cacheAll) {
      // the plain step, forwardStates' own (bitwise equal to the hooked step's arithmetic)
      plainStep(w, Wh64, x, prev, z, S, off);
      for (let j = 0; j < H; j++) prev[j] = S[off + j];
    } else {
      const { input: u, carrier: c, z: zb, S: sb } = step;
      for (let r = 0; r < H; r++) {
        let a = 0;
        const row = r * H;
        for (let j = 0; j < H; j++) a += Wh[row + j] * prev[j];
        acc[r] = a;
        u[r] = Wx[r * V + x];
      }
      fire(hIn, i, step, u);
      record('input', i, u);
      for (let r = 0; r < H; r++) c[r] = acc[r] + bh[r];
      fire(hC, i, step, c);
      record('carrier', i, c);
      for (let r = 0; r < H; r++) zb[r] = c[r] === acc[r] + bh[r] ? Math.fround(u[r] + acc[r] + bh[r]) : Math.fround(u[r] + c[r]);
      if (fire(hZ, i, step, zb)) for (let r = 0; r < H; r++) zb[r] = Math.fround(zb[r]);
      record('z', i, zb);
      for (let r = 0; r < H; r++) sb[r] = Math.fround(Math.tanh(zb[r]));
      if (fire(hS, i, step, sb)) for (let r = 0; r < H; r++) sb[r] = Math.fround(sb[r]);
      record('S', i, sb);
      for (let r = 0; r < H; r++) {
        z[off + r] = zb[r];
        S[off + r] = sb[r];
        prev[r] = sb[r];
      }
    }
    if (logpOut || readoutCached || active(hR, i, t) || active(hL, i, t) || active(hP, i, t)) {
      const { readout: h, logits, logp } = step;
      for (let j = 0; j < H; j++) h[j] = S[off + j];
      fire(hR, i, step, h);
      record('readout', i, h);
      readoutLogits(w, h, 0, logits);
      fire(hL, i, step, logits);
      record('logits', i, logits);
      logSoftmax(logits, 0, logp, 0);
      fire(hP, i, step, logp);
      record('logp', i, logp);
      if (logpOut) logpOut.set(logp, i * V);
    }
  }
  return { z, S, logp: logpOut, cache };
}

// ---------------------------------------------------------------- ready-made hooks

export interface Selection {
  /** positions (default every step) */
  steps?: readonly number[] | ((t: number) => boolean);
  /** unit (or output byte) indices (default all) */
  units?: readonly number[];
}

/** Set the chosen units of a point to `value` (default 0) at the chosen steps. */
export function ablate(point: HookPoint, sel: Selection & { value?: number } = {}): Hook {
  const value = sel.value ?? 0;
  const units = sel.units;
  return {
    point,
    steps: sel.steps,
    fn: units ? (v) => { for (const j of units) v[j] = value; } : (v) => v.fill(value),
  };
}

/**
 * Replace the chosen units of a point by another run's values at the same position:
 * source is (rows, n) row-major with row t = position t (n = H, or V for logits/logp).
 */
export function patch(point: HookPoint, source: ArrayLike<number>, sel: Selection = {}): Hook {
  const units = sel.units;
  return {
    point,
    steps: sel.steps,
    fn: (v, step) => {
      const off = step.t * v.length;
      if (off + v.length > source.length) throw new Error(`patch(${point}): source has no row for position ${step.t}`);
      if (units) for (const j of units) v[j] = source[off + j];
      else for (let j = 0; j < v.length; j++) v[j] = source[off + j];
    },
  };
}
