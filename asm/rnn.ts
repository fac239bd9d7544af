// WebAssembly SIMD kernels for training the Elman RNN (paper §2, eqs. 3-4; SPEC §2).
// AssemblyScript, built by `npm run build:wasm` into build/rnn.wasm and driven by
// lib/rnn/wasm-kernel.ts. Same mathematics as the naive twin lib/rnn/bptt.ts (read it
// first) and the blocked TypeScript kernel lib/rnn/bptt-blocked.ts, in f32x4:
//
//   forward, per step:   z = Wx[:, x] + Wh·S[t-1] + bh,  S[t] = tanh(z)
//   over the chunk:      Y  (K, V) = Sc · Wyᵀ + by         softmax, loss, dY = p - onehot
//                        dS (K, H) = dY · Wy
//                        dWy += dYᵀ · Sc    dby += Σ dY
//   backward, per step:  dz = (1 - S²) ⊙ (dS + dhnext),  dhnext = Whᵀ·dz
//   over the chunk:      dWh += dZᵀ · Sp    dbh += Σ dZ    dWx[:, x_t] += dz_t
//
// All pointers are byte addresses in this module's memory, laid out by the driver; every
// array is f32, row-major, 16-byte aligned:
//   P, G, M, Q (n = paramCount(H)): weights, gradient, Adam moments, authors' layout
//     Wx (H, V) | Wh (H, H) | bh (H) | Wy (V, H) | by (V)
//   X (N bytes): the data
//   HS (K+1, H): HS row 0 = S[start-1] (the carried state), row k+1 = S[start+k]
//   Y (K, V): logits, then dY      D (K, H): dS, then dZ      DH (H): dhnext
// K = the chunk's L rounded up to a multiple of 4; rows past L hold zeros. H % 16 = 0.
// Precision: f32 everywhere, with exp and tanh by f32x4 polynomials (about 1 ulp), except
// the loss, the softmax sum and the gradient norm (f64).

const V: i32 = 256;

// ---------------------------------------------------------------------------------------
// helpers

/** (Σ a0, Σ a1, Σ a2, Σ a3): the lane sums of four accumulators, as one vector. */
// @ts-ignore: decorator
@inline function hsum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const s01 = f32x4.add(f32x4.shuffle(a0, a1, 0, 4, 1, 5), f32x4.shuffle(a0, a1, 2, 6, 3, 7));
  const s23 = f32x4.add(f32x4.shuffle(a2, a3, 0, 4, 1, 5), f32x4.shuffle(a2, a3, 2, 6, 3, 7));
  return f32x4.add(f32x4.shuffle(s01, s23, 0, 1, 4, 5), f32x4.shuffle(s01, s23, 2, 3, 6, 7));
}

// @ts-ignore: decorator
@inline function fma(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline function at(base: usize, index: i32): usize {
  return base + (<usize>index << 2);
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
// readout GEMM: Y[k][o] = by[o] + Σ_j Wy[o][j] · HS[k+1][j], blocked 2 rows × 4 outputs

function readout(P: usize, H: i32, HS: usize, Y: usize, K: i32): void {
  const Wy = at(P, H * V + H * H + H);
  const by = at(Wy, V * H);
  for (let k = 0; k < K; k += 2) {
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
// softmax rows k < L: loss, then dY = p - onehot(target) in place; rows L..K-1 zeroed

function softmax(Y: usize, X: usize, start: i32, L: i32, K: i32, maxLoss: f64): f64 {
  let loss: f64 = 0;
  for (let k = 0; k < L; k++) {
    const r = at(Y, k * V);
    let mv = v128.load(r);
    for (let o = 4; o < V; o += 4) mv = f32x4.max(mv, v128.load(at(r, o)));
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
    loss += nll < maxLoss ? nll : maxLoss;
    const inv = f32x4.splat(<f32>(1 / sum));
    for (let o = 0; o < V; o += 4) v128.store(at(r, o), f32x4.mul(v128.load(at(r, o)), inv));
    store<f32>(at(r, target), load<f32>(at(r, target)) - 1);
  }
  if (K > L) memory.fill(at(Y, L * V), 0, <usize>((K - L) * V) << 2);
  return loss;
}

// ---------------------------------------------------------------------------------------
// dS = dY · Wy: D[k][j] = Σ_o dY[k][o] Wy[o][j], blocked 4 rows × 8 columns

function backReadout(P: usize, H: i32, Y: usize, D: usize, K: i32): void {
  const Wy = at(P, H * V + H * H + H);
  for (let k = 0; k < K; k += 4) {
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
}

// ---------------------------------------------------------------------------------------
// C (M, H) = Aᵀ · B: C[m][j] = Σ_k A[k][m] · B[k][j]; A is (K, M) with row stride lda,
// B is (K, H). Blocked 4 rows of C × 8 columns. Used for dWy (A = dY) and dWh (A = dZ),
// which it overwrites: each is written once per chunk.

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

/** out[m] = Σ_k A[k][m] for m < M (a bias gradient; overwritten). */
function colSum(out: usize, A: usize, M: i32, K: i32): void {
  for (let m = 0; m < M; m += 4) {
    let s = f32x4.splat(0);
    for (let k = 0; k < K; k++) s = f32x4.add(s, v128.load(at(A, k * M + m)));
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
// entry points

/**
 * One chunk: G = the summed gradient over predictions start..start+L-1 (overwritten); HS row 0 = S[start-1] in, = S[start+L-1] out. Returns Σ min(-ln p, maxLoss).
 */
export function chunk(
  P: usize, G: usize, X: usize, HS: usize, Y: usize, D: usize, DH: usize,
  H: i32, start: i32, L: i32, maxLoss: f64,
): f64 {
  const K = (L + 3) & ~3;
  memory.fill(G, 0, <usize>(H * V) << 2); // dWx (scattered into); the rest is overwritten
  for (let k = 0; k < L; k++) {
    stepForward(P, H, <i32>load<u8>(X + <usize>(start + k)), at(HS, k * H), at(HS, (k + 1) * H));
  }
  if (K > L) memory.fill(at(HS, (L + 1) * H), 0, <usize>((K - L) * H) << 2);
  readout(P, H, HS, Y, K);
  const loss = softmax(Y, X, start, L, K, maxLoss);
  backReadout(P, H, Y, D, K);
  const gWh = at(G, H * V);
  const gbh = at(gWh, H * H);
  const gWy = at(gbh, H);
  const gby = at(gWy, V * H);
  gemmTN(gWy, Y, V, V, at(HS, H), H, K);
  colSum(gby, Y, V, K);
  backRecurrence(P, H, HS, D, DH, L);
  if (K > L) memory.fill(at(D, L * H), 0, <usize>((K - L) * H) << 2);
  gemmTN(gWh, D, H, H, HS, H, K);
  colSum(gbh, D, H, K);
  for (let k = 0; k < L; k++) {
    const x = <i32>load<u8>(X + <usize>(start + k));
    const d = at(D, k * H);
    for (let i = 0; i < H; i++) {
      const g = at(G, i * V + x);
      store<f32>(g, load<f32>(g) + load<f32>(at(d, i)));
    }
  }
  memory.copy(HS, at(HS, L * H), <usize>H << 2); // carry S[start+L-1]
  return loss;
}

/** Σ g² over n values (n % 4 = 0), accumulated in f64. */
export function sumSq(G: usize, n: i32): f64 {
  let a = f64x2.splat(0);
  let b = a;
  for (let i = 0; i < n; i += 4) {
    const g = v128.load(at(G, i));
    const lo = f64x2.promote_low_f32x4(g);
    const hi = f64x2.promote_low_f32x4(f32x4.shuffle(g, g, 2, 3, 2, 3));
    a = f64x2.add(a, f64x2.mul(lo, lo));
    b = f64x2.add(b, f64x2.mul(hi, hi));
  }
  const s = f64x2.add(a, b);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/**
 * Adam on the clipped gradient gc = scale·g: m = β1 m + (1-β1) gc, q = β2 q + (1-β2) gc²,
 * w -= lr · (m·c1) / (sqrt(q·c2) + ε), with c1 = 1/(1-β1^t), c2 = 1/(1-β2^t).
 */
export function adam(
  P: usize, G: usize, M: usize, Q: usize, n: i32,
  scale: f32, lr: f32, beta1: f32, beta2: f32, oneMinusBeta1: f32, oneMinusBeta2: f32, eps: f32, c1: f32, c2: f32,
): void {
  const vs = f32x4.splat(scale);
  const vlr = f32x4.splat(lr);
  const vb1 = f32x4.splat(beta1);
  const vb2 = f32x4.splat(beta2);
  const v1b1 = f32x4.splat(oneMinusBeta1); // 1 - β1 taken in f64 by the caller: 1 - 0.999f is 1.3e-5 off
  const v1b2 = f32x4.splat(oneMinusBeta2);
  const veps = f32x4.splat(eps);
  const vc1 = f32x4.splat(c1);
  const vc2 = f32x4.splat(c2);
  for (let i = 0; i < n; i += 4) {
    const gc = f32x4.mul(v128.load(at(G, i)), vs);
    const m = f32x4.add(f32x4.mul(vb1, v128.load(at(M, i))), f32x4.mul(v1b1, gc));
    const q = f32x4.add(f32x4.mul(vb2, v128.load(at(Q, i))), f32x4.mul(f32x4.mul(v1b2, gc), gc));
    v128.store(at(M, i), m);
    v128.store(at(Q, i), q);
    const step = f32x4.div(f32x4.mul(vlr, f32x4.mul(m, vc1)), f32x4.add(f32x4.sqrt(f32x4.mul(q, vc2)), veps));
    v128.store(at(P, i), f32x4.sub(v128.load(at(P, i)), step));
  }
}

/** SGD: w -= f · g with f = lr · scale. */
export function sgd(P: usize, G: usize, n: i32, f: f32): void {
  const vf = f32x4.splat(f);
  for (let i = 0; i < n; i += 4) {
    v128.store(at(P, i), f32x4.sub(v128.load(at(P, i)), f32x4.mul(vf, v128.load(at(G, i)))));
  }
}
