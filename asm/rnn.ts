// WebAssembly SIMD kernels for training the Elman RNN (paper §2, eqs. 3-4; SPEC §2).
// AssemblyScript, built by `npm run build:wasm` into build/rnn.wasm (f32x4 multiply then
// add) and build/rnn-relaxed.wasm (the same source with relaxed-SIMD fused multiply-adds),
// driven by lib/rnn/wasm-kernel.ts. Same mathematics as the naive twin lib/rnn/bptt.ts
// (read it first) and the blocked TypeScript kernel lib/rnn/bptt-blocked.ts, in f32x4:
//
//   forward, per step:   z = Wx[:, x] + Wh·S[t-1] + bh,  S[t] = tanh(z)
//   over the chunk:      Y  (K, V) = Sc · Wyᵀ + by         softmax, loss, dY = p - onehot
//                        dS (K, H) = dY · Wy
//                        dWy = dYᵀ · Sc    dby = Σ dY
//   backward, per step:  dz = (1 - S²) ⊙ (dS + dhnext),  dhnext = Whᵀ·dz
//   over the chunk:      dWh = dZᵀ · Sp    dbh = Σ dZ    dWx[:, x_t] += dz_t
//
// Threads. The module imports one shared memory; the main thread (role 0) and at most one
// worker (role 1, lib/rnn/wasm-worker.mjs) run the same commands in it. A command is a list
// of phases, each a queue of tasks taken with an atomic counter by whichever thread is free;
// waits are busy loops on atomic counters (a round trip costs well under a microsecond that
// way, ~50 µs through a sleep; PERFORMANCE.md); only an idle worker sleeps, until the next
// command's notify. Role 0 alone runs the two recurrences:
//   role 0: forward steps (publishing each finished row) | readout tasks | backward steps | dWx, dbh, loss | dWy, dWh tasks
//   role 1: zero dWx | readout tasks as rows come in    | dWy tasks      | dWh tasks
// Every output element is computed by one task whose arithmetic does not depend on which
// thread runs it, and every sum over tasks (loss, gradient norm) is taken in task order
// after the phase, so the results are bit-identical with one thread or two (tested).
//
// All pointers are byte addresses in the shared memory, laid out by the driver; every array
// is f32, row-major, 16-byte aligned unless said otherwise:
//   P, G, M, Q (n = paramCount(H)): weights, gradient, Adam moments, authors' layout
//     Wx (H, V) | Wh (H, H) | bh (H) | Wy (V, H) | by (V)
//   X (N bytes): the data
//   HS (K+1, H): HS row 0 = S[start-1] (the carried state), row k+1 = S[start+k]
//   Y (K, V): logits, then dY      D (K, H): dS, then dZ      DH (H): dhnext
//   NLL (K f64): -ln p per row     SS (f64 per task): Σ g² of each gradient block
//   TOUCH (V bytes): which Wx columns the chunk's inputs touched
// K = the chunk's L rounded up to a multiple of 4; rows past L hold zeros. H % 16 = 0.
// Precision: f32 everywhere, with exp and tanh by f32x4 polynomials (about 1 ulp), except
// the loss, the softmax sum and the gradient norm (f64).

const V: i32 = 256;

// ---------------------------------------------------------------------------------------
// the control block (cb): command arguments, buffer addresses and the phase counters, each
// counter on its own 64-byte line

const SEQ = 0; // i32: command number, bumped by role 0 to post a command
const KIND = 4; // i32: CMD_*
const START = 8; // i32: first prediction of the chunk
const LEN = 12; // i32: predictions in the chunk (L)
const HID = 16; // i32: H
const NPAR = 20; // i32: paramCount(H)
const P_ = 32; // i32 addresses of the buffers
const G_ = 36;
const M_ = 40;
const Q_ = 44;
const X_ = 48;
const HS_ = 52;
const Y_ = 56;
const D_ = 60;
const DH_ = 64;
const NLL_ = 68;
const SS_ = 72;
const TOUCH_ = 76;
const A0 = 96; // f64 arguments: sgd factor, or Adam scale, lr, β1, β2, 1-β1, 1-β2, ε, c1, c2
const MAXLOSS = 176; // f64: -ln floor
const LOSS = 184; // f64 out: Σ -ln max(p, floor) of the chunk
const SUMSQ = 192; // f64 out: Σ g² of the chunk gradient
const JOIN = 256; // i32: SEQ while the command is open to the worker, |JOINED once it joined, CLOSED after
const DONE = 320; // i32: the last command the worker finished
const ROWS = 384; // i32: forward rows finished
const RNEXT = 448; // task counters: next task to take, tasks done
const RDONE = 512;
const WXZ = 576; // i32: dWx zeroing 0 = to do, 1 = taken, 2 = done
const YNEXT = 640;
const YDONE = 704;
const BWD = 768; // i32: 1 once the backward recurrence is done
const HNEXT = 832;
const HDONE = 896;
const UNEXT = 960;
const UDONE = 1024;
const READY = 1088; // i32: 1 once the worker runs
const JOINS = 1092; // i32: commands the worker joined (for the tests)
const LAST = 1096; // i32: the last command the worker looked at (its own)
const WTASKS = 1100; // i32: tasks the worker ran (for the tests)
export const CB_BYTES: i32 = 1152;

const CMD_CHUNK = 1;
const CMD_SGD = 2;
const CMD_ADAM = 3;
const CMD_EXIT = 9;
const SEQ_MASK = 0x3fffffff;
const JOINED = 0x40000000;
const CLOSED = -1;

const DWY_ROWS = 16; // rows of dWy per task
const DWH_ROWS = 16; // rows of dWh per task
const UPDATE_BLOCK = 4096; // parameters per update task
const IDLE_SPIN = 200000; // the idle worker's busy iterations (a fraction of a millisecond) before it sleeps until notified

/** This instance runs on the worker thread (each thread has its own instance). */
let isWorker = false;

// @ts-ignore: decorator
@inline function cbi(cb: usize, off: i32): i32 {
  return load<i32>(cb + <usize>off);
}

// @ts-ignore: decorator
@inline function cbp(cb: usize, off: i32): usize {
  return <usize>load<i32>(cb + <usize>off);
}

// Waits inside a command spin: a sleeping wait (memory.atomic.wait32) with a timeout
// overslept by hundreds of milliseconds here (Node 20), and a wake-up costs ~50 µs anyway.

/** Spin until the counter at cb+off is at least `target`. */
function waitAtLeast(cb: usize, off: i32, target: i32): void {
  const p = cb + <usize>off;
  while (atomic.load<i32>(p) < target) {}
}

/** Spin until the i32 at cb+off equals `target`. */
function waitEqual(cb: usize, off: i32, target: i32): void {
  const p = cb + <usize>off;
  while (atomic.load<i32>(p) != target) {}
}

// ---------------------------------------------------------------------------------------
// helpers

/** (Σ a0, Σ a1, Σ a2, Σ a3): the lane sums of four accumulators, as one vector. */
// @ts-ignore: decorator
@inline function hsum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const s01 = f32x4.add(f32x4.shuffle(a0, a1, 0, 4, 1, 5), f32x4.shuffle(a0, a1, 2, 6, 3, 7));
  const s23 = f32x4.add(f32x4.shuffle(a2, a3, 0, 4, 1, 5), f32x4.shuffle(a2, a3, 2, 6, 3, 7));
  return f32x4.add(f32x4.shuffle(s01, s23, 0, 1, 4, 5), f32x4.shuffle(s01, s23, 2, 3, 6, 7));
}

/** acc + a·b: fused (one rounding) in the relaxed-SIMD build where the CPU has FMA, else two roundings. */
// @ts-ignore: decorator
@inline function fma(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  else return f32x4.add(acc, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline function at(base: usize, index: i32): usize {
  return base + (<usize>index << 2);
}

/** Σ x² over n f32 values (n % 4 = 0), in f64. */
function sumSqF64(p: usize, n: i32): f64 {
  let a = f64x2.splat(0);
  let b = a;
  for (let i = 0; i < n; i += 4) {
    const g = v128.load(at(p, i));
    const lo = f64x2.promote_low_f32x4(g);
    const hi = f64x2.promote_low_f32x4(f32x4.shuffle(g, g, 2, 3, 2, 3));
    a = f64x2.add(a, f64x2.mul(lo, lo));
    b = f64x2.add(b, f64x2.mul(hi, hi));
  }
  const s = f64x2.add(a, b);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/** Σ g² over n values (n % 4 = 0), accumulated in f64 (for the tests). */
export function sumSq(G: usize, n: i32): f64 {
  return sumSqF64(G, n);
}

// ---------------------------------------------------------------------------------------
// exp and tanh, four lanes at a time (Cephes expf / tanhf, single precision, about 1 ulp;
// tested against Math.exp / Math.tanh in test/rnn/wasm-kernel.test.ts)

/** e^x for x in [-87.3, 88] (clamped there): 2^n · (1 + r + r²·P(r)), x = n ln 2 + r. */
// @ts-ignore: decorator
@inline function exp4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.33654)), f32x4.splat(88));
  const n = f32x4.floor(f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(0.5)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375))); // ln 2 in two parts
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  const r2 = f32x4.mul(r, r);
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), f32x4.splat(1));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2n);
}

/** tanh x: x + x·x²·P(x²) for |x| < 0.625, else ±(1 - 2/(e^{2|x|} + 1)). */
// @ts-ignore: decorator
@inline function tanh4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const one = f32x4.splat(1);
  const e = exp4(f32x4.min(f32x4.add(ax, ax), f32x4.splat(88)));
  const big = v128.or(
    f32x4.sub(one, f32x4.div(f32x4.splat(2), f32x4.add(e, one))),
    v128.and(x, i32x4.splat(0x80000000)), // the sign of x (the magnitude part is ≥ 0)
  );
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  return v128.bitselect(small, big, f32x4.lt(ax, f32x4.splat(0.625)));
}

/** out[i] = exp(in[i]) (which = 0) or tanh(in[i]) (which = 1), n % 4 = 0: for the twin tests. */
export function mathTest(which: i32, IN: usize, OUT: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const x = v128.load(at(IN, i));
    v128.store(at(OUT, i), which == 0 ? exp4(x) : tanh4(x));
  }
}

// ---------------------------------------------------------------------------------------
// forward recurrence: one step, eight rows of Wh at a time

function stepForward(P: usize, H: i32, x: i32, hprev: usize, hcur: usize): void {
  const Wh = at(P, H * V);
  const bh = at(Wh, H * H);
  for (let i = 0; i < H; i += 8) {
    const r0 = at(Wh, i * H);
    const r1 = at(r0, H);
    const r2 = at(r1, H);
    const r3 = at(r2, H);
    const r4 = at(r3, H);
    const r5 = at(r4, H);
    const r6 = at(r5, H);
    const r7 = at(r6, H);
    let a0 = f32x4.splat(0);
    let a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (let j = 0; j < H; j += 4) {
      const s = v128.load(at(hprev, j));
      a0 = fma(a0, v128.load(at(r0, j)), s);
      a1 = fma(a1, v128.load(at(r1, j)), s);
      a2 = fma(a2, v128.load(at(r2, j)), s);
      a3 = fma(a3, v128.load(at(r3, j)), s);
      a4 = fma(a4, v128.load(at(r4, j)), s);
      a5 = fma(a5, v128.load(at(r5, j)), s);
      a6 = fma(a6, v128.load(at(r6, j)), s);
      a7 = fma(a7, v128.load(at(r7, j)), s);
    }
    v128.store(at(hcur, i), tanh4(f32x4.add(f32x4.add(wxColumn(P, i, x), hsum4(a0, a1, a2, a3)), v128.load(at(bh, i)))));
    v128.store(at(hcur, i + 4), tanh4(f32x4.add(f32x4.add(wxColumn(P, i + 4, x), hsum4(a4, a5, a6, a7)), v128.load(at(bh, i + 4)))));
  }
}

/** (Wx[i][x], Wx[i+1][x], Wx[i+2][x], Wx[i+3][x]): four rows of the input column x. */
// @ts-ignore: decorator
@inline function wxColumn(P: usize, i: i32, x: i32): v128 {
  let wx = f32x4.splat(load<f32>(at(P, i * V + x)));
  wx = f32x4.replace_lane(wx, 1, load<f32>(at(P, (i + 1) * V + x)));
  wx = f32x4.replace_lane(wx, 2, load<f32>(at(P, (i + 2) * V + x)));
  return f32x4.replace_lane(wx, 3, load<f32>(at(P, (i + 3) * V + x)));
}

// ---------------------------------------------------------------------------------------
// readout GEMM rows k0..k1-1 (k1 - k0 even): Y[k][o] = by[o] + Σ_j Wy[o][j] · HS[k+1][j],
// blocked 2 rows × 4 outputs

function readout(P: usize, H: i32, HS: usize, Y: usize, k0: i32, k1: i32): void {
  const Wy = at(P, H * V + H * H + H);
  const by = at(Wy, V * H);
  for (let k = k0; k < k1; k += 2) {
    const s0 = at(HS, (k + 1) * H);
    const s1 = at(s0, H);
    for (let o = 0; o < V; o += 4) {
      const w0 = at(Wy, o * H);
      const w1 = at(w0, H);
      const w2 = at(w1, H);
      const w3 = at(w2, H);
      let c00 = f32x4.splat(0);
      let c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
      for (let j = 0; j < H; j += 4) {
        const h0 = v128.load(at(s0, j));
        const h1 = v128.load(at(s1, j));
        const y0 = v128.load(at(w0, j));
        const y1 = v128.load(at(w1, j));
        const y2 = v128.load(at(w2, j));
        const y3 = v128.load(at(w3, j));
        c00 = fma(c00, y0, h0); c01 = fma(c01, y1, h0); c02 = fma(c02, y2, h0); c03 = fma(c03, y3, h0);
        c10 = fma(c10, y0, h1); c11 = fma(c11, y1, h1); c12 = fma(c12, y2, h1); c13 = fma(c13, y3, h1);
      }
      const b = v128.load(at(by, o));
      v128.store(at(Y, k * V + o), f32x4.add(b, hsum4(c00, c01, c02, c03)));
      v128.store(at(Y, (k + 1) * V + o), f32x4.add(b, hsum4(c10, c11, c12, c13)));
    }
  }
}

// ---------------------------------------------------------------------------------------
// softmax of row k: NLL[k] = min(-ln p(target), maxLoss) (f64), then dY = p - onehot(target) in place

function softmaxRow(Y: usize, X: usize, NLL: usize, start: i32, k: i32, maxLoss: f64): void {
  const r = at(Y, k * V);
  let m0 = v128.load(r);
  let m1 = v128.load(r, 16);
  for (let o = 8; o < V; o += 8) {
    m0 = f32x4.max(m0, v128.load(at(r, o)));
    m1 = f32x4.max(m1, v128.load(at(r, o), 16));
  }
  const mv = f32x4.max(m0, m1);
  const max = Mathf.max(
    Mathf.max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)),
    Mathf.max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)),
  );
  const target = <i32>load<u8>(X + <usize>(start + k + 1));
  const logit = load<f32>(at(r, target));
  const vmax = f32x4.splat(max);
  let s0 = f64x2.splat(0);
  let s1 = s0;
  for (let o = 0; o < V; o += 4) {
    const e = exp4(f32x4.sub(v128.load(at(r, o)), vmax));
    v128.store(at(r, o), e);
    s0 = f64x2.add(s0, f64x2.promote_low_f32x4(e));
    s1 = f64x2.add(s1, f64x2.promote_low_f32x4(f32x4.shuffle(e, e, 2, 3, 2, 3)));
  }
  const ss = f64x2.add(s0, s1);
  const sum = f64x2.extract_lane(ss, 0) + f64x2.extract_lane(ss, 1);
  const nll = <f64>max + Math.log(sum) - <f64>logit;
  store<f64>(NLL + (<usize>k << 3), nll < maxLoss ? nll : maxLoss);
  const inv = f32x4.splat(<f32>(1 / sum));
  for (let o = 0; o < V; o += 4) v128.store(at(r, o), f32x4.mul(v128.load(at(r, o)), inv));
  store<f32>(at(r, target), load<f32>(at(r, target)) - 1);
}

// ---------------------------------------------------------------------------------------
// dS = dY · Wy for rows k0..k0+3: D[k][j] = Σ_o dY[k][o] Wy[o][j], blocked 4 rows × 8 columns

function backReadout4(P: usize, H: i32, Y: usize, D: usize, k: i32): void {
  const Wy = at(P, H * V + H * H + H);
  const y0 = at(Y, k * V);
  const y1 = at(y0, V);
  const y2 = at(y1, V);
  const y3 = at(y2, V);
  for (let j = 0; j < H; j += 8) {
    let c00 = f32x4.splat(0);
    let c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (let o = 0; o < V; o++) {
      const w = at(Wy, o * H + j);
      const w0 = v128.load(w);
      const w1 = v128.load(w, 16);
      const d0 = v128.load32_splat(at(y0, o));
      const d1 = v128.load32_splat(at(y1, o));
      const d2 = v128.load32_splat(at(y2, o));
      const d3 = v128.load32_splat(at(y3, o));
      c00 = fma(c00, d0, w0); c01 = fma(c01, d0, w1);
      c10 = fma(c10, d1, w0); c11 = fma(c11, d1, w1);
      c20 = fma(c20, d2, w0); c21 = fma(c21, d2, w1);
      c30 = fma(c30, d3, w0); c31 = fma(c31, d3, w1);
    }
    const d = at(D, k * H + j);
    v128.store(d, c00); v128.store(d, c01, 16);
    v128.store(at(d, H), c10); v128.store(at(d, H), c11, 16);
    v128.store(at(d, 2 * H), c20); v128.store(at(d, 2 * H), c21, 16);
    v128.store(at(d, 3 * H), c30); v128.store(at(d, 3 * H), c31, 16);
  }
}

// ---------------------------------------------------------------------------------------
// C (M, H) = Aᵀ · B: C[m][j] = Σ_k A[k][m] · B[k][j], k = 0..K-1 in order; A is (K, ·)
// with row stride lda, B is (K, H). Blocked 4 rows of C × 8 columns. Used for blocks of dWy
// (A = dY) and dWh (A = dZ), which it overwrites: each is written once per chunk.

function gemmTN(C: usize, A: usize, M: i32, lda: i32, B: usize, H: i32, K: i32): void {
  for (let m = 0; m < M; m += 4) {
    for (let j = 0; j < H; j += 8) {
      let c00 = f32x4.splat(0);
      let c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      for (let k = 0; k < K; k++) {
        const b = at(B, k * H + j);
        const b0 = v128.load(b);
        const b1 = v128.load(b, 16);
        const a = v128.load(at(A, k * lda + m));
        const a0 = f32x4.shuffle(a, a, 0, 0, 0, 0);
        const a1 = f32x4.shuffle(a, a, 1, 1, 1, 1);
        const a2 = f32x4.shuffle(a, a, 2, 2, 2, 2);
        const a3 = f32x4.shuffle(a, a, 3, 3, 3, 3);
        c00 = fma(c00, a0, b0); c01 = fma(c01, a0, b1);
        c10 = fma(c10, a1, b0); c11 = fma(c11, a1, b1);
        c20 = fma(c20, a2, b0); c21 = fma(c21, a2, b1);
        c30 = fma(c30, a3, b0); c31 = fma(c31, a3, b1);
      }
      const c = at(C, m * H + j);
      v128.store(c, c00); v128.store(c, c01, 16);
      v128.store(at(c, H), c10); v128.store(at(c, H), c11, 16);
      v128.store(at(c, 2 * H), c20); v128.store(at(c, 2 * H), c21, 16);
      v128.store(at(c, 3 * H), c30); v128.store(at(c, 3 * H), c31, 16);
    }
  }
}

/** out[m] = Σ_k A[k][m] for m < M, k = 0..K-1 in order (a bias gradient; overwritten); A has row stride lda. */
function colSum(out: usize, A: usize, M: i32, lda: i32, K: i32): void {
  for (let m = 0; m < M; m += 4) {
    let s = f32x4.splat(0);
    for (let k = 0; k < K; k++) s = f32x4.add(s, v128.load(at(A, k * lda + m)));
    v128.store(at(out, m), s);
  }
}

// ---------------------------------------------------------------------------------------
// backward recurrence: dz = (1 - S²) ⊙ (dS + dhnext) into D, dhnext = Whᵀ·dz

function backRecurrence(P: usize, H: i32, HS: usize, D: usize, DH: usize, L: i32): void {
  const Wh = at(P, H * V);
  const one = f32x4.splat(1);
  memory.fill(DH, 0, <usize>H << 2);
  for (let k = L - 1; k >= 0; k--) {
    const s = at(HS, (k + 1) * H);
    const d = at(D, k * H);
    for (let i = 0; i < H; i += 4) {
      const si = v128.load(at(s, i));
      const dh = f32x4.add(v128.load(at(d, i)), v128.load(at(DH, i)));
      v128.store(at(d, i), f32x4.mul(f32x4.sub(one, f32x4.mul(si, si)), dh));
    }
    if (k == 0) break;
    let j = 0;
    for (; j + 32 <= H; j += 32) {
      let a0 = f32x4.splat(0);
      let a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
      for (let i = 0; i < H; i++) {
        const dz = v128.load32_splat(at(d, i));
        const w = at(Wh, i * H + j);
        a0 = fma(a0, v128.load(w), dz);
        a1 = fma(a1, v128.load(w, 16), dz);
        a2 = fma(a2, v128.load(w, 32), dz);
        a3 = fma(a3, v128.load(w, 48), dz);
        a4 = fma(a4, v128.load(w, 64), dz);
        a5 = fma(a5, v128.load(w, 80), dz);
        a6 = fma(a6, v128.load(w, 96), dz);
        a7 = fma(a7, v128.load(w, 112), dz);
      }
      const o = at(DH, j);
      v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
      v128.store(o, a4, 64); v128.store(o, a5, 80); v128.store(o, a6, 96); v128.store(o, a7, 112);
    }
    for (; j < H; j += 16) {
      let a0 = f32x4.splat(0);
      let a1 = a0, a2 = a0, a3 = a0;
      for (let i = 0; i < H; i++) {
        const dz = v128.load32_splat(at(d, i));
        const w = at(Wh, i * H + j);
        a0 = fma(a0, v128.load(w), dz);
        a1 = fma(a1, v128.load(w, 16), dz);
        a2 = fma(a2, v128.load(w, 32), dz);
        a3 = fma(a3, v128.load(w, 48), dz);
      }
      const o = at(DH, j);
      v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
    }
  }
}

// ---------------------------------------------------------------------------------------
// the chunk's task queues

/** Zero the dWx block of G once per chunk (whichever thread claims it; the other waits when it needs it). */
function zeroWx(cb: usize): void {
  const p = cb + <usize>WXZ;
  if (atomic.cmpxchg<i32>(p, 0, 1) == 0) {
    memory.fill(cbp(cb, G_), 0, <usize>(cbi(cb, HID) * V) << 2);
    atomic.store<i32>(p, 2);
  }
}

/** Readout tasks, 4 rows each: logits, softmax and loss, dY, dS = dY·Wy; each waits for its rows of the forward. */
function readoutTasks(cb: usize): void {
  const H = cbi(cb, HID);
  const L = cbi(cb, LEN);
  const start = cbi(cb, START);
  const K = (L + 3) & ~3;
  const n = K >> 2;
  const P = cbp(cb, P_), X = cbp(cb, X_), HS = cbp(cb, HS_), Y = cbp(cb, Y_), D = cbp(cb, D_), NLL = cbp(cb, NLL_);
  const maxLoss = load<f64>(cb + <usize>MAXLOSS);
  for (;;) {
    const t = atomic.add<i32>(cb + <usize>RNEXT, 1);
    if (t >= n) return;
    const k0 = t << 2;
    const k1 = min(k0 + 4, L);
    waitAtLeast(cb, ROWS, k1);
    readout(P, H, HS, Y, k0, k0 + 4);
    for (let k = k0; k < k1; k++) softmaxRow(Y, X, NLL, start, k, maxLoss);
    if (k1 < k0 + 4) memory.fill(at(Y, k1 * V), 0, <usize>((k0 + 4 - k1) * V) << 2); // padding rows: dY = 0
    backReadout4(P, H, Y, D, k0);
    atomic.add<i32>(cb + <usize>RDONE, 1);
    if (isWorker) atomic.add<i32>(cb + <usize>WTASKS, 1);
  }
}

/** dWy and dby tasks, DWY_ROWS outputs each, with their Σ g² in SS[t]. Need every readout task done. */
function dWyTasks(cb: usize): void {
  const H = cbi(cb, HID);
  const K = (cbi(cb, LEN) + 3) & ~3;
  const n = V / DWY_ROWS;
  const G = cbp(cb, G_), HS = cbp(cb, HS_), Y = cbp(cb, Y_), SS = cbp(cb, SS_);
  const gWy = at(G, H * V + H * H + H);
  const gby = at(gWy, V * H);
  for (;;) {
    const t = atomic.add<i32>(cb + <usize>YNEXT, 1);
    if (t >= n) return;
    const o0 = t * DWY_ROWS;
    const c = at(gWy, o0 * H);
    gemmTN(c, at(Y, o0), DWY_ROWS, V, at(HS, H), H, K);
    colSum(at(gby, o0), at(Y, o0), DWY_ROWS, V, K);
    store<f64>(SS + (<usize>t << 3), sumSqF64(c, DWY_ROWS * H) + sumSqF64(at(gby, o0), DWY_ROWS));
    atomic.add<i32>(cb + <usize>YDONE, 1);
    if (isWorker) atomic.add<i32>(cb + <usize>WTASKS, 1);
  }
}

/** dWh tasks, DWH_ROWS rows each, with their Σ g² in SS[V/DWY_ROWS + t]. Need the backward recurrence done. */
function dWhTasks(cb: usize): void {
  const H = cbi(cb, HID);
  const K = (cbi(cb, LEN) + 3) & ~3;
  const n = H / DWH_ROWS;
  const G = cbp(cb, G_), HS = cbp(cb, HS_), D = cbp(cb, D_), SS = cbp(cb, SS_);
  const gWh = at(G, H * V);
  for (;;) {
    const t = atomic.add<i32>(cb + <usize>HNEXT, 1);
    if (t >= n) return;
    const i0 = t * DWH_ROWS;
    const c = at(gWh, i0 * H);
    gemmTN(c, at(D, i0), DWH_ROWS, H, HS, H, K);
    store<f64>(SS + (<usize>(V / DWY_ROWS + t) << 3), sumSqF64(c, DWH_ROWS * H));
    atomic.add<i32>(cb + <usize>HDONE, 1);
    if (isWorker) atomic.add<i32>(cb + <usize>WTASKS, 1);
  }
}

/** Role 0's part of a chunk (see the header); returns the chunk's loss. */
function chunkMain(cb: usize): f64 {
  const H = cbi(cb, HID);
  const L = cbi(cb, LEN);
  const start = cbi(cb, START);
  const K = (L + 3) & ~3;
  const P = cbp(cb, P_), G = cbp(cb, G_), X = cbp(cb, X_), HS = cbp(cb, HS_), D = cbp(cb, D_);
  const NLL = cbp(cb, NLL_), SS = cbp(cb, SS_), TOUCH = cbp(cb, TOUCH_);
  const nY = V / DWY_ROWS;
  const nH = H / DWH_ROWS;
  if (K > L) memory.fill(at(HS, (L + 1) * H), 0, <usize>((K - L) * H) << 2); // padding rows: S = 0
  for (let k = 0; k < L; k++) {
    stepForward(P, H, <i32>load<u8>(X + <usize>(start + k)), at(HS, k * H), at(HS, (k + 1) * H));
    atomic.store<i32>(cb + <usize>ROWS, k + 1);
  }
  readoutTasks(cb);
  waitAtLeast(cb, RDONE, K >> 2);
  backRecurrence(P, H, HS, D, cbp(cb, DH_), L);
  atomic.store<i32>(cb + <usize>BWD, 1);

  // dWx[:, x_k] += dz_k, k in order; Σ g² over the touched columns in column order
  zeroWx(cb);
  waitAtLeast(cb, WXZ, 2);
  memory.fill(TOUCH, 0, <usize>V);
  for (let k = 0; k < L; k++) {
    const x = <i32>load<u8>(X + <usize>(start + k));
    store<u8>(TOUCH + <usize>x, 1);
    const d = at(D, k * H);
    for (let i = 0; i < H; i++) {
      const g = at(G, i * V + x);
      store<f32>(g, load<f32>(g) + load<f32>(at(d, i)));
    }
  }
  let wxSq: f64 = 0;
  for (let x = 0; x < V; x++) {
    if (load<u8>(TOUCH + <usize>x) == 0) continue;
    for (let i = 0; i < H; i++) {
      const g = <f64>load<f32>(at(G, i * V + x));
      wxSq += g * g;
    }
  }
  const gbh = at(G, H * V + H * H);
  colSum(gbh, D, H, H, K);
  let loss: f64 = 0;
  for (let k = 0; k < L; k++) loss += load<f64>(NLL + (<usize>k << 3));

  dWyTasks(cb);
  dWhTasks(cb);
  waitAtLeast(cb, YDONE, nY);
  waitAtLeast(cb, HDONE, nH);
  memory.copy(HS, at(HS, L * H), <usize>H << 2); // carry S[start+L-1] (after dWh has read HS row 0)
  let sq: f64 = 0;
  for (let t = 0; t < nY + nH; t++) sq += load<f64>(SS + (<usize>t << 3));
  sq += sumSqF64(gbh, H);
  sq += wxSq;
  store<f64>(cb + <usize>SUMSQ, sq);
  store<f64>(cb + <usize>LOSS, loss);
  return loss;
}

/** Role 1's part of a chunk. */
function chunkWorker(cb: usize): void {
  const L = cbi(cb, LEN);
  const K = (L + 3) & ~3;
  zeroWx(cb);
  readoutTasks(cb);
  waitAtLeast(cb, RDONE, K >> 2);
  dWyTasks(cb);
  waitAtLeast(cb, BWD, 1);
  dWhTasks(cb);
}

// ---------------------------------------------------------------------------------------
// updates, in tasks of UPDATE_BLOCK parameters (elementwise: any split gives the same bits)

/** SGD: w -= f · g with f = lr · scale (A0). */
function sgdTasks(cb: usize): void {
  const n = cbi(cb, NPAR);
  const nt = (n + UPDATE_BLOCK - 1) / UPDATE_BLOCK;
  const P = cbp(cb, P_), G = cbp(cb, G_);
  const vf = f32x4.splat(<f32>load<f64>(cb + <usize>A0));
  for (;;) {
    const t = atomic.add<i32>(cb + <usize>UNEXT, 1);
    if (t >= nt) return;
    const i1 = min(n, (t + 1) * UPDATE_BLOCK);
    for (let i = t * UPDATE_BLOCK; i < i1; i += 4) {
      v128.store(at(P, i), f32x4.sub(v128.load(at(P, i)), f32x4.mul(vf, v128.load(at(G, i)))));
    }
    atomic.add<i32>(cb + <usize>UDONE, 1);
    if (isWorker) atomic.add<i32>(cb + <usize>WTASKS, 1);
  }
}

/**
 * Adam on the clipped gradient gc = scale·g: m = β1 m + (1-β1) gc, q = β2 q + (1-β2) gc²,
 * w -= lr · (m·c1) / (sqrt(q·c2) + ε), with c1 = 1/(1-β1^t), c2 = 1/(1-β2^t).
 * A0.. = scale, lr, β1, β2, 1-β1, 1-β2, ε, c1, c2 (1-β taken in f64 by the caller: 1 - 0.999f is 1.3e-5 off).
 */
function adamTasks(cb: usize): void {
  const n = cbi(cb, NPAR);
  const nt = (n + UPDATE_BLOCK - 1) / UPDATE_BLOCK;
  const P = cbp(cb, P_), G = cbp(cb, G_), M = cbp(cb, M_), Q = cbp(cb, Q_);
  const a = cb + <usize>A0;
  const vs = f32x4.splat(<f32>load<f64>(a));
  const vlr = f32x4.splat(<f32>load<f64>(a, 8));
  const vb1 = f32x4.splat(<f32>load<f64>(a, 16));
  const vb2 = f32x4.splat(<f32>load<f64>(a, 24));
  const v1b1 = f32x4.splat(<f32>load<f64>(a, 32));
  const v1b2 = f32x4.splat(<f32>load<f64>(a, 40));
  const veps = f32x4.splat(<f32>load<f64>(a, 48));
  const vc1 = f32x4.splat(<f32>load<f64>(a, 56));
  const vc2 = f32x4.splat(<f32>load<f64>(a, 64));
  for (;;) {
    const t = atomic.add<i32>(cb + <usize>UNEXT, 1);
    if (t >= nt) return;
    const i1 = min(n, (t + 1) * UPDATE_BLOCK);
    for (let i = t * UPDATE_BLOCK; i < i1; i += 4) {
      const gc = f32x4.mul(v128.load(at(G, i)), vs);
      const m = f32x4.add(f32x4.mul(vb1, v128.load(at(M, i))), f32x4.mul(v1b1, gc));
      const q = f32x4.add(f32x4.mul(vb2, v128.load(at(Q, i))), f32x4.mul(f32x4.mul(v1b2, gc), gc));
      v128.store(at(M, i), m);
      v128.store(at(Q, i), q);
      const step = f32x4.div(f32x4.mul(vlr, f32x4.mul(m, vc1)), f32x4.add(f32x4.sqrt(f32x4.mul(q, vc2)), veps));
      v128.store(at(P, i), f32x4.sub(v128.load(at(P, i)), step));
    }
    atomic.add<i32>(cb + <usize>UDONE, 1);
    if (isWorker) atomic.add<i32>(cb + <usize>WTASKS, 1);
  }
}

function updateTasks(cb: usize, kind: i32): void {
  if (kind == CMD_SGD) sgdTasks(cb);
  else adamTasks(cb);
}

// ---------------------------------------------------------------------------------------
// entry points

/**
 * Role 0: run the command whose KIND and arguments the driver wrote into cb, with the
 * worker's help when `threads` > 1 (it joins if it is free in time; with `awaitWorker`,
 * for the tests, role 0 waits for it to join before starting). Returns the chunk's loss
 * (CMD_CHUNK) or 0.
 */
export function command(cb: usize, threads: i32, awaitWorker: bool): f64 {
  const kind = cbi(cb, KIND);
  for (let off = ROWS; off <= UDONE; off += 64) store<i32>(cb + <usize>off, 0);
  let s = 0;
  if (threads > 1) {
    s = (atomic.load<i32>(cb + <usize>SEQ) + 1) & SEQ_MASK;
    atomic.store<i32>(cb + <usize>JOIN, s);
    atomic.store<i32>(cb + <usize>SEQ, s);
    atomic.notify(cb + <usize>SEQ, 1);
    if (awaitWorker) while (atomic.load<i32>(cb + <usize>JOIN) == s) {} // tests: make sure the worker takes part
  }
  let loss: f64 = 0;
  if (kind == CMD_CHUNK) {
    loss = chunkMain(cb);
  } else if (kind == CMD_SGD || kind == CMD_ADAM) {
    updateTasks(cb, kind);
    waitAtLeast(cb, UDONE, (cbi(cb, NPAR) + UPDATE_BLOCK - 1) / UPDATE_BLOCK);
  }
  // close the command: if the worker never joined it, it never will; else wait for it to finish
  if (threads > 1 && atomic.cmpxchg<i32>(cb + <usize>JOIN, s, CLOSED) != s) waitEqual(cb, DONE, s);
  return loss;
}

/** Role 0: tell the worker to return from `worker` (it does when it next looks). */
export function stopWorker(cb: usize): void {
  store<i32>(cb + <usize>KIND, CMD_EXIT);
  const s = (atomic.load<i32>(cb + <usize>SEQ) + 1) & SEQ_MASK;
  atomic.store<i32>(cb + <usize>JOIN, s);
  atomic.store<i32>(cb + <usize>SEQ, s);
  atomic.notify(cb + <usize>SEQ, 1);
}

/**
 * Role 1 (the worker thread), step 1: wait for the next posted command and join it. Returns
 * its kind (run it with workerRun), 0 when it closed before we came, -1 for CMD_EXIT.
 * Spins for about a millisecond, then sleeps until a command comes. The loop is in
 * JavaScript (lib/rnn/wasm-worker.mjs) so that each call is a fresh entry: V8 replaces a
 * wasm function by its optimized code only between calls.
 */
export function workerNext(cb: usize): i32 {
  if (atomic.load<i32>(cb + <usize>READY) == 0) {
    store<i32>(cb + <usize>LAST, (atomic.load<i32>(cb + <usize>SEQ) - 1) & SEQ_MASK);
    atomic.store<i32>(cb + <usize>READY, 1);
    atomic.notify(cb + <usize>READY);
  }
  const last = load<i32>(cb + <usize>LAST);
  let idle = 0;
  let s = atomic.load<i32>(cb + <usize>SEQ);
  while (s == last) {
    if (++idle >= IDLE_SPIN) {
      atomic.wait<i32>(cb + <usize>SEQ, s, -1);
      idle = 0;
    }
    s = atomic.load<i32>(cb + <usize>SEQ);
  }
  store<i32>(cb + <usize>LAST, s);
  if (atomic.cmpxchg<i32>(cb + <usize>JOIN, s, s | JOINED) != s) return 0; // closed before we came
  atomic.add<i32>(cb + <usize>JOINS, 1);
  const kind = cbi(cb, KIND);
  if (kind == CMD_EXIT) {
    atomic.store<i32>(cb + <usize>DONE, s);
    return -1;
  }
  return kind;
}

/** Role 1, step 2: run the joined command's worker part, then report it done. */
export function workerRun(cb: usize, kind: i32): void {
  isWorker = true;
  if (kind == CMD_CHUNK) chunkWorker(cb);
  else if (kind == CMD_SGD || kind == CMD_ADAM) updateTasks(cb, kind);
  atomic.store<i32>(cb + <usize>DONE, load<i32>(cb + <usize>LAST));
}
