// WebAssembly SIMD kernels for the analyses' dense float64 products: the readout's forward
// and gradient over many positions, and matrix × four-vector products. AssemblyScript,
// built by `npm run build:wasm` into build/dense.wasm beside the training kernel, driven by
// lib/rnn/wasm-dense.ts. Their JavaScript twins are the loops they replace (lib/analysis/
// factored-readout.ts, lib/rnn/forward.ts readoutLogits4, lib/analysis/ablation.ts step4,
// lib/analysis/influence.ts gradientsAt4, lib/analysis/rebuild.ts lbfgsDirection and the
// L-BFGS steps beside it, lib/analysis/rebuild-score.ts distinctReadout) and the naive
// kernels beside those. dotInOrder, lbfgsDir, subScaledTo, lbfgsPair, divBy, fillTables2,
// gradWeights2 and distinctLogp4 are not in the loader's list of required exports: their
// callers check that the build has them and otherwise run their JavaScript twins.
//
// Bit for bit. Every kernel vectorises across independent outputs (f64x2 lanes are two
// classes k, or two of four chains c) and keeps, for each output, the JavaScript twin's
// order of float64 operations: the same sums in the same order, multiplies and adds
// rounded separately (no fused multiply-add, so there is no relaxed-SIMD build of this
// file: it would round the same). exp and log are JavaScript's own Math.exp and Math.log,
// imported, or exp written out as V8 computes it (exp2v below). So the analyses give the
// same bits with or without this module, and their cache keys need not name it
// (test/rnn/wasm-dense.test.ts holds the kernels to that).
//
// All pointers are byte addresses; arrays are f64 unless said otherwise, row-major.

@external("env", "exp") declare function jsExp(x: f64): f64;
@external("env", "log") declare function jsLog(x: f64): f64;

// @ts-ignore: decorator
@inline function at(base: usize, index: i32): usize {
  return base + (<usize>index << 3);
}

// @ts-ignore: decorator
@inline function ati(base: usize, index: i32): usize {
  return base + (<usize>index << 2);
}

// ---------------------------------------------------------------------------------------
// exp, two lanes at a time, bit for bit JavaScript's Math.exp
//
// V8's Math.exp is fdlibm's __ieee754_exp (src/base/ieee754.cc): x = k·ln2 + r with
// r = hi - lo, exp(r) = 1 - ((lo - r·c/(2 - c)) - hi), c = r - r²·P(r²), times 2^k. The
// general branch (1.5·ln2 ≤ |x| < 700: k is neither 0, ±1 nor below -1021) is written
// here in f64x2 with the same operations in the same order; a lane outside it goes to
// expScalar below (the other branches, one lane; overflow, deep underflow and NaN to the
// imported Math.exp itself). Tested against
// Math.exp bit for bit on millions of arguments (test/rnn/wasm-dense.test.ts).

const EXP_LO = reinterpret<f64>(0x3FF0A2B200000000); // the smallest |x| with the high word of 1.5·ln2
const ln2HI: f64 = 6.93147180369123816490e-01;
const ln2LO: f64 = 1.90821492927058770002e-10;
const invln2: f64 = 1.44269504088896338700e+00;
const P1: f64 = 1.66666666666666019037e-01;
const P2: f64 = -2.77777777770155933842e-03;
const P3: f64 = 6.61375632143793436117e-05;
const P4: f64 = -1.65339022054652515390e-06;
const P5: f64 = 4.13813679705723846039e-08;

const twom1000: f64 = 9.33263618503218878990e-302; // 2^-1000

/**
 * exp x as V8's Math.exp computes it, one lane: every branch of __ieee754_exp written out
 * (|x| ≤ 0.5·ln2: k = 0 and its own last step; below 1.5·ln2: k = ±1; x = 1: e; below
 * -708.4: the 2^-1000 scaling), except |x| ≥ 709.78, x ≥ 512 and NaN, which Math.exp
 * computes itself (overflow, underflow to 0, and the special values). The lanes exp2v does not
 * take (the softmax's own max gives exp(0) in every row) and odd tails come here instead
 * of a call out to JavaScript.
 */
export function expScalar(x: f64): f64 {
  const hx = <u32>(reinterpret<u64>(x) >>> 32);
  const xsb = <i32>(hx >>> 31);
  const ix = hx & 0x7FFFFFFF;
  // |x| ≥ 709.78..., not finite, or x ≥ 512 (k up to 1024, which 2^k as built here cannot hold)
  if (ix >= 0x40862E42 || (xsb == 0 && ix >= 0x40800000)) return jsExp(x);
  let hi: f64 = 0;
  let lo: f64 = 0;
  let k: i32 = 0;
  if (ix > 0x3FD62E42) {
    if (ix < 0x3FF0A2B2) {
      if (x == 1.0) return 2.718281828459045;
      hi = xsb ? x - -ln2HI : x - ln2HI; // x - ln2HI[xsb]
      lo = xsb ? -ln2LO : ln2LO;
      k = 1 - xsb - xsb;
    } else {
      k = <i32>(invln2 * x + (xsb ? -0.5 : 0.5));
      const t = <f64>k;
      hi = x - t * ln2HI;
      lo = t * ln2LO;
    }
    x = hi - lo;
  } else if (ix < 0x3E300000) {
    return 1 + x; // |x| < 2^-28
  }
  const t = x * x;
  const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return 1 - ((x * c) / (c - 2.0) - x);
  const y = 1 - ((lo - (x * c) / (2.0 - c)) - hi);
  if (k >= -1021) return y * reinterpret<f64>(<u64>(0x3FF00000 + (k << 20)) << 32);
  return y * reinterpret<f64>(<u64>(0x3FF00000 + ((k + 1000) << 20)) << 32) * twom1000;
}

/**
 * fdlibm's exp after its argument reduction, in both lanes: x = k·ln2 + r with t = k (f64)
 * and ki = k (i32 lanes 0, 1); returns 2^k · (1 - ((lo - r·c/(2 - c)) - hi)), the
 * polynomial c of r² and the hi/lo split of k·ln2 as fdlibm rounds them.
 */
// @ts-ignore: decorator
@inline function expReduced(x: v128, t: v128, ki: v128): v128 {
  const hi = f64x2.sub(x, f64x2.mul(t, f64x2.splat(ln2HI)));
  const lo = f64x2.mul(t, f64x2.splat(ln2LO));
  const r = f64x2.sub(hi, lo);
  const tt = f64x2.mul(r, r);
  let p = f64x2.add(f64x2.splat(P4), f64x2.mul(tt, f64x2.splat(P5)));
  p = f64x2.add(f64x2.splat(P3), f64x2.mul(tt, p));
  p = f64x2.add(f64x2.splat(P2), f64x2.mul(tt, p));
  p = f64x2.add(f64x2.splat(P1), f64x2.mul(tt, p));
  const c = f64x2.sub(r, f64x2.mul(tt, p));
  const y = f64x2.sub(f64x2.splat(1), f64x2.sub(f64x2.sub(lo, f64x2.div(f64x2.mul(r, c), f64x2.sub(f64x2.splat(2), c))), hi));
  // 2^k: high word 0x3FF00000 + (k << 20), low word 0
  const twopk = i64x2.add(i64x2.shl(i64x2.extend_low_i32x4_s(ki), 52), i64x2.splat(0x3FF0000000000000));
  return f64x2.mul(y, twopk);
}

/** (exp x0, exp x1), each equal to Math.exp's. */
// @ts-ignore: decorator
@inline function exp2v(x: v128): v128 {
  // k = (int)(invln2·x + (x < 0 ? -0.5 : 0.5)), truncated toward zero
  const half = v128.bitselect(f64x2.splat(-0.5), f64x2.splat(0.5), f64x2.lt(x, f64x2.splat(0)));
  const ki = i32x4.trunc_sat_f64x2_s_zero(f64x2.add(f64x2.mul(f64x2.splat(invln2), x), half));
  const t = f64x2.convert_low_i32x4_s(ki);
  let e = expReduced(x, t, ki);
  const ax = f64x2.abs(x);
  const fast = v128.and(f64x2.ge(ax, f64x2.splat(EXP_LO)), f64x2.lt(ax, f64x2.splat(700)));
  if (!i64x2.all_true(fast)) {
    if (i64x2.extract_lane(fast, 0) == 0) e = f64x2.replace_lane(e, 0, expScalar(f64x2.extract_lane(x, 0)));
    if (i64x2.extract_lane(fast, 1) == 0) e = f64x2.replace_lane(e, 1, expScalar(f64x2.extract_lane(x, 1)));
  }
  return e;
}

/** OUT[i] = exp(IN[i]) for i < n (n even), by exp2v: for the tests. */
export function expTest(IN: usize, OUT: usize, n: i32): void {
  for (let i = 0; i < n; i += 2) v128.store(at(OUT, i), exp2v(v128.load(at(IN, i))));
}

// ---------------------------------------------------------------------------------------
// matrix × four vectors

/**
 * out[q*4 + c] = init[q] + Σ_{j=0..n-1} M[q*n + j] · v[j*4 + c]   for q < rows, c < 4,
 * summed over j in order from init[q] (init = 0: from 0). M is (rows, n), v is (n, 4): four
 * vectors interleaved, out is (rows, 4). Blocked four rows × four vectors.
 */
export function mv4(out: usize, M: usize, rows: i32, n: i32, v: usize, init: usize): void {
  let q = 0;
  for (; q + 4 <= rows; q += 4) {
    const m0 = at(M, q * n);
    const m1 = at(m0, n);
    const m2 = at(m1, n);
    const m3 = at(m2, n);
    let a0 = f64x2.splat(0), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
    if (init != 0) {
      a0 = b0 = v128.load64_splat(at(init, q));
      a1 = b1 = v128.load64_splat(at(init, q + 1));
      a2 = b2 = v128.load64_splat(at(init, q + 2));
      a3 = b3 = v128.load64_splat(at(init, q + 3));
    }
    for (let j = 0; j < n; j++) {
      const x = v128.load(at(v, j * 4));
      const y = v128.load(at(v, j * 4), 16);
      const w0 = v128.load64_splat(at(m0, j));
      const w1 = v128.load64_splat(at(m1, j));
      const w2 = v128.load64_splat(at(m2, j));
      const w3 = v128.load64_splat(at(m3, j));
      a0 = f64x2.add(a0, f64x2.mul(w0, x)); b0 = f64x2.add(b0, f64x2.mul(w0, y));
      a1 = f64x2.add(a1, f64x2.mul(w1, x)); b1 = f64x2.add(b1, f64x2.mul(w1, y));
      a2 = f64x2.add(a2, f64x2.mul(w2, x)); b2 = f64x2.add(b2, f64x2.mul(w2, y));
      a3 = f64x2.add(a3, f64x2.mul(w3, x)); b3 = f64x2.add(b3, f64x2.mul(w3, y));
    }
    const o = at(out, q * 4);
    v128.store(o, a0); v128.store(o, b0, 16);
    v128.store(o, a1, 32); v128.store(o, b1, 48);
    v128.store(o, a2, 64); v128.store(o, b2, 80);
    v128.store(o, a3, 96); v128.store(o, b3, 112);
  }
  for (; q < rows; q++) {
    const m0 = at(M, q * n);
    let a0 = init != 0 ? v128.load64_splat(at(init, q)) : f64x2.splat(0);
    let b0 = a0;
    for (let j = 0; j < n; j++) {
      const w0 = v128.load64_splat(at(m0, j));
      a0 = f64x2.add(a0, f64x2.mul(w0, v128.load(at(v, j * 4))));
      b0 = f64x2.add(b0, f64x2.mul(w0, v128.load(at(v, j * 4), 16)));
    }
    v128.store(at(out, q * 4), a0);
    v128.store(at(out, q * 4), b0, 16);
  }
}

/**
 * In place over out (rows, 4) as mv4 leaves it: each of the four columns c becomes its log
 * softmax, as lib/rnn/forward.ts logSoftmax computes it: max (the first of equal values),
 * sum of exp(l - max) over q in order, lse = max + ln sum, l - lse. Lanes are two columns.
 */
export function logSoftmax4(out: usize, rows: i32): void {
  for (let h = 0; h < 2; h++) {
    const o = out + (<usize>h << 4); // columns 2h, 2h+1
    let max = f64x2.splat(-Infinity);
    for (let q = 0; q < rows; q++) {
      const v = v128.load(at(o, q * 4));
      max = v128.bitselect(v, max, f64x2.gt(v, max));
    }
    let sum = f64x2.splat(0);
    for (let q = 0; q < rows; q++) sum = f64x2.add(sum, exp2v(f64x2.sub(v128.load(at(o, q * 4)), max)));
    let lse = f64x2.replace_lane(max, 0, f64x2.extract_lane(max, 0) + jsLog(f64x2.extract_lane(sum, 0)));
    lse = f64x2.replace_lane(lse, 1, f64x2.extract_lane(max, 1) + jsLog(f64x2.extract_lane(sum, 1)));
    for (let q = 0; q < rows; q++) v128.store(at(o, q * 4), f64x2.sub(v128.load(at(o, q * 4)), lse));
  }
}

// ---------------------------------------------------------------------------------------
// the factored class readout (lib/analysis/factored-readout.ts): tables, logits, gradient
//
// Block g of the trajectory has U[g] distinct rows of width w, R + rOff[g]·8: (U[g], w).
// Its table tab + base[g]·8 is (U[g], K); off[t*G + g] (i32) is the element index in tab
// where position t reads block g. Wt is (H, K) = Wᵀ.

/** One row of a group's table: to[k] += Σ_j ro[j] · Wt[(g*w + j)*K + k], j in fours (fillTables' order). */
// @ts-ignore: decorator
@inline function fillRow(to: usize, ro: usize, g: i32, w: i32, K: i32, Wt: usize): void {
  let j = 0;
  for (; j + 4 <= w; j += 4) {
    const r0 = v128.load64_splat(at(ro, j)), r1 = v128.load64_splat(at(ro, j + 1));
    const r2 = v128.load64_splat(at(ro, j + 2)), r3 = v128.load64_splat(at(ro, j + 3));
    const w0 = at(Wt, (g * w + j) * K), w1 = at(w0, K), w2 = at(w1, K), w3 = at(w2, K);
    let k = 0;
    for (; k + 2 <= K; k += 2) {
      const s = f64x2.add(f64x2.add(f64x2.add(
        f64x2.mul(r0, v128.load(at(w0, k))), f64x2.mul(r1, v128.load(at(w1, k)))),
        f64x2.mul(r2, v128.load(at(w2, k)))), f64x2.mul(r3, v128.load(at(w3, k))));
      v128.store(at(to, k), f64x2.add(v128.load(at(to, k)), s));
    }
    if (k < K) {
      const s = f64x2.extract_lane(r0, 0) * load<f64>(at(w0, k)) + f64x2.extract_lane(r1, 0) * load<f64>(at(w1, k))
        + f64x2.extract_lane(r2, 0) * load<f64>(at(w2, k)) + f64x2.extract_lane(r3, 0) * load<f64>(at(w3, k));
      store<f64>(at(to, k), load<f64>(at(to, k)) + s);
    }
  }
  for (; j < w; j++) {
    const r = load<f64>(at(ro, j));
    const rv = f64x2.splat(r);
    const wo = at(Wt, (g * w + j) * K);
    let k = 0;
    for (; k + 2 <= K; k += 2) v128.store(at(to, k), f64x2.add(v128.load(at(to, k)), f64x2.mul(rv, v128.load(at(wo, k)))));
    if (k < K) store<f64>(at(to, k), load<f64>(at(to, k)) + r * load<f64>(at(wo, k)));
  }
}

/** tab[base[g] + u*K + k] = Σ_j R_g[u*w + j] · Wt[(g*w + j)*K + k], j in fours as fillTables sums them. */
export function fillTables(tab: usize, nTab: i32, R: usize, rOff: usize, U: usize, base: usize, G: i32, w: i32, K: i32, Wt: usize): void {
  memory.fill(tab, 0, <usize>nTab << 3);
  for (let g = 0; g < G; g++) {
    const Rg = at(R, load<i32>(ati(rOff, g)));
    const Ug = load<i32>(ati(U, g));
    const tg = at(tab, load<i32>(ati(base, g)));
    for (let u = 0; u < Ug; u++) fillRow(at(tg, u * K), at(Rg, u * w), g, w, K, Wt);
  }
}

/** l[k] = b[k] (b = 0: 0) + Σ_g tab[off[t*G + g] + k], blocks in fours as gatherRow sums them. */
// @ts-ignore: decorator
@inline function gatherRow(l: usize, tab: usize, off: usize, t: i32, G: i32, K: i32, b: usize): void {
  if (b == 0) memory.fill(l, 0, <usize>K << 3);
  else memory.copy(l, b, <usize>K << 3);
  const o = ati(off, t * G);
  let g = 0;
  for (; g + 4 <= G; g += 4) {
    const a0 = at(tab, load<i32>(ati(o, g))), a1 = at(tab, load<i32>(ati(o, g + 1)));
    const a2 = at(tab, load<i32>(ati(o, g + 2))), a3 = at(tab, load<i32>(ati(o, g + 3)));
    let k = 0;
    for (; k + 2 <= K; k += 2) {
      const s = f64x2.add(f64x2.add(f64x2.add(v128.load(at(a0, k)), v128.load(at(a1, k))), v128.load(at(a2, k))), v128.load(at(a3, k)));
      v128.store(at(l, k), f64x2.add(v128.load(at(l, k)), s));
    }
    if (k < K) store<f64>(at(l, k), load<f64>(at(l, k)) + (load<f64>(at(a0, k)) + load<f64>(at(a1, k)) + load<f64>(at(a2, k)) + load<f64>(at(a3, k))));
  }
  for (; g < G; g++) {
    const a0 = at(tab, load<i32>(ati(o, g)));
    let k = 0;
    for (; k + 2 <= K; k += 2) v128.store(at(l, k), f64x2.add(v128.load(at(l, k)), v128.load(at(a0, k))));
    if (k < K) store<f64>(at(l, k), load<f64>(at(l, k)) + load<f64>(at(a0, k)));
  }
}

/** L[(t - t0)*K + k] = Σ_g tab[off[t*G + g] + k] for t = t0..t1-1: class logits without bias. */
export function gatherRows(L: usize, tab: usize, off: usize, G: i32, K: i32, t0: i32, t1: i32): void {
  for (let t = t0; t < t1; t++) gatherRow(at(L, (t - t0) * K), tab, off, t, G, K, 0);
}

/** One row j of group g's dWᵀ: Wt[(g*w + j)*K + k] += Σ_u R_g[u*w + j] · A_g[u*K + k], u in fours (gradWeights' order). */
// @ts-ignore: decorator
@inline function gradRow(Wt: usize, Rg: usize, ag: usize, Ug: i32, g: i32, w: i32, j: i32, K: i32): void {
  const wo = at(Wt, (g * w + j) * K);
  let u = 0;
  for (; u + 4 <= Ug; u += 4) {
    const r0 = v128.load64_splat(at(Rg, u * w + j)), r1 = v128.load64_splat(at(Rg, (u + 1) * w + j));
    const r2 = v128.load64_splat(at(Rg, (u + 2) * w + j)), r3 = v128.load64_splat(at(Rg, (u + 3) * w + j));
    const a0 = at(ag, u * K), a1 = at(a0, K), a2 = at(a1, K), a3 = at(a2, K);
    let k = 0;
    for (; k + 2 <= K; k += 2) {
      const s = f64x2.add(f64x2.add(f64x2.add(
        f64x2.mul(r0, v128.load(at(a0, k))), f64x2.mul(r1, v128.load(at(a1, k)))),
        f64x2.mul(r2, v128.load(at(a2, k)))), f64x2.mul(r3, v128.load(at(a3, k))));
      v128.store(at(wo, k), f64x2.add(v128.load(at(wo, k)), s));
    }
    if (k < K) {
      const s = f64x2.extract_lane(r0, 0) * load<f64>(at(a0, k)) + f64x2.extract_lane(r1, 0) * load<f64>(at(a1, k))
        + f64x2.extract_lane(r2, 0) * load<f64>(at(a2, k)) + f64x2.extract_lane(r3, 0) * load<f64>(at(a3, k));
      store<f64>(at(wo, k), load<f64>(at(wo, k)) + s);
    }
  }
  for (; u < Ug; u++) {
    const r = load<f64>(at(Rg, u * w + j));
    const rv = f64x2.splat(r);
    const ao = at(ag, u * K);
    let k = 0;
    for (; k + 2 <= K; k += 2) v128.store(at(wo, k), f64x2.add(v128.load(at(wo, k)), f64x2.mul(rv, v128.load(at(ao, k)))));
    if (k < K) store<f64>(at(wo, k), load<f64>(at(wo, k)) + r * load<f64>(at(ao, k)));
  }
}

/** dWᵀ (H, K) into Wt: Wt[(g*w + j)*K + k] = Σ_u R_g[u*w + j] · A[base[g] + u*K + k], u in fours as factoredGrad sums them. */
export function gradWeights(Wt: usize, H: i32, A: usize, R: usize, rOff: usize, U: usize, base: usize, G: i32, w: i32, K: i32): void {
  memory.fill(Wt, 0, <usize>(H * K) << 3);
  for (let g = 0; g < G; g++) {
    const Rg = at(R, load<i32>(ati(rOff, g)));
    const Ug = load<i32>(ati(U, g));
    const ag = at(A, load<i32>(ati(base, g)));
    for (let j = 0; j < w; j++) gradRow(Wt, Rg, ag, Ug, g, w, j, K);
  }
}

/**
 * The per-(t, s) part of scoreScales: for t = t0..t1-1 and each scale s = scales[si] (nS),
 *   out[(t - t0)*nS + si] = (s·L[y] + b[y] - max) - ln Σ_k mult[k]·exp(s·L[k] + b[k] - max)
 * with max = max_k (s·L[k] + b[k]), L = (t1 - t0, K) class logits, y[t] (i32) the target
 * class: the log-probability of the target, as scoreScales computes it before bitsOf.
 * l (K) is scratch. Rows of L that are equal share max and ln Σ: code[t] as in gradRowsSlots,
 * with (max, ln Σ) per scale kept in norm + (slot·nS + si)·16. Its exponentials are exp2vAll's
 * (Math.exp's bits in both lanes).
 */
export function scaledLogp(out: usize, L: usize, b: usize, mult: usize, y: usize, K: i32, t0: i32, t1: i32, scales: usize, nS: i32, l: usize, code: usize, norm: usize): void {
  for (let t = t0; t < t1; t++) {
    const lo = at(L, (t - t0) * K);
    const yk = load<i32>(ati(y, t));
    const c = load<i32>(ati(code, t));
    const kept = norm + (<usize>((c >> 1) * nS) << 4);
    if ((c & 1) == 0) {
      for (let si = 0; si < nS; si++) {
        const s = load<f64>(at(scales, si));
        const ly = s * load<f64>(at(lo, yk)) + load<f64>(at(b, yk));
        const nk = kept + (<usize>si << 4);
        store<f64>(at(out, (t - t0) * nS + si), ly - load<f64>(nk) - load<f64>(nk, 8));
      }
      continue;
    }
    for (let si = 0; si < nS; si++) {
      const s = load<f64>(at(scales, si));
      const sv = f64x2.splat(s);
      let mv = f64x2.splat(-Infinity);
      let k = 0;
      for (; k + 2 <= K; k += 2) {
        const v = f64x2.add(f64x2.mul(sv, v128.load(at(lo, k))), v128.load(at(b, k)));
        v128.store(at(l, k), v);
        mv = f64x2.max(mv, v);
      }
      let max = Math.max(f64x2.extract_lane(mv, 0), f64x2.extract_lane(mv, 1));
      if (k < K) {
        const v = s * load<f64>(at(lo, k)) + load<f64>(at(b, k));
        store<f64>(at(l, k), v);
        if (v > max) max = v;
      }
      let sum: f64 = 0;
      const mx = f64x2.splat(max);
      for (k = 0; k + 2 <= K; k += 2) {
        const e = exp2vAll(f64x2.sub(v128.load(at(l, k)), mx));
        sum += load<f64>(at(mult, k)) * f64x2.extract_lane(e, 0);
        sum += load<f64>(at(mult, k + 1)) * f64x2.extract_lane(e, 1);
      }
      if (k < K) sum += load<f64>(at(mult, k)) * expScalar(load<f64>(at(l, k)) - max);
      const ls = jsLog(sum);
      const nk = kept + (<usize>si << 4);
      store<f64>(nk, max);
      store<f64>(nk, ls, 8);
      store<f64>(at(out, (t - t0) * nS + si), load<f64>(at(l, yk)) - max - ls);
    }
  }
}

// ---------------------------------------------------------------------------------------
// tanh, bit for bit JavaScript's Math.tanh
//
// V8's Math.tanh is fdlibm's (src/base/ieee754.cc tanh, with its expm1): written out here
// branch for branch, the same operations in the same order, so that the forward step
// needs no call out to JavaScript per unit. Tested against Math.tanh bit for bit on
// millions of arguments, float32 ones (what the forward pass gives it) and others.

const Q1: f64 = -3.33333333333331316428e-02;
const Q2: f64 = 1.58730158725481460165e-03;
const Q3: f64 = -7.93650757867487942473e-05;
const Q4: f64 = 4.00821782732936239552e-06;
const Q5: f64 = -2.01099218183624371326e-07;

/** expm1 x as fdlibm computes it, for the arguments tanh gives it (-44 ≤ x ≤ 44, not NaN). */
function expm1(x: f64): f64 {
  const hw = <u32>(reinterpret<u64>(x) >>> 32);
  const neg = (hw >>> 31) != 0;
  const hx = hw & 0x7FFFFFFF;
  if (hx >= 0x4043687A && neg) return 1.0e-300 - 1.0; // x < -56·ln2: -1
  let hi: f64 = 0;
  let lo: f64 = 0;
  let c: f64 = 0;
  let k: i32 = 0;
  if (hx > 0x3FD62E42) {
    if (hx < 0x3FF0A2B2) {
      if (!neg) {
        hi = x - ln2HI;
        lo = ln2LO;
        k = 1;
      } else {
        hi = x + ln2HI;
        lo = -ln2LO;
        k = -1;
      }
    } else {
      k = <i32>(invln2 * x + (neg ? -0.5 : 0.5));
      const t = <f64>k;
      hi = x - t * ln2HI;
      lo = t * ln2LO;
    }
    x = hi - lo;
    c = (hi - x) - lo;
  } else if (hx < 0x3C900000) {
    const t = 1.0e300 + x;
    return x - (t - (1.0e300 + x));
  }
  const hfx = 0.5 * x;
  const hxs = x * hfx;
  const r1 = 1.0 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))));
  let t = 3.0 - r1 * hfx;
  let e = hxs * ((r1 - t) / (6.0 - x * t));
  if (k == 0) return x - (x * e - hxs);
  const twopk = reinterpret<f64>(<u64>(0x3FF00000 + (k << 20)) << 32);
  e = x * (e - c) - c;
  e -= hxs;
  if (k == -1) return 0.5 * (x - e) - 0.5;
  if (k == 1) {
    if (x < -0.25) return -2.0 * (e - (x + 0.5));
    return 1.0 + 2.0 * (x - e);
  }
  let y: f64;
  if (k <= -2 || k > 56) {
    y = 1.0 - (e - x);
    y = y * twopk; // k ≤ 64 here: no 2^1024
    return y - 1.0;
  }
  if (k < 20) {
    t = reinterpret<f64>(<u64>(0x3FF00000 - (0x200000 >> k)) << 32); // 1 - 2^-k
    y = t - (e - x);
    y = y * twopk;
  } else {
    t = reinterpret<f64>(<u64>((0x3FF - k) << 20) << 32); // 2^-k
    y = x - (e + t);
    y += 1.0;
    y = y * twopk;
  }
  return y;
}

/** tanh x, equal to Math.tanh's. */
export function tanh(x: f64): f64 {
  const jx = <u32>(reinterpret<u64>(x) >>> 32);
  const ix = jx & 0x7FFFFFFF;
  if (ix >= 0x7FF00000) return (jx >>> 31) == 0 ? 1.0 / x + 1.0 : 1.0 / x - 1.0; // ±Infinity, NaN
  let z: f64;
  if (ix < 0x40360000) { // |x| < 22
    if (ix < 0x3E300000) { // |x| < 2^-28
      if (1.0e300 + x > 1.0) return x;
    }
    if (ix >= 0x3FF00000) { // |x| ≥ 1
      const t = expm1(2.0 * Math.abs(x));
      z = 1.0 - 2.0 / (t + 2.0);
    } else {
      const t = expm1(-2.0 * Math.abs(x));
      z = -t / (t + 2.0);
    }
  } else {
    z = 1.0 - 1.0e-300; // |x| ≥ 22: ±1
  }
  return (jx >>> 31) == 0 ? z : -z;
}

// ---------------------------------------------------------------------------------------
// the forward pass's states (lib/rnn/forward.ts forwardStates), sixteen units per pass
//
// Wp holds Wh (H, H) packed by blocks of sixteen rows: Wp[(b*H + j)*16 + r] = Wh[(16b + r)*H + j]
// (rows past H are 0 and their sums are thrown away), so one pass over j reads 128
// contiguous bytes per j and keeps sixteen row sums in eight f64x2 registers. Each row's
// sum runs over j in order from 0 with a multiply and an add rounded separately: the sum
// forwardStates' plainStep forms; then, as plainStep, z = fround((Wx[i][x] + sum) + bh[i])
// and S = fround(tanh z) (tanh above, Math.tanh's bits), and S is the next step's prev.

/**
 * Steps t = t0..t1-1: z and S (T, H) f32 for the bytes xs (T, u8), from prev (H, f64:
 * S[t0-1], overwritten with each S[t]). Wx (H, 256) and bh (H) are f32, Wp as above with
 * HB = ceil(H/16) blocks, acc (16·HB, f64) is scratch. With `sign`, S = sign z (±1,
 * sign(0) = +1) instead of tanh z: the §3.2 sign dynamics. (The driver calls it a few
 * steps at a time: V8 moves a WebAssembly function to its optimising compiler between
 * calls, not inside one long call.)
 */
export function forwardSteps(z: usize, S: usize, xs: usize, t0: i32, t1: i32, H: i32, Wp: usize, Wx: usize, bh: usize, prev: usize, acc: usize, sign: i32): void {
  const HB = (H + 15) >> 4;
  for (let t = t0; t < t1; t++) {
    for (let b = 0; b < HB; b++) {
      let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
      let wp = Wp + ((<usize>(b * H)) << 7);
      for (let j = 0; j < H; j++) {
        const p = v128.load64_splat(at(prev, j));
        a0 = f64x2.add(a0, f64x2.mul(v128.load(wp), p));
        a1 = f64x2.add(a1, f64x2.mul(v128.load(wp, 16), p));
        a2 = f64x2.add(a2, f64x2.mul(v128.load(wp, 32), p));
        a3 = f64x2.add(a3, f64x2.mul(v128.load(wp, 48), p));
        a4 = f64x2.add(a4, f64x2.mul(v128.load(wp, 64), p));
        a5 = f64x2.add(a5, f64x2.mul(v128.load(wp, 80), p));
        a6 = f64x2.add(a6, f64x2.mul(v128.load(wp, 96), p));
        a7 = f64x2.add(a7, f64x2.mul(v128.load(wp, 112), p));
        wp += 128;
      }
      const o = at(acc, b << 4);
      v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
      v128.store(o, a4, 64); v128.store(o, a5, 80); v128.store(o, a6, 96); v128.store(o, a7, 112);
    }
    const x = <i32>load<u8>(xs + <usize>t);
    const zt = z + (<usize>(t * H) << 2);
    const st = S + (<usize>(t * H) << 2);
    let i = 0;
    if (!sign) {
      // two units at a time: tanh2v, Math.tanh's bits in both lanes; when both have |z| ≥ 9.25,
      // fround(tanh z) is ±1 (every float32 from 9.0109131 on rounds to 1; checked one by one
      // up to 22, where tanh is ±1 itself), taken without tanh
      for (; i + 2 <= H; i += 2) {
        const z0 = <f32>((<f64>load<f32>(ati(Wx, (i << 8) + x)) + load<f64>(at(acc, i))) + <f64>load<f32>(ati(bh, i)));
        const z1 = <f32>((<f64>load<f32>(ati(Wx, ((i + 1) << 8) + x)) + load<f64>(at(acc, i + 1))) + <f64>load<f32>(ati(bh, i + 1)));
        let s0: f32, s1: f32;
        if (Math.min(Math.abs(z0), Math.abs(z1)) >= <f32>9.25) {
          s0 = z0 > 0 ? <f32>1 : <f32>-1;
          s1 = z1 > 0 ? <f32>1 : <f32>-1;
        } else {
          const sv = f32x4.demote_f64x2_zero(tanh2v(f64x2(<f64>z0, <f64>z1)));
          s0 = f32x4.extract_lane(sv, 0);
          s1 = f32x4.extract_lane(sv, 1);
        }
        store<f32>(ati(zt, i), z0);
        store<f32>(ati(zt, i + 1), z1);
        store<f32>(ati(st, i), s0);
        store<f32>(ati(st, i + 1), s1);
        store<f64>(at(prev, i), <f64>s0);
        store<f64>(at(prev, i + 1), <f64>s1);
      }
    }
    for (; i < H; i++) {
      const zi = <f32>((<f64>load<f32>(ati(Wx, (i << 8) + x)) + load<f64>(at(acc, i))) + <f64>load<f32>(ati(bh, i)));
      const si = sign ? (zi >= 0 ? <f32>1 : <f32>-1) : Math.abs(zi) >= <f32>9.25 ? (zi > 0 ? <f32>1 : <f32>-1) : <f32>tanh(<f64>zi);
      store<f32>(ati(zt, i), zi);
      store<f32>(ati(st, i), si);
      store<f64>(at(prev, i), <f64>si);
    }
  }
}

/**
 * Four float32 forward steps side by side (lib/analysis/ablation.ts step4): chain c goes
 * from prev (4, H: chains one after another, f64) to next (4, H, f64) with byte xc (xc < 0:
 * no input term). Wh·prev_c by mv4 (each row summed over j in order from 0), then as
 * squash4: next = fround(tanh(fround((Wx[i][xc] + sum) + bh[i]))), or fround(sum + bh[i])
 * without the input term. M is Wh (H, H) f64; v (H, 4) and out (H, 4) are scratch; Wx
 * (H, 256) and bh (H) are f32.
 */
export function step4(next: usize, prev: usize, v: usize, out: usize, M: usize, H: i32, Wx: usize, bh: usize, x0: i32, x1: i32, x2: i32, x3: i32): void {
  for (let c = 0; c < 4; c++) for (let j = 0; j < H; j++) store<f64>(at(v, j * 4 + c), load<f64>(at(prev, c * H + j)));
  mv4(out, M, H, H, v, 0);
  for (let i = 0; i < H; i++) {
    const b = <f64>load<f32>(ati(bh, i));
    const wx = ati(Wx, i << 8);
    for (let c = 0; c < 4; c++) {
      const xc = c == 0 ? x0 : c == 1 ? x1 : c == 2 ? x2 : x3;
      const a = load<f64>(at(out, i * 4 + c));
      const z = xc >= 0 ? <f32>((<f64>load<f32>(ati(wx, xc)) + a) + b) : <f32>(a + b);
      store<f64>(at(next, c * H + i), <f64><f32>tanh(<f64>z));
    }
  }
}

// ---------------------------------------------------------------------------------------
// one step of the UM's evidence (lib/analysis/isomorphism.ts evaluateUm)
//
// E+ and E- (Hp, f64) come in holding the evidence from the byte and the bias events; the
// hidden sources follow in event order, h_k+ then h_k- for k = 0..H-1, each adding its
// pattern's strength times its probability: with C (4, H, Hp) the strengths by source
// sign and target sign (Cpp[k][j]: from h_k+ to h_j+; Cmp from h_k- to h_j+; Cpm, Cmm to
// h_j-; 0 where there is no pattern, which adds +0 and changes no sum), for each j
//   E+_j += Cpp[k][j]·P+_k;  E+_j += Cmp[k][j]·P-_k;  E-_j += Cpm[k][j]·P+_k;  E-_j += Cmm[k][j]·P-_k
// the sums evaluateUm forms pattern by pattern. Then P+_j = 1 / (1 + exp(-2 (E+_j - E-_j))),
// P-_j = 1 - P+_j, u_j = P+_j - P-_j, as evaluateUm (exp as Math.exp). Eight units per pass.

export function umStep(u: usize, Ep: usize, Em: usize, Pp: usize, Pm: usize, C: usize, H: i32, Hp: i32): void {
  const plane = <usize>(H * Hp) << 3;
  for (let j0 = 0; j0 < Hp; j0 += 8) {
    let p0 = v128.load(at(Ep, j0)), p1 = v128.load(at(Ep, j0 + 2)), p2 = v128.load(at(Ep, j0 + 4)), p3 = v128.load(at(Ep, j0 + 6));
    let m0 = v128.load(at(Em, j0)), m1 = v128.load(at(Em, j0 + 2)), m2 = v128.load(at(Em, j0 + 4)), m3 = v128.load(at(Em, j0 + 6));
    for (let k = 0; k < H; k++) {
      const pp = v128.load64_splat(at(Pp, k));
      const pm = v128.load64_splat(at(Pm, k));
      const cpp = at(C, k * Hp + j0);
      const cmp = cpp + plane;
      const cpm = cmp + plane;
      const cmm = cpm + plane;
      p0 = f64x2.add(f64x2.add(p0, f64x2.mul(v128.load(cpp), pp)), f64x2.mul(v128.load(cmp), pm));
      p1 = f64x2.add(f64x2.add(p1, f64x2.mul(v128.load(cpp, 16), pp)), f64x2.mul(v128.load(cmp, 16), pm));
      p2 = f64x2.add(f64x2.add(p2, f64x2.mul(v128.load(cpp, 32), pp)), f64x2.mul(v128.load(cmp, 32), pm));
      p3 = f64x2.add(f64x2.add(p3, f64x2.mul(v128.load(cpp, 48), pp)), f64x2.mul(v128.load(cmp, 48), pm));
      m0 = f64x2.add(f64x2.add(m0, f64x2.mul(v128.load(cpm), pp)), f64x2.mul(v128.load(cmm), pm));
      m1 = f64x2.add(f64x2.add(m1, f64x2.mul(v128.load(cpm, 16), pp)), f64x2.mul(v128.load(cmm, 16), pm));
      m2 = f64x2.add(f64x2.add(m2, f64x2.mul(v128.load(cpm, 32), pp)), f64x2.mul(v128.load(cmm, 32), pm));
      m3 = f64x2.add(f64x2.add(m3, f64x2.mul(v128.load(cpm, 48), pp)), f64x2.mul(v128.load(cmm, 48), pm));
    }
    v128.store(at(Ep, j0), p0); v128.store(at(Ep, j0 + 2), p1); v128.store(at(Ep, j0 + 4), p2); v128.store(at(Ep, j0 + 6), p3);
    v128.store(at(Em, j0), m0); v128.store(at(Em, j0 + 2), m1); v128.store(at(Em, j0 + 4), m2); v128.store(at(Em, j0 + 6), m3);
  }
  for (let j = 0; j < H; j++) {
    const z = load<f64>(at(Ep, j)) - load<f64>(at(Em, j));
    const pPlus = 1 / (1 + expScalar(-2 * z));
    store<f64>(at(Pp, j), pPlus);
    store<f64>(at(Pm, j), 1 - pPlus);
    store<f64>(at(u, j), pPlus - (1 - pPlus));
  }
}

// ---------------------------------------------------------------------------------------
// tanh, two lanes at a time, bit for bit Math.tanh (the scalar tanh and expm1 above,
// branch for branch)
//
// For 2^-28 ≤ |x| < 22, tanh takes t = expm1(y) with y = 2|x| (|x| ≥ 1) or y = -2|x|, then
// 1 - 2/(t + 2) or -t/(t + 2). In expm1, k = 0 below 0.5·ln2 (by the high word), ±1 below
// 1.5·ln2, else (int)(invln2·y ± 0.5); with k = 0 or ±1 the general reduction
// hi = y - k·ln2HI, lo = k·ln2LO gives the very values the scalar code's own branches form
// (y - 0 = y, y - (-ln2HI) = y + ln2HI), so one reduction serves every lane and the
// branches after the polynomial are selected per lane. tanh's arguments give k ∈ {0, -1,
// -2, -3} (y in (-2, 0)) or 3 ≤ k ≤ 63 (y in [2, 44)), never k = 1. |x| ≥ 22 gives ±1,
// |x| < 2^-28 gives x; a NaN or infinite lane goes to the scalar tanh.

const TANH_TINY = reinterpret<f64>(0x3E30000000000000); // 2^-28
const EXPM1_K0 = reinterpret<f64>(0x3FD62E4300000000); // the smallest |y| whose high word exceeds 0x3FD62E42

// @ts-ignore: decorator
@inline function expm1Tanh2v(y0: v128): v128 {
  const ay = f64x2.abs(y0);
  const neg = f64x2.lt(y0, f64x2.splat(0));
  let kf = f64x2.trunc(f64x2.add(f64x2.mul(f64x2.splat(invln2), y0), v128.bitselect(f64x2.splat(-0.5), f64x2.splat(0.5), neg)));
  kf = v128.bitselect(v128.bitselect(f64x2.splat(-1), f64x2.splat(1), neg), kf, f64x2.lt(ay, f64x2.splat(EXP_LO)));
  kf = v128.and(kf, f64x2.ge(ay, f64x2.splat(EXPM1_K0))); // +0 below
  const hi = f64x2.sub(y0, f64x2.mul(kf, f64x2.splat(ln2HI)));
  const lo = f64x2.mul(kf, f64x2.splat(ln2LO));
  const y = f64x2.sub(hi, lo);
  const c = f64x2.sub(f64x2.sub(hi, y), lo);
  const hfx = f64x2.mul(f64x2.splat(0.5), y);
  const hxs = f64x2.mul(y, hfx);
  let p = f64x2.add(f64x2.splat(Q4), f64x2.mul(hxs, f64x2.splat(Q5)));
  p = f64x2.add(f64x2.splat(Q3), f64x2.mul(hxs, p));
  p = f64x2.add(f64x2.splat(Q2), f64x2.mul(hxs, p));
  p = f64x2.add(f64x2.splat(Q1), f64x2.mul(hxs, p));
  const r1 = f64x2.add(f64x2.splat(1), f64x2.mul(hxs, p));
  const t = f64x2.sub(f64x2.splat(3), f64x2.mul(r1, hfx));
  const e = f64x2.mul(hxs, f64x2.div(f64x2.sub(r1, t), f64x2.sub(f64x2.splat(6), f64x2.mul(y, t))));
  // k = 0
  const r0 = f64x2.sub(y, f64x2.sub(f64x2.mul(y, e), hxs));
  const e2 = f64x2.sub(f64x2.sub(f64x2.mul(y, f64x2.sub(e, c)), c), hxs);
  // k = -1
  const rm1 = f64x2.sub(f64x2.mul(f64x2.splat(0.5), f64x2.sub(y, e2)), f64x2.splat(0.5));
  const ki = i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(kf));
  const twopk = i64x2.shl(i64x2.add(ki, i64x2.splat(0x3FF)), 52);
  const twomk = i64x2.shl(i64x2.sub(i64x2.splat(0x3FF), ki), 52);
  const ey = f64x2.sub(e2, y);
  // k ≤ -2 or k > 56
  const rOut = f64x2.sub(f64x2.mul(f64x2.sub(f64x2.splat(1), ey), twopk), f64x2.splat(1));
  // 2 ≤ k < 20 (1 - 2^-k is exact)
  const rMid = f64x2.mul(f64x2.sub(f64x2.sub(f64x2.splat(1), twomk), ey), twopk);
  // 20 ≤ k ≤ 56
  const rHigh = f64x2.mul(f64x2.add(f64x2.sub(y, f64x2.add(e2, twomk)), f64x2.splat(1)), twopk);
  let r = v128.bitselect(rMid, rHigh, f64x2.lt(kf, f64x2.splat(20)));
  r = v128.bitselect(rOut, r, v128.or(f64x2.le(kf, f64x2.splat(-2)), f64x2.gt(kf, f64x2.splat(56))));
  r = v128.bitselect(rm1, r, f64x2.eq(kf, f64x2.splat(-1)));
  return v128.bitselect(r0, r, f64x2.eq(kf, f64x2.splat(0)));
}

/** (tanh x0, tanh x1), each equal to Math.tanh's. */
// @ts-ignore: decorator
@inline function tanh2v(x: v128): v128 {
  const a = f64x2.abs(x);
  const big = f64x2.ge(a, f64x2.splat(1));
  const t = expm1Tanh2v(f64x2.mul(v128.bitselect(f64x2.splat(2.0), f64x2.splat(-2.0), big), a));
  const q = f64x2.div(v128.bitselect(f64x2.splat(2.0), f64x2.neg(t), big), f64x2.add(t, f64x2.splat(2.0)));
  let z = v128.bitselect(f64x2.sub(f64x2.splat(1.0), q), q, big);
  z = v128.bitselect(f64x2.splat(1.0 - 1.0e-300), z, f64x2.ge(a, f64x2.splat(22)));
  z = v128.bitselect(f64x2.neg(z), z, i64x2.shr_s(x, 63));
  z = v128.bitselect(x, z, f64x2.lt(a, f64x2.splat(TANH_TINY)));
  if (!i64x2.all_true(f64x2.lt(a, f64x2.splat(Infinity)))) {
    z = f64x2.replace_lane(z, 0, tanh(f64x2.extract_lane(x, 0)));
    z = f64x2.replace_lane(z, 1, tanh(f64x2.extract_lane(x, 1)));
  }
  return z;
}

/** OUT[i] = tanh(IN[i]) for i < n (n even), by tanh2v: for the tests. */
export function tanhTest(IN: usize, OUT: usize, n: i32): void {
  for (let i = 0; i < n; i += 2) v128.store(at(OUT, i), tanh2v(v128.load(at(IN, i))));
}

/**
 * step4 above with the squash two chains at a time (tanh2v): the same bits. Chain pairs
 * (0, 1) and (2, 3) of unit i read out[i*4 + c] side by side; a chain with xc < 0 takes
 * fround(sum + bh[i]), the others fround((Wx[i][xc] + sum) + bh[i]), then fround(tanh z).
 */
export function step4v(next: usize, prev: usize, v: usize, out: usize, M: usize, H: i32, Wx: usize, bh: usize, x0: i32, x1: i32, x2: i32, x3: i32): void {
  for (let c = 0; c < 4; c++) for (let j = 0; j < H; j++) store<f64>(at(v, j * 4 + c), load<f64>(at(prev, c * H + j)));
  mv4(out, M, H, H, v, 0);
  const none01 = i64x2(x0 < 0 ? -1 : 0, x1 < 0 ? -1 : 0);
  const none23 = i64x2(x2 < 0 ? -1 : 0, x3 < 0 ? -1 : 0);
  const hb = <usize>H << 3;
  for (let i = 0; i < H; i++) {
    const b = f64x2.splat(<f64>load<f32>(ati(bh, i)));
    const wx = ati(Wx, i << 8);
    const w01 = f64x2(x0 >= 0 ? <f64>load<f32>(ati(wx, x0)) : 0, x1 >= 0 ? <f64>load<f32>(ati(wx, x1)) : 0);
    const w23 = f64x2(x2 >= 0 ? <f64>load<f32>(ati(wx, x2)) : 0, x3 >= 0 ? <f64>load<f32>(ati(wx, x3)) : 0);
    const a01 = v128.load(at(out, i * 4));
    const a23 = v128.load(at(out, i * 4), 16);
    const z01 = f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(v128.bitselect(f64x2.add(a01, b), f64x2.add(f64x2.add(w01, a01), b), none01)));
    const z23 = f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(v128.bitselect(f64x2.add(a23, b), f64x2.add(f64x2.add(w23, a23), b), none23)));
    const s01 = f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(tanh2v(z01)));
    const s23 = f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(tanh2v(z23)));
    const o = at(next, i);
    store<f64>(o, f64x2.extract_lane(s01, 0));
    store<f64>(o + hb, f64x2.extract_lane(s01, 1));
    store<f64>(o + 2 * hb, f64x2.extract_lane(s23, 0));
    store<f64>(o + 3 * hb, f64x2.extract_lane(s23, 1));
  }
}

// ---------------------------------------------------------------------------------------
// the backward gradients of four output positions (lib/analysis/influence.ts gradientsAt4)

/**
 * G (4, D, H) f64, chain c's row d = 0 filled by the caller; for d = 1..D-1:
 *   u_c[j] = G_c[d-1][j] · (1 - h·h),  h = S[T_c - d + 1][j]
 *   G_c[d] = Whᵀ·u_c   (mv4: each sum over j in order from 0)
 * the operations of gradientsAt4, in its order. Sb holds rows lo.. of the trace's S (f32,
 * H wide); WhT is (H, H) f64; v (H, 4) and out (H, 4) are scratch.
 */
export function gradients4(G: usize, Sb: usize, lo: i32, WhT: usize, H: i32, D: i32, T0: i32, T1: i32, T2: i32, T3: i32, v: usize, out: usize): void {
  const DH = D * H;
  for (let d = 1; d < D; d++) {
    for (let c = 0; c < 4; c++) {
      const Tc = c == 0 ? T0 : c == 1 ? T1 : c == 2 ? T2 : T3;
      const s = ati(Sb, (Tc - d + 1 - lo) * H);
      const g = at(G, c * DH + (d - 1) * H);
      for (let j = 0; j < H; j++) {
        const h = <f64>load<f32>(ati(s, j));
        store<f64>(at(v, j * 4 + c), load<f64>(at(g, j)) * (1 - h * h));
      }
    }
    mv4(out, WhT, H, H, v, 0);
    for (let c = 0; c < 4; c++) {
      const g = at(G, c * DH + d * H);
      for (let q = 0; q < H; q++) store<f64>(at(g, q), load<f64>(at(out, q * 4 + c)));
    }
  }
}

// ---------------------------------------------------------------------------------------
// the ablation's readout (lib/analysis/ablation.ts readout4): four chains' log p of one
// target each

/**
 * out[c] = log softmax(Wy·h_c + by)[o_c] for the four chains c, h (4, H) f64 chains one after
 * another: h is laid out (H, 4) in v, then mv4 (init by) and logSoftmax4 into L (V, 4) as
 * readoutLogp4 computes them, and each chain's target read off: the same bits.
 */
export function readoutPick4(out: usize, h: usize, v: usize, L: usize, Wy: usize, by: usize, V: i32, H: i32, o0: i32, o1: i32, o2: i32, o3: i32): void {
  for (let c = 0; c < 4; c++) for (let j = 0; j < H; j++) store<f64>(at(v, j * 4 + c), load<f64>(at(h, c * H + j)));
  mv4(L, Wy, V, H, v, by);
  logSoftmax4(L, V);
  store<f64>(out, load<f64>(at(L, o0 * 4)));
  store<f64>(out, load<f64>(at(L, o1 * 4 + 1)), 8);
  store<f64>(out, load<f64>(at(L, o2 * 4 + 2)), 16);
  store<f64>(out, load<f64>(at(L, o3 * 4 + 3)), 24);
}

// ---------------------------------------------------------------------------------------
// the factored readout's gradient, one scatter per context

/**
 * The per-position part of factoredGrad over t = t0..t1-1, with the scatter done once per
 * context: logits l = b + gathered tables, p = softmax over classes with multiplicities mult
 * (K), and the gradient of Σ_t -ln(p_t(y_t) + eps) (y is i32; the loss is returned, summed
 * over positions in order). l (K) is scratch.
 *
 * Positions that read the same table rows in every block have the same logits, so the same
 * p: code[t] (i32) = 2·slot + 1 at the first position of a slot (p is computed and kept in
 * P + slot·K·8) and 2·slot at the others (p is read from there). Their p - onehot(y) summed
 * is n·p - Σ onehot(y): A (nTab) starts at A0 (minus the scatter of the onehots, exact
 * counts) and db at db0 (K: minus the targets' counts); then slot s (first seen at position
 * sPos[s], n = sN[s] positions) adds n·p to db and to A at that position's rows, slots in
 * order. factoredGrad's loops (lib/analysis/factored-readout.ts) do the same in the same
 * order: the same bits.
 */
export function gradRowsSlots(
  A: usize, db: usize, nTab: i32, l: usize, tab: usize, off: usize, G: i32, K: i32,
  b: usize, mult: usize, y: usize, t0: i32, t1: i32, eps: f64, code: usize, P: usize,
  A0: usize, db0: usize, sPos: usize, sN: usize, nSlots: i32,
): f64 {
  memory.copy(A, A0, <usize>nTab << 3);
  memory.copy(db, db0, <usize>K << 3);
  let loss: f64 = 0;
  for (let t = t0; t < t1; t++) {
    const c = load<i32>(ati(code, t));
    const p = at(P, (c >> 1) * K);
    if ((c & 1) != 0) {
      gatherRow(p, tab, off, t, G, K, b);
      let max = -Infinity;
      for (let k = 0; k < K; k++) {
        const v = load<f64>(at(p, k));
        if (v > max) max = v;
      }
      let sum: f64 = 0;
      const mv = f64x2.splat(max);
      let k = 0;
      for (; k + 2 <= K; k += 2) {
        const e = exp2vAll(f64x2.sub(v128.load(at(p, k)), mv));
        v128.store(at(p, k), e);
        sum += load<f64>(at(mult, k)) * f64x2.extract_lane(e, 0);
        sum += load<f64>(at(mult, k + 1)) * f64x2.extract_lane(e, 1);
      }
      if (k < K) {
        const e = f64x2.extract_lane(exp2vAll(f64x2.splat(load<f64>(at(p, k)) - max)), 0);
        store<f64>(at(p, k), e);
        sum += load<f64>(at(mult, k)) * e;
      }
      const inv = 1 / sum;
      const iv = f64x2.splat(inv);
      k = 0;
      for (; k + 2 <= K; k += 2) v128.store(at(p, k), f64x2.mul(v128.load(at(p, k)), iv));
      if (k < K) store<f64>(at(p, k), load<f64>(at(p, k)) * inv);
    }
    loss -= jsLog(load<f64>(at(p, load<i32>(ati(y, t)))) + eps);
  }
  for (let s = 0; s < nSlots; s++) {
    let d = at(P, s * K);
    const n = load<f64>(at(sN, s));
    if (n != 1) {
      const nv = f64x2.splat(n);
      let k = 0;
      for (; k + 2 <= K; k += 2) v128.store(at(l, k), f64x2.mul(v128.load(at(d, k)), nv));
      if (k < K) store<f64>(at(l, k), load<f64>(at(d, k)) * n);
      d = l;
    }
    let k = 0;
    for (; k + 2 <= K; k += 2) v128.store(at(db, k), f64x2.add(v128.load(at(db, k)), v128.load(at(d, k))));
    if (k < K) store<f64>(at(db, k), load<f64>(at(db, k)) + load<f64>(at(d, k)));
    const o = ati(off, load<i32>(ati(sPos, s)) * G);
    for (let g = 0; g < G; g++) {
      const a = at(A, load<i32>(ati(o, g)));
      k = 0;
      for (; k + 2 <= K; k += 2) v128.store(at(a, k), f64x2.add(v128.load(at(a, k)), v128.load(at(d, k))));
      if (k < K) store<f64>(at(a, k), load<f64>(at(a, k)) + load<f64>(at(d, k)));
    }
  }
  return loss;
}

// ---------------------------------------------------------------------------------------
// exp, two lanes at a time, bit for bit JavaScript's Math.exp, with fdlibm's small-argument
// branches in the lanes too

const EXP_HALF = reinterpret<f64>(0x3FD62E4300000000); // the smallest |x| whose high word is above 0.5·ln2's
const EXP_TINY = reinterpret<f64>(0x3E30000000000000); // 2^-28

/**
 * (exp x0, exp x1), each equal to Math.exp's, as exp2v but without handing the softmax's
 * usual arguments (|x| < 1.5·ln2) to expScalar one lane at a time: __ieee754_exp's k = ±1
 * branch is the general one with t = ±1 (x - t·ln2HI and t·ln2LO are its hi and lo, the same
 * bits); its k = 0 branch is the general one with t = 0 (hi = x, lo = 0, and
 * 1 - ((0 - x·c/(2 - c)) - x) is its 1 - (x·c/(c - 2) - x): c - 2 = -(2 - c) exactly, so the
 * quotients differ only in sign); |x| < 2^-28 gives 1 + x. Only x = 1 (fdlibm's exact e),
 * |x| ≥ 700 and NaN still go to expScalar.
 */
// @ts-ignore: decorator
@inline function exp2vAll(x: v128): v128 {
  const ax = f64x2.abs(x);
  const neg = f64x2.lt(x, f64x2.splat(0));
  const half = v128.bitselect(f64x2.splat(-0.5), f64x2.splat(0.5), neg);
  const tg = f64x2.convert_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(f64x2.add(f64x2.mul(f64x2.splat(invln2), x), half)));
  const tmid = v128.bitselect(f64x2.splat(-1), f64x2.splat(1), neg);
  let t = v128.bitselect(tg, tmid, f64x2.ge(ax, f64x2.splat(EXP_LO)));
  t = v128.bitselect(t, f64x2.splat(0), f64x2.ge(ax, f64x2.splat(EXP_HALF)));
  const ki = i32x4.trunc_sat_f64x2_s_zero(t);
  let e = expReduced(x, t, ki);
  e = v128.bitselect(e, f64x2.add(f64x2.splat(1), x), f64x2.ge(ax, f64x2.splat(EXP_TINY)));
  const fast = v128.and(f64x2.lt(ax, f64x2.splat(700)), f64x2.ne(x, f64x2.splat(1)));
  if (!i64x2.all_true(fast)) {
    if (i64x2.extract_lane(fast, 0) == 0) e = f64x2.replace_lane(e, 0, expScalar(f64x2.extract_lane(x, 0)));
    if (i64x2.extract_lane(fast, 1) == 0) e = f64x2.replace_lane(e, 1, expScalar(f64x2.extract_lane(x, 1)));
  }
  return e;
}

/** OUT[i] = exp(IN[i]) for i < n (n even), by exp2vAll: for the tests. */
export function expTestAll(IN: usize, OUT: usize, n: i32): void {
  for (let i = 0; i < n; i += 2) v128.store(at(OUT, i), exp2vAll(v128.load(at(IN, i))));
}

/** x[i] = x[i] - s·y[i] for i < n: a gradient step, rounded as the JavaScript loop rounds it (no fused multiply-add). */
export function subScaled(x: usize, y: usize, n: i32, s: f64): void {
  const sv = f64x2.splat(s);
  let i = 0;
  for (; i + 2 <= n; i += 2) v128.store(at(x, i), f64x2.sub(v128.load(at(x, i)), f64x2.mul(sv, v128.load(at(y, i)))));
  if (i < n) store<f64>(at(x, i), load<f64>(at(x, i)) - s * load<f64>(at(y, i)));
}

// ---------------------------------------------------------------------------------------
// L-BFGS vector steps (lib/analysis/rebuild.ts fitReadout): the two-loop recursion, the
// trial point, the new pair and the gradient's scaling, over θ of length n. Each dot
// product is summed over j in order from 0, as the JavaScript loops sum it (f64x2 lanes
// hold the element-wise products and differences; their two lanes are added to the sum
// one after the other), so the same bits.

/** Σ_j a[j]·b[j], j = 0..n-1 in order. */
export function dotInOrder(a: usize, b: usize, n: i32): f64 {
  let s: f64 = 0;
  let j = 0;
  for (; j + 2 <= n; j += 2) {
    const p = f64x2.mul(v128.load(at(a, j)), v128.load(at(b, j)));
    s += f64x2.extract_lane(p, 0);
    s += f64x2.extract_lane(p, 1);
  }
  if (j < n) s += load<f64>(at(a, j)) * load<f64>(at(b, j));
  return s;
}

/**
 * lib/analysis/rebuild.ts lbfgsDirection: q = H_k·g from m pairs (byte addresses Sp[i],
 * Yp[i] (i32), oldest first; rho, sy, yy (f64) per pair), H_0 = sy/yy of the newest pair
 * (without pairs 1 / max(1, |g|)); alpha is scratch of m. Returns the slope -g·q.
 */
export function lbfgsDir(q: usize, g: usize, Sp: usize, Yp: usize, rho: usize, sy: usize, yy: usize, m: i32, alpha: usize, n: i32): f64 {
  memory.copy(q, g, <usize>n << 3);
  let acc: f64 = m > 0 ? dotInOrder(<usize>load<i32>(ati(Sp, m - 1)), q, n) : 0;
  for (let i = m - 1; i >= 0; i--) {
    const a = load<f64>(at(rho, i)) * acc;
    store<f64>(at(alpha, i), a);
    const yi = <usize>load<i32>(ati(Yp, i));
    const av = f64x2.splat(a);
    let j = 0;
    if (i > 0) {
      const sn = <usize>load<i32>(ati(Sp, i - 1));
      let sum: f64 = 0;
      for (; j + 2 <= n; j += 2) {
        const v = f64x2.sub(v128.load(at(q, j)), f64x2.mul(av, v128.load(at(yi, j))));
        v128.store(at(q, j), v);
        const p = f64x2.mul(v128.load(at(sn, j)), v);
        sum += f64x2.extract_lane(p, 0);
        sum += f64x2.extract_lane(p, 1);
      }
      if (j < n) {
        const v = load<f64>(at(q, j)) - a * load<f64>(at(yi, j));
        store<f64>(at(q, j), v);
        sum += load<f64>(at(sn, j)) * v;
      }
      acc = sum;
    } else {
      for (; j + 2 <= n; j += 2) v128.store(at(q, j), f64x2.sub(v128.load(at(q, j)), f64x2.mul(av, v128.load(at(yi, j)))));
      if (j < n) store<f64>(at(q, j), load<f64>(at(q, j)) - a * load<f64>(at(yi, j)));
    }
  }
  const gamma: f64 = m > 0 ? load<f64>(at(sy, m - 1)) / load<f64>(at(yy, m - 1)) : 1 / Math.max(1, Math.sqrt(dotInOrder(g, g, n)));
  {
    const next = m > 0 ? <usize>load<i32>(ati(Yp, 0)) : g;
    const gv = f64x2.splat(gamma);
    let sum: f64 = 0;
    let j = 0;
    for (; j + 2 <= n; j += 2) {
      const v = f64x2.mul(v128.load(at(q, j)), gv);
      v128.store(at(q, j), v);
      const p = f64x2.mul(v128.load(at(next, j)), v);
      sum += f64x2.extract_lane(p, 0);
      sum += f64x2.extract_lane(p, 1);
    }
    if (j < n) {
      const v = load<f64>(at(q, j)) * gamma;
      store<f64>(at(q, j), v);
      sum += load<f64>(at(next, j)) * v;
    }
    acc = sum;
  }
  for (let i = 0; i < m; i++) {
    const c = load<f64>(at(alpha, i)) - load<f64>(at(rho, i)) * acc;
    const si = <usize>load<i32>(ati(Sp, i));
    const next = i + 1 < m ? <usize>load<i32>(ati(Yp, i + 1)) : g;
    const cv = f64x2.splat(c);
    let sum: f64 = 0;
    let j = 0;
    for (; j + 2 <= n; j += 2) {
      const v = f64x2.add(v128.load(at(q, j)), f64x2.mul(v128.load(at(si, j)), cv));
      v128.store(at(q, j), v);
      const p = f64x2.mul(v128.load(at(next, j)), v);
      sum += f64x2.extract_lane(p, 0);
      sum += f64x2.extract_lane(p, 1);
    }
    if (j < n) {
      const v = load<f64>(at(q, j)) + load<f64>(at(si, j)) * c;
      store<f64>(at(q, j), v);
      sum += load<f64>(at(next, j)) * v;
    }
    acc = sum;
  }
  return -acc;
}

/** out[j] = x[j] - s·y[j] for j < n (the line search's trial point). */
export function subScaledTo(out: usize, x: usize, y: usize, n: i32, s: f64): void {
  const sv = f64x2.splat(s);
  let j = 0;
  for (; j + 2 <= n; j += 2) v128.store(at(out, j), f64x2.sub(v128.load(at(x, j)), f64x2.mul(sv, v128.load(at(y, j)))));
  if (j < n) store<f64>(at(out, j), load<f64>(at(x, j)) - s * load<f64>(at(y, j)));
}

/** s = xn - x, y = gn - g (j < n); returns Σ_j s[j]·y[j] in order (an L-BFGS pair and its s·y). */
export function lbfgsPair(s: usize, y: usize, xn: usize, x: usize, gn: usize, g: usize, n: i32): f64 {
  let sum: f64 = 0;
  let j = 0;
  for (; j + 2 <= n; j += 2) {
    const a = f64x2.sub(v128.load(at(xn, j)), v128.load(at(x, j)));
    const b = f64x2.sub(v128.load(at(gn, j)), v128.load(at(g, j)));
    v128.store(at(s, j), a);
    v128.store(at(y, j), b);
    const p = f64x2.mul(a, b);
    sum += f64x2.extract_lane(p, 0);
    sum += f64x2.extract_lane(p, 1);
  }
  if (j < n) {
    const a = load<f64>(at(xn, j)) - load<f64>(at(x, j));
    const b = load<f64>(at(gn, j)) - load<f64>(at(g, j));
    store<f64>(at(s, j), a);
    store<f64>(at(y, j), b);
    sum += a * b;
  }
  return sum;
}

/** x[j] = x[j] / d for j < n (a division, as the JavaScript loop divides). */
export function divBy(x: usize, n: i32, d: f64): void {
  const dv = f64x2.splat(d);
  let j = 0;
  for (; j + 2 <= n; j += 2) v128.store(at(x, j), f64x2.div(v128.load(at(x, j)), dv));
  if (j < n) store<f64>(at(x, j), load<f64>(at(x, j)) / d);
}

// ---------------------------------------------------------------------------------------
// fillTables and gradWeights two rows at a time: each load of Wᵀ (fillTables2) or of A
// (gradWeights2) serves two outputs. Every output is summed as in the one-row kernels
// (the same groups of four, in the same order), so the same bits.

/** fillTables with two table rows u, u+1 per pass over Wᵀ (a last odd row alone): the same sums, the same bits. */
export function fillTables2(tab: usize, nTab: i32, R: usize, rOff: usize, U: usize, base: usize, G: i32, w: i32, K: i32, Wt: usize): void {
  memory.fill(tab, 0, <usize>nTab << 3);
  for (let g = 0; g < G; g++) {
    const Rg = at(R, load<i32>(ati(rOff, g)));
    const Ug = load<i32>(ati(U, g));
    const tg = at(tab, load<i32>(ati(base, g)));
    let u = 0;
    for (; u + 2 <= Ug; u += 2) {
      const to = at(tg, u * K);
      const tp = at(to, K);
      const ro = at(Rg, u * w);
      const rp = at(ro, w);
      let j = 0;
      for (; j + 4 <= w; j += 4) {
        const r0 = v128.load64_splat(at(ro, j)), r1 = v128.load64_splat(at(ro, j + 1));
        const r2 = v128.load64_splat(at(ro, j + 2)), r3 = v128.load64_splat(at(ro, j + 3));
        const q0 = v128.load64_splat(at(rp, j)), q1 = v128.load64_splat(at(rp, j + 1));
        const q2 = v128.load64_splat(at(rp, j + 2)), q3 = v128.load64_splat(at(rp, j + 3));
        const w0 = at(Wt, (g * w + j) * K), w1 = at(w0, K), w2 = at(w1, K), w3 = at(w2, K);
        let k = 0;
        for (; k + 2 <= K; k += 2) {
          const x0 = v128.load(at(w0, k)), x1 = v128.load(at(w1, k)), x2 = v128.load(at(w2, k)), x3 = v128.load(at(w3, k));
          const s = f64x2.add(f64x2.add(f64x2.add(f64x2.mul(r0, x0), f64x2.mul(r1, x1)), f64x2.mul(r2, x2)), f64x2.mul(r3, x3));
          const t = f64x2.add(f64x2.add(f64x2.add(f64x2.mul(q0, x0), f64x2.mul(q1, x1)), f64x2.mul(q2, x2)), f64x2.mul(q3, x3));
          v128.store(at(to, k), f64x2.add(v128.load(at(to, k)), s));
          v128.store(at(tp, k), f64x2.add(v128.load(at(tp, k)), t));
        }
        if (k < K) {
          const x0 = load<f64>(at(w0, k)), x1 = load<f64>(at(w1, k)), x2 = load<f64>(at(w2, k)), x3 = load<f64>(at(w3, k));
          const s = f64x2.extract_lane(r0, 0) * x0 + f64x2.extract_lane(r1, 0) * x1 + f64x2.extract_lane(r2, 0) * x2 + f64x2.extract_lane(r3, 0) * x3;
          const t = f64x2.extract_lane(q0, 0) * x0 + f64x2.extract_lane(q1, 0) * x1 + f64x2.extract_lane(q2, 0) * x2 + f64x2.extract_lane(q3, 0) * x3;
          store<f64>(at(to, k), load<f64>(at(to, k)) + s);
          store<f64>(at(tp, k), load<f64>(at(tp, k)) + t);
        }
      }
      for (; j < w; j++) {
        const r = load<f64>(at(ro, j));
        const q = load<f64>(at(rp, j));
        const rv = f64x2.splat(r);
        const qv = f64x2.splat(q);
        const wo = at(Wt, (g * w + j) * K);
        let k = 0;
        for (; k + 2 <= K; k += 2) {
          const x = v128.load(at(wo, k));
          v128.store(at(to, k), f64x2.add(v128.load(at(to, k)), f64x2.mul(rv, x)));
          v128.store(at(tp, k), f64x2.add(v128.load(at(tp, k)), f64x2.mul(qv, x)));
        }
        if (k < K) {
          const x = load<f64>(at(wo, k));
          store<f64>(at(to, k), load<f64>(at(to, k)) + r * x);
          store<f64>(at(tp, k), load<f64>(at(tp, k)) + q * x);
        }
      }
    }
    if (u < Ug) fillRow(at(tg, u * K), at(Rg, u * w), g, w, K, Wt);
  }
}

/** gradWeights with two columns j, j+1 of dWᵀ per pass over A (a last odd column alone): the same sums, the same bits. */
export function gradWeights2(Wt: usize, H: i32, A: usize, R: usize, rOff: usize, U: usize, base: usize, G: i32, w: i32, K: i32): void {
  memory.fill(Wt, 0, <usize>(H * K) << 3);
  for (let g = 0; g < G; g++) {
    const Rg = at(R, load<i32>(ati(rOff, g)));
    const Ug = load<i32>(ati(U, g));
    const ag = at(A, load<i32>(ati(base, g)));
    let j = 0;
    for (; j + 2 <= w; j += 2) {
      const wo = at(Wt, (g * w + j) * K);
      const wp = at(wo, K);
      let u = 0;
      for (; u + 4 <= Ug; u += 4) {
        const r0 = v128.load64_splat(at(Rg, u * w + j)), r1 = v128.load64_splat(at(Rg, (u + 1) * w + j));
        const r2 = v128.load64_splat(at(Rg, (u + 2) * w + j)), r3 = v128.load64_splat(at(Rg, (u + 3) * w + j));
        const q0 = v128.load64_splat(at(Rg, u * w + j + 1)), q1 = v128.load64_splat(at(Rg, (u + 1) * w + j + 1));
        const q2 = v128.load64_splat(at(Rg, (u + 2) * w + j + 1)), q3 = v128.load64_splat(at(Rg, (u + 3) * w + j + 1));
        const a0 = at(ag, u * K), a1 = at(a0, K), a2 = at(a1, K), a3 = at(a2, K);
        let k = 0;
        for (; k + 2 <= K; k += 2) {
          const x0 = v128.load(at(a0, k)), x1 = v128.load(at(a1, k)), x2 = v128.load(at(a2, k)), x3 = v128.load(at(a3, k));
          const s = f64x2.add(f64x2.add(f64x2.add(f64x2.mul(r0, x0), f64x2.mul(r1, x1)), f64x2.mul(r2, x2)), f64x2.mul(r3, x3));
          const t = f64x2.add(f64x2.add(f64x2.add(f64x2.mul(q0, x0), f64x2.mul(q1, x1)), f64x2.mul(q2, x2)), f64x2.mul(q3, x3));
          v128.store(at(wo, k), f64x2.add(v128.load(at(wo, k)), s));
          v128.store(at(wp, k), f64x2.add(v128.load(at(wp, k)), t));
        }
        if (k < K) {
          const x0 = load<f64>(at(a0, k)), x1 = load<f64>(at(a1, k)), x2 = load<f64>(at(a2, k)), x3 = load<f64>(at(a3, k));
          const s = f64x2.extract_lane(r0, 0) * x0 + f64x2.extract_lane(r1, 0) * x1 + f64x2.extract_lane(r2, 0) * x2 + f64x2.extract_lane(r3, 0) * x3;
          const t = f64x2.extract_lane(q0, 0) * x0 + f64x2.extract_lane(q1, 0) * x1 + f64x2.extract_lane(q2, 0) * x2 + f64x2.extract_lane(q3, 0) * x3;
          store<f64>(at(wo, k), load<f64>(at(wo, k)) + s);
          store<f64>(at(wp, k), load<f64>(at(wp, k)) + t);
        }
      }
      for (; u < Ug; u++) {
        const r = load<f64>(at(Rg, u * w + j));
        const q = load<f64>(at(Rg, u * w + j + 1));
        const rv = f64x2.splat(r);
        const qv = f64x2.splat(q);
        const ao = at(ag, u * K);
        let k = 0;
        for (; k + 2 <= K; k += 2) {
          const x = v128.load(at(ao, k));
          v128.store(at(wo, k), f64x2.add(v128.load(at(wo, k)), f64x2.mul(rv, x)));
          v128.store(at(wp, k), f64x2.add(v128.load(at(wp, k)), f64x2.mul(qv, x)));
        }
        if (k < K) {
          const x = load<f64>(at(ao, k));
          store<f64>(at(wo, k), load<f64>(at(wo, k)) + r * x);
          store<f64>(at(wp, k), load<f64>(at(wp, k)) + q * x);
        }
      }
    }
    if (j < w) gradRow(Wt, Rg, ag, Ug, g, w, j, K);
  }
}

// ---------------------------------------------------------------------------------------
// a readout with repeated rows, four states at a time (lib/analysis/rebuild-score.ts
// distinctReadout): the logits of the D distinct (Wy row, by) pairs by mv4, spread to all V
// outputs, logSoftmax4, and written out row by row: the same operations as the JavaScript
// driver's loops around mv4 and logSoftmax4, so the same bits.

/**
 * For t = 0..T-1 in fours (T a multiple of 4): logp[t*V + o] = log softmax over o of
 * (init[ofs[o]] + Σ_j M[ofs[o]*H + j] · S[t*H + j]), S (T, H) f32, M (D, H), init (D),
 * ofs (V, i32). v (H, 4), out (D, 4) and full (V, 4) are scratch.
 */
export function distinctLogp4(logp: usize, S: usize, T: i32, H: i32, M: usize, D: i32, init: usize, ofs: usize, V: i32, v: usize, out: usize, full: usize): void {
  for (let t = 0; t + 4 <= T; t += 4) {
    for (let c = 0; c < 4; c++) {
      const s = S + (<usize>((t + c) * H) << 2);
      for (let j = 0; j < H; j++) store<f64>(at(v, j * 4 + c), <f64>load<f32>(ati(s, j)));
    }
    mv4(out, M, D, H, v, init);
    for (let o = 0; o < V; o++) {
      const q = at(out, load<i32>(ati(ofs, o)) * 4);
      const f = at(full, o * 4);
      v128.store(f, v128.load(q));
      v128.store(f, v128.load(q, 16), 16);
    }
    logSoftmax4(full, V);
    for (let c = 0; c < 4; c++) {
      const l = at(logp, (t + c) * V);
      for (let o = 0; o < V; o++) store<f64>(at(l, o), load<f64>(at(full, o * 4 + c)));
    }
  }
}
