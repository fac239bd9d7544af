import { describe, expect, it } from 'vitest';
import { chunkGradNaive } from '../../lib/rnn/bptt.ts';
import { WasmKernel, wasmMath, wasmModule, wasmSupports, type WasmVariant } from '../../lib/rnn/wasm-kernel.ts';
import { ADAM, adamStep, clipScale, gradSumSq, sgdStep } from '../../lib/rnn/optim.ts';
import { train, type TrainOptions } from '../../lib/rnn/train.ts';
import { paramCount } from '../../lib/rnn/weights.ts';
import { maxDiff, randomBytes, randomFill } from './helpers.ts';

const H = 16;
const xs = randomBytes(60, 21);

function kernelWith(params: Float32Array, h0: Float32Array): WasmKernel {
  const k = new WasmKernel(wasmModule()!, H, xs, 12);
  k.params.set(params);
  k.state.set(h0);
  return k;
}

describe.skipIf(!wasmSupports(H))('WebAssembly SIMD kernel (build/rnn.wasm)', () => {
  const params = randomFill(new Float32Array(paramCount(H)), 22, 0.5);
  const h0 = randomFill(new Float32Array(H), 23, 0.8);

  it('chunk gradient, loss and carried state match the naive twin (H = 16 and 48, chunks not multiples of 4)', () => {
    for (const [Hk, start, L] of [[16, 5, 7], [16, 0, 12], [16, 47, 12], [48, 20, 9]]) {
      const p = randomFill(new Float32Array(paramCount(Hk)), 22, 0.5);
      const h1 = randomFill(new Float32Array(Hk), 23, 0.8);
      const g = new Float32Array(p.length);
      const h = Float32Array.from(h1);
      const loss = chunkGradNaive(g, h, p, Hk, xs, start, L, 1e-8);
      const k = new WasmKernel(wasmModule()!, Hk, xs, 12);
      k.params.set(p);
      k.state.set(h1);
      const lossW = k.chunk(start, L);
      const d = maxDiff(k.grad, g);
      console.log(`wasm vs naive chunk H=${Hk} (${start}, ${L}): gradient ${d.msg}; state ${maxDiff(k.state, h).msg}`);
      expect(d.max).toBeLessThan(1e-5);
      expect(maxDiff(k.state, h).max).toBeLessThan(1e-6);
      expect(Math.abs(lossW - loss)).toBeLessThan(1e-6 * loss);
    }
  });

  it('computes exp and tanh to about 1 ulp of float32 (f32x4 polynomials vs Math.exp / Math.tanh)', () => {
    const n = 40000;
    const grid = (lo: number, hi: number) => Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
    for (const [fn, lo, hi] of [['exp', -87, 0], ['exp', -1, 1], ['tanh', -12, 12], ['tanh', -1e-3, 1e-3]] as const) {
      const xs = grid(lo, hi);
      const ys = wasmMath(fn, xs);
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const ref = fn === 'exp' ? Math.exp(xs[i]) : Math.tanh(xs[i]);
        worst = Math.max(worst, Math.abs(ys[i] - ref) / Math.abs(ref));
      }
      console.log(`wasm ${fn} on [${lo}, ${hi}]: max rel error ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(2.5e-7); // 2 ulp at worst
    }
    expect(Array.from(wasmMath('tanh', new Float32Array([0, 9.1, -9.1, 100])))).toEqual([0, 1, -1, 1]);
    expect(wasmMath('exp', new Float32Array([-200, 0, 0, 0]))[0]).toBeLessThan(1.2e-38); // clamped, no garbage
  });

  it('zeroes the gradient and padding between chunks: the same chunk twice gives the same gradient', () => {
    const k = kernelWith(params, h0);
    k.chunk(3, 12);
    k.state.set(h0);
    k.chunk(5, 7);
    const first = Float32Array.from(k.grad);
    k.state.set(h0);
    k.chunk(5, 7);
    expect(Array.from(k.grad)).toEqual(Array.from(first));
  });

  it('gradient norm, adam and sgd match their TypeScript twins', () => {
    const k = kernelWith(params, h0);
    k.chunk(5, 7);
    const g = Float32Array.from(k.grad);
    expect(Math.abs(k.gradSumSq() - gradSumSq(g))).toBeLessThan(1e-12 * gradSumSq(g));
    const p = Float32Array.from(params);
    const m = new Float32Array(p.length);
    const v = new Float32Array(p.length);
    for (let step = 1; step <= 3; step++) {
      k.adam(0.7, step, ADAM);
      adamStep(p, g, m, v, 0.7, step, ADAM);
    }
    console.log(`wasm vs ts adam: weights ${maxDiff(k.params, p).msg}; m ${maxDiff(k.m, m).msg}; v ${maxDiff(k.q, v).msg}`);
    expect(maxDiff(k.params, p).max).toBeLessThan(1e-6);
    expect(maxDiff(k.m, m).max).toBeLessThan(1e-6);
    expect(maxDiff(k.q, v).max).toBeLessThan(1e-6);
    k.sgd(0.5, 0.01);
    sgdStep(p, g, 0.5, 0.01);
    expect(maxDiff(k.params, p).max).toBeLessThan(1e-6);
  });

  it('trains like the naive twin after a few epochs (sgd and adam)', () => {
    const data = randomBytes(256, 24);
    const opt: TrainOptions = { hidden: H, epochs: 3, optimizer: 'sgd', seed: 42, bptt: 50, evalEvery: 10 };
    for (const optimizer of ['sgd', 'adam'] as const) {
      const n = train(data, { ...opt, optimizer }, { backend: 'naive' });
      const w = train(data, { ...opt, optimizer }, { backend: 'wasm-simd' });
      expect(w.kernel).toBe('wasm-simd');
      const loss = maxDiff(w.curveTrainBpc, n.curveTrainBpc);
      const wt = maxDiff(w.finalParams, n.finalParams);
      console.log(`wasm vs naive, ${optimizer}, 3 epochs: bpc ${loss.msg}; weights ${wt.msg}`);
      expect(loss.max).toBeLessThan(1e-8);
      expect(wt.max).toBeLessThan(1e-6);
    }
  });

  it('gives the same bits on one thread and on two (the worker joining part of the commands)', () => {
    const Hk = 32;
    const data = randomBytes(203, 25);
    const p0 = randomFill(new Float32Array(paramCount(Hk)), 26, 0.3);
    const run = (threads: number) => {
      const k = new WasmKernel(wasmModule()!, Hk, data, 10, threads);
      if (threads === 2) expect(k.waitForWorker()).toBe(true);
      k.awaitWorker = threads === 2;
      k.params.set(p0);
      const losses: number[] = [];
      for (let e = 1; e <= 3; e++) {
        k.state.fill(0);
        for (let start = 0; start < data.length - 1; start += 10) {
          losses.push(k.chunk(start, Math.min(10, data.length - 1 - start)), k.gradSumSq());
          if (e === 2) k.adam(clipScale(k.gradSumSq()), start + 1, ADAM);
          else k.sgd(clipScale(k.gradSumSq()), 0.05);
        }
      }
      const out = { params: Float32Array.from(k.params), m: Float32Array.from(k.m), losses, joins: k.workerJoins, tasks: k.workerTasks };
      k.dispose();
      return out;
    };
    const one = run(1);
    const two = run(2);
    console.log(`two threads: the worker joined ${two.joins} of ${2 * 3 * 21} commands and ran ${two.tasks} tasks`);
    expect(two.joins).toBe(2 * 3 * 21);
    expect(two.tasks).toBeGreaterThan(0);
    expect(Buffer.from(two.params.buffer).equals(Buffer.from(one.params.buffer))).toBe(true);
    expect(Buffer.from(two.m.buffer).equals(Buffer.from(one.m.buffer))).toBe(true);
    expect(two.losses).toEqual(one.losses);
  });

  it('trains to the same bits with threads 1, 2 and auto', () => {
    const data = randomBytes(300, 27);
    const opt: TrainOptions = { hidden: 32, epochs: 10, optimizer: 'sgd', seed: 3, bptt: 13, evalEvery: 5 };
    const [a, b, c] = ([1, 2, 'auto'] as const).map((threads) => train(data, opt, { backend: 'wasm-simd', threads }));
    for (const r of [b, c]) {
      expect(Buffer.from(r.finalParams.buffer).equals(Buffer.from(a.finalParams.buffer))).toBe(true);
      expect(Array.from(r.curveTrainBpc)).toEqual(Array.from(a.curveTrainBpc));
    }
  });

  it('gives bit-identical weights for the same seed', () => {
    const opt: TrainOptions = { hidden: H, epochs: 4, optimizer: 'adam', seed: 5, bptt: 10, evalEvery: 10 };
    const a = train(xs, opt, { backend: 'wasm-simd' });
    const b = train(xs, opt, { backend: 'wasm-simd' });
    expect(Buffer.from(a.params.buffer).equals(Buffer.from(b.params.buffer))).toBe(true);
    expect(Buffer.from(a.finalParams.buffer).equals(Buffer.from(b.finalParams.buffer))).toBe(true);
  });
});

const relaxed: WasmVariant = 'wasm-relaxed';
describe.skipIf(!wasmSupports(H, relaxed))('WebAssembly relaxed-SIMD kernel (build/rnn-relaxed.wasm, fused multiply-adds)', () => {
  it('chunk gradient and loss match the naive twin', () => {
    const p = randomFill(new Float32Array(paramCount(48)), 22, 0.5);
    const h1 = randomFill(new Float32Array(48), 23, 0.8);
    const g = new Float32Array(p.length);
    const h = Float32Array.from(h1);
    const loss = chunkGradNaive(g, h, p, 48, xs, 20, 9, 1e-8);
    const k = new WasmKernel(wasmModule(relaxed)!, 48, xs, 12);
    k.params.set(p);
    k.state.set(h1);
    const lossW = k.chunk(20, 9);
    console.log(`relaxed vs naive chunk: gradient ${maxDiff(k.grad, g).msg}; state ${maxDiff(k.state, h).msg}`);
    expect(maxDiff(k.grad, g).max).toBeLessThan(1e-5);
    expect(maxDiff(k.state, h).max).toBeLessThan(1e-6);
    expect(Math.abs(lossW - loss)).toBeLessThan(1e-6 * loss);
  });

  it('trains like the naive twin after several epochs, and rounds differently from wasm-simd', () => {
    const data = randomBytes(256, 24);
    const opt: TrainOptions = { hidden: 32, epochs: 6, optimizer: 'sgd', seed: 42, bptt: 50, evalEvery: 10 };
    const n = train(data, opt, { backend: 'naive' });
    const r = train(data, opt, { backend: relaxed, threads: 2 });
    const w = train(data, opt, { backend: 'wasm-simd' });
    expect(r.kernel).toBe('wasm-relaxed');
    const loss = maxDiff(r.curveTrainBpc, n.curveTrainBpc);
    const wt = maxDiff(r.finalParams, n.finalParams);
    console.log(`relaxed vs naive, 6 epochs: bpc ${loss.msg}; weights ${wt.msg}`);
    expect(loss.max).toBeLessThan(1e-6);
    expect(wt.max).toBeLessThan(1e-6);
    // FMA rounds once where multiply-then-add rounds twice: the two binaries are different
    // kernels (and different cache entries), not two names for the same bits
    expect(Buffer.from(r.finalParams.buffer).equals(Buffer.from(w.finalParams.buffer))).toBe(false);
  });
});
