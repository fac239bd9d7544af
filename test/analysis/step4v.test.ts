// The ablation's WebAssembly kernels against their scalar twins, bit for bit: the
// four-chain step with tanh two lanes at a time (asm/dense.ts step4v, tanh2v) against
// Math.tanh and step4 (the scalar-tanh kernel, itself the JavaScript squash's bits), and the
// readout of four chains' targets (readoutPick4) against readoutLogp.
import { describe, expect, it } from 'vitest';
import { denseArena, denseModule } from '../../lib/rnn/wasm-dense.ts';
import { readoutLogp } from '../../lib/rnn/forward.ts';
import { V, paramCount, weightsFrom } from '../../lib/rnn/weights.ts';

const rng = (seed: number) => () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);

describe.skipIf(!denseModule())('step4v and tanh2v (build/dense.wasm)', () => {
  it('tanh two lanes at a time is Math.tanh bit for bit (float32 arguments, every expm1 branch, the special values)', () => {
    const n = 1 << 20;
    const d = denseArena({ x: ['f64', n], t: ['f64', n] })!;
    const x = d.v.x;
    const rnd = rng(777);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (let i = 0; i < n; i++) {
      if (i % 3 === 0) {
        u[0] = (rnd() * 2 ** 32) >>> 0; // any float32 bit pattern
        x[i] = f[0];
      } else x[i] = (rnd() - 0.5) * [1e-9, 0.7, 2.2, 8, 30, 50, 100][i % 7];
    }
    const edges = [0, -0, 1, -1, 22, -22, 21.99, -21.99, 2 ** -28, -(2 ** -28), 2 ** -29, 5e-324, -5e-324, 0.5, 0.25, -0.25, 0.17328679513998632, 0.1732867951399863,
      0.5198603854199589, 0.519860385419959, 0.75 * Math.LN2, 10 * Math.LN2, 9.75 * Math.LN2, 10.25 * Math.LN2, 28 * Math.LN2, 19.6, 19.8, NaN, Infinity, -Infinity, 1e300, -1e300];
    x.set(edges);
    d.x.tanhTest(d.p.x, d.p.t, n);
    const bad: number[] = [];
    for (let i = 0; i < n; i++) if (!Object.is(d.v.t[i], Math.tanh(x[i]))) bad.push(i);
    expect(bad.length, `first: ${bad.slice(0, 3).map((i) => `tanh(${x[i]}) = ${d.v.t[i]}, Math.tanh ${Math.tanh(x[i])}`).join('; ')}`).toBe(0);
  });

  it('step4v gives step4\'s next states bit for bit (inputs and the ablated chain, saturating and small pre-activations)', () => {
    for (const [H, scale] of [[128, 0.3], [37, 3], [16, 0.01]] as const) {
      const d = denseArena({
        M: ['f64', H * H], prev: ['f64', 4 * H], a: ['f64', 4 * H], b: ['f64', 4 * H], v: ['f64', 4 * H], out: ['f64', 4 * H], Wx: ['f32', H * 256], bh: ['f32', H],
      })!;
      const rnd = rng(H);
      for (let i = 0; i < H * H; i++) d.v.M[i] = Math.fround((rnd() - 0.5) * scale);
      for (let i = 0; i < H * 256; i++) d.v.Wx[i] = (rnd() - 0.5) * 4 * scale;
      for (let i = 0; i < H; i++) d.v.bh[i] = (rnd() - 0.5) * scale;
      for (let i = 0; i < 4 * H; i++) d.v.prev[i] = Math.fround(rnd() * 2 - 1);
      for (const xs of [[1, 2, 3, 4], [-1, -1, -1, -1], [-1, 200, 0, -1], [255, -1, 7, 7]]) {
        d.x.step4(d.p.a, d.p.prev, d.p.v, d.p.out, d.p.M, H, d.p.Wx, d.p.bh, xs[0], xs[1], xs[2], xs[3]);
        d.x.step4v(d.p.b, d.p.prev, d.p.v, d.p.out, d.p.M, H, d.p.Wx, d.p.bh, xs[0], xs[1], xs[2], xs[3]);
        const bad: number[] = [];
        for (let i = 0; i < 4 * H; i++) if (!Object.is(d.v.a[i], d.v.b[i])) bad.push(i);
        let max = 0;
        for (let i = 0; i < 4 * H; i++) max = Math.max(max, Math.abs(d.v.a[i] - d.v.b[i]));
        expect(bad.length, `H=${H} bytes ${xs}: max difference ${max}, first at ${bad[0]}: ${d.v.a[bad[0]]} vs ${d.v.b[bad[0]]}`).toBe(0);
        d.v.prev.set(d.v.b); // and step on from there
      }
    }
  });

  it('readoutPick4 gives readoutLogp\'s log-probability at each chain\'s target, bit for bit', () => {
    for (const H of [128, 7]) {
      const rnd = rng(300 + H);
      const w = weightsFrom(Float32Array.from({ length: paramCount(H) }, () => (rnd() - 0.5) * 3), H);
      const d = denseArena({ Wy: ['f64', V * H], by: ['f64', V], h: ['f64', 4 * H], v: ['f64', 4 * H], L: ['f64', 4 * V], out: ['f64', 4] })!;
      for (let i = 0; i < V * H; i++) d.v.Wy[i] = w.Wy[i];
      for (let q = 0; q < V; q++) d.v.by[q] = w.by[q];
      const row = new Float64Array(V);
      for (let rep = 0; rep < 20; rep++) {
        for (let i = 0; i < 4 * H; i++) d.v.h[i] = Math.fround(rnd() * 2 - 1);
        const o = [0, 1, 2, 3].map(() => Math.floor(rnd() * V));
        d.x.readoutPick4(d.p.out, d.p.h, d.p.v, d.p.L, d.p.Wy, d.p.by, V, H, o[0], o[1], o[2], o[3]);
        for (let c = 0; c < 4; c++) {
          readoutLogp(w, d.v.h, c * H, row, 0);
          if (!Object.is(d.v.out[c], row[o[c]])) expect.fail(`H=${H} chain ${c}: ${d.v.out[c]} vs readoutLogp ${row[o[c]]} (difference ${d.v.out[c] - row[o[c]]})`);
        }
      }
    }
  });
});
