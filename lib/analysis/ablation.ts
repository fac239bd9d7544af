// Paper §5.1 "Three failed approaches", the second: ablation. Implements docs/definitions.md §5 (§5.1
// baselines), for output positions T = firstT..lastT and state offsets d = 0..D-1.
//
// Recompute step s = T-d without its Wx term (z'_s = Wh·S[s-1] + bh), run the float32
// forward on to T and read out x_{T+1}:
//   Δbits(T, d) = bits_ablated(T) - bits(T)
// `ablation` is the definition, written on the hook forward (lib/rnn/hooks.ts): for each
// ablated step s, one run from the trace's S[s-1] over x_s..x_{min(s+D-1, lastT)} with the
// 'input' point zeroed at s, reading log p(x_{T+1}) at every T it passes (d = T - s).
// `ablationFast` is the same computation specialised: four such runs in lock step,
// register-blocked over Wh and Wy rows (step4, readout4). Both replay the forward pass's
// float32 arithmetic step for step (z = fround(Wh·S + bh) at s, forwardStates' sum order
// after), so they agree bit for bit (test/analysis/ablation.test.ts) and an ablation that
// changes nothing gives Δ = 0 exactly.
//
// Layout (row-major): Δbits is (nT, D): M[(T - firstT)*D + d]; S is the trace's (N, H)
// float32 state, lpNext its log-probability of the next byte at each position.

import { V, type Weights } from '../rnn/weights.ts';
import { bitsOf, readoutLogits4, readoutLogp4 } from '../rnn/forward.ts';
import { ablate, runWithHooks } from '../rnn/hooks.ts';
import { Mv4, Step4, denseArena } from '../rnn/wasm-dense.ts';

type States = Float32Array | Float64Array;

/** Δbits(T, d), (nT, D), by the definition: one hook-forward run per ablated step. */
export function ablation(
  w: Weights,
  xs: Uint8Array,
  S: States,
  lpNext: Float64Array,
  firstT: number,
  lastT: number,
  D: number,
  floor: number,
): Float64Array {
  const { H } = w;
  const nT = lastT - firstT + 1;
  const out = new Float64Array(nT * D);
  for (let s = Math.max(0, firstT - D + 1); s <= lastT; s++) {
    const end = Math.min(s + D - 1, lastT); // last T this run reaches
    const h0 = s > 0 ? S.subarray((s - 1) * H, s * H) : undefined;
    runWithHooks(w, xs.subarray(s, end + 1), {
      t0: s,
      h0,
      hooks: [
        ablate('input', { steps: [s] }),
        {
          point: 'logp',
          steps: (T) => T >= firstT,
          fn: (lp, step) => {
            const T = step.t;
            const o = xs[T + 1];
            out[(T - firstT) * D + (T - s)] = bitsOf(lp[o], floor) - bitsOf(lpNext[T], floor);
          },
        },
      ],
    });
  }
  return out;
}

// ---------------------------------------------------------------- the specialised kernel

/**
 * Four float32 forward steps side by side, the arithmetic of forwardStates for each:
 * chain c goes from prev (4, H) to next (4, H) with byte xc (xc < 0: no input term, the
 * ablated step). Register-blocked over two rows of Wh × four chains (a last odd row alone),
 * or the WebAssembly kernels when given: the whole step (ws, tanh included), else mv
 * (Wh·prev, the same sums in the same order) with `acc` (4, H) scratch for its sums.
 */
function step4(w: Weights, prev: Float64Array, x0: number, x1: number, x2: number, x3: number, next: Float64Array, mv: Mv4 | null, acc: Float64Array, ws: Step4 | null = null): void {
  const { H, Wh } = w;
  if (ws) return ws.run(prev, x0, x1, x2, x3, next);
  if (mv) {
    mv.run(prev, 0, null, acc, 0, H);
    for (let i = 0; i < H; i++) squash4(w, i, acc[i], acc[H + i], acc[2 * H + i], acc[3 * H + i], x0, x1, x2, x3, next);
    return;
  }
  const p1 = H, p2 = 2 * H, p3 = 3 * H;
  let i = 0;
  for (; i + 1 < H; i += 2) {
    const row = i * H;
    const row1 = row + H;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    let e0 = 0, e1 = 0, e2 = 0, e3 = 0;
    for (let j = 0; j < H; j++) {
      const wt = Wh[row + j];
      const wu = Wh[row1 + j];
      const h0 = prev[j], h1 = prev[p1 + j], h2 = prev[p2 + j], h3 = prev[p3 + j];
      a0 += wt * h0;
      a1 += wt * h1;
      a2 += wt * h2;
      a3 += wt * h3;
      e0 += wu * h0;
      e1 += wu * h1;
      e2 += wu * h2;
      e3 += wu * h3;
    }
    squash4(w, i, a0, a1, a2, a3, x0, x1, x2, x3, next);
    squash4(w, i + 1, e0, e1, e2, e3, x0, x1, x2, x3, next);
  }
  if (i < H) {
    const row = i * H;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (let j = 0; j < H; j++) {
      const wt = Wh[row + j];
      a0 += wt * prev[j];
      a1 += wt * prev[p1 + j];
      a2 += wt * prev[p2 + j];
      a3 += wt * prev[p3 + j];
    }
    squash4(w, i, a0, a1, a2, a3, x0, x1, x2, x3, next);
  }
}

/** next[c*H + i] = fround(tanh(fround(Wx[i][xc] + ac + bh[i]))) for the four chains c (xc < 0: no Wx term). */
function squash4(w: Weights, i: number, a0: number, a1: number, a2: number, a3: number, x0: number, x1: number, x2: number, x3: number, next: Float64Array): void {
  const { H, Wx, bh } = w;
  const b = bh[i];
  const r = i * V;
  next[i] = Math.fround(Math.tanh(x0 >= 0 ? Math.fround(Wx[r + x0] + a0 + b) : Math.fround(a0 + b)));
  next[H + i] = Math.fround(Math.tanh(x1 >= 0 ? Math.fround(Wx[r + x1] + a1 + b) : Math.fround(a1 + b)));
  next[2 * H + i] = Math.fround(Math.tanh(x2 >= 0 ? Math.fround(Wx[r + x2] + a2 + b) : Math.fround(a2 + b)));
  next[3 * H + i] = Math.fround(Math.tanh(x3 >= 0 ? Math.fround(Wx[r + x3] + a3 + b) : Math.fround(a3 + b)));
}

/** The readout's weights and scratch in the dense module's memory (readoutPick4), or null without it. */
function pickArena(w: Weights, Wy64: Float64Array) {
  const d = denseArena({ Wy: ['f64', V * w.H], by: ['f64', V], h: ['f64', 4 * w.H], v: ['f64', 4 * w.H], L: ['f64', 4 * V], out: ['f64', 4] });
  if (d) {
    d.v.Wy.set(Wy64);
    for (let q = 0; q < V; q++) d.v.by[q] = w.by[q];
  }
  return d;
}
type Pick = NonNullable<ReturnType<typeof pickArena>>;

/**
 * Four readouts side by side: out[i] = log softmax(Wy·h_i + by)[o_i] for h (4, H), in the
 * arithmetic of readoutLogp (logits summed over j in order, then max, Σ exp, log); the
 * logits come from readoutLogits4, the trace's own blocked readout.
 * `logits` is (4, V) scratch.
 */
function readout4(w: Weights, Wy64: Float64Array, h: Float64Array, o: Int32Array, logits: Float64Array, out: Float64Array, pick: Pick | null = null): void {
  if (pick) {
    // readoutLogp4's kernels and the four targets read off, all in WebAssembly (readoutPick4)
    pick.v.h.set(h.subarray(0, 4 * w.H));
    pick.x.readoutPick4(pick.p.out, pick.p.h, pick.p.v, pick.p.L, pick.p.Wy, pick.p.by, V, w.H, o[0], o[1], o[2], o[3]);
    for (let i = 0; i < 4; i++) out[i] = pick.v.out[i];
    return;
  }
  if (Mv4.for(Wy64, V, w.H)) {
    // the same arithmetic as below, whole log softmax in WebAssembly (readoutLogp4)
    readoutLogp4(w, Wy64, h, logits, 0);
    for (let i = 0; i < 4; i++) out[i] = logits[i * V + o[i]];
    return;
  }
  readoutLogits4(w, Wy64, h, logits, 0); // the trace's logits, bit for bit (lib/rnn/forward.ts)
  for (let i = 0; i < 4; i++) {
    const off = i * V;
    let max = -Infinity;
    for (let q = 0; q < V; q++) if (logits[off + q] > max) max = logits[off + q];
    let sum = 0;
    for (let q = 0; q < V; q++) sum += Math.exp(logits[off + q] - max);
    out[i] = logits[off + o[i]] - (max + Math.log(sum));
  }
}

/**
 * Δbits(T, d), (nT, D): one forward run per ablated step s, four runs (s..s+3) in lock
 * step; run i reads its bits at T = s + i + r for r = 0..D-1 (capped at lastT), d = T - (s+i).
 * lpNext is the trace's log p(x_{T+1}) at each T.
 */
export function ablationFast(
  w: Weights,
  xs: Uint8Array,
  S: States,
  lpNext: Float64Array,
  firstT: number,
  lastT: number,
  D: number,
  floor: number,
  progress?: (done: number, total: number) => void,
): Float64Array {
  const { H } = w;
  const Wy64 = Float64Array.from(w.Wy); // exact copy, for readoutLogits4
  const mv = Mv4.for(Float64Array.from(w.Wh), H, H); // Wh·S in WebAssembly, or null: step4's loops
  const ws = Step4.for(w); // the whole step in WebAssembly, or null
  const pick = pickArena(w, Wy64); // the whole readout in WebAssembly, or null
  const acc = new Float64Array(4 * H);
  const N = xs.length;
  const nT = lastT - firstT + 1;
  const out = new Float64Array(nT * D);
  let a = new Float64Array(4 * H);
  let b = new Float64Array(4 * H);
  const logits = new Float64Array(4 * V);
  const lp = new Float64Array(4);
  const tgt = new Int32Array(4);
  const sFirst = Math.max(0, firstT - D + 1);
  for (let s = sFirst; s <= lastT; s += 4) {
    // a = S[s+i-1] for chain i (S[-1] = 0), then each chain's ablated step
    for (let i = 0; i < 4; i++) {
      const t = s + i - 1;
      for (let j = 0; j < H; j++) a[i * H + j] = t >= 0 && t < N ? S[t * H + j] : 0;
    }
    step4(w, a, -1, -1, -1, -1, b, mv, acc, ws);
    const steps = Math.min(D, lastT - s + 1); // chain 0 runs longest
    for (let r = 0; r < steps; r++) {
      if (r > 0) {
        // byte x_T of each chain; chains past the end step on byte 0 and are not read
        const x = (i: number) => (s + i + r < N ? xs[s + i + r] : 0);
        step4(w, b, x(0), x(1), x(2), x(3), a, mv, acc, ws);
        const tmp = a;
        a = b;
        b = tmp;
      }
      if (s + 3 + r < firstT) continue;
      for (let i = 0; i < 4; i++) tgt[i] = s + i + r + 1 < N ? xs[s + i + r + 1] : 0;
      readout4(w, Wy64, b, tgt, logits, lp, pick);
      for (let i = 0; i < 4; i++) {
        const T = s + i + r;
        if (T < firstT || T > lastT) continue;
        const actual = bitsOf(lpNext[T], floor);
        out[(T - firstT) * D + r] = bitsOf(lp[i], floor) - actual;
      }
    }
    if (progress && ((s - sFirst) & 63) === 0) progress(s - sFirst, lastT - sFirst + 1);
  }
  return out;
}
