// Paper §4.1 "The shift-register is not the trained RNN" (docs/definitions.md §4.1): an Elman RNN written
// by hand from byte statistics. A 32-bit sign hash s(x, j) gives each byte an 8-unit ±1
// code; group 0 reads it (Wx = 10·s), Wh shifts group g-1 into group g (5.0), so group g
// of S[t] holds the code of x_{t-g}; by = ln((count + 0.5)/(N + 128)). The readout Wy is
// either analytic (sign-split log ratios with α smoothing, times a scale s; (α, s) from a
// grid scored by eval bpc) or optimized by 1000 full-batch gradient-descent steps. The
// trajectory S does not depend on Wy: it is computed once. Kernels: lib/analysis/
// construction.ts and factored-readout.ts.
import { defineStage } from '../lib/engine/types.ts';
import type { Weights } from '../lib/rnn/weights.ts';
import type { Params } from '../schemas/construction.params.ts';

/** A copy of the network's parameters with readout (Wy, by) in float32, authors' layout (V outputs). */
function withReadout(net: Weights, Wy: ArrayLike<number>, by: ArrayLike<number>, V: number): Float32Array {
  const p = Float32Array.from(net.params);
  const o = p.length - V * net.H - V;
  for (let i = 0; i < V * net.H; i++) p[o + i] = Wy[i];
  for (let i = 0; i < V; i++) p[o + V * net.H + i] = by[i];
  return p;
}

/** The sample record of the output (schemas/construction.output.json). */
function sampleOf(pb: { sampled: boolean; count: number; of: number; blocks: unknown[] }, p: Params) {
  return { sampled: pb.sampled, count: pb.count, of: pb.of, blocks: pb.blocks.length, blockLength: pb.sampled ? Math.min(p.blockLength, p.maxPositions) : pb.count, maxPositions: p.maxPositions };
}

// Kernels are imported inside run: a no-op build loads this file only to learn its inputs.
export default defineStage<Params>({
  name: 'construction',
  description: '§4.1: shift-register RNN built from byte statistics; analytic (α, s grid) and GD-optimized Wy',
  section: '§4.1',
  inputs: ['data'],
  // seconds a run takes on the default 1 KiB, to order a build whose cache never timed it
  expectSeconds: 1.8,
  tensors: ['paramsAnalytic', 'paramsOptimized', 'gridBpc', 'gdBits'],
  async run({ params: p, inputs, progress }) {
    const { bytesOf } = await import('../lib/rnn/io.ts');
    const { forwardStatesFast } = await import('../lib/analysis/forward-fast.ts');
    const { V } = await import('../lib/rnn/weights.ts');
    const { analyticGridOn, analyticWy, distinctCodes, grid, marginalBias, optimizeWyOn, shiftRegister, signCodes, splitCounts } = await import('../lib/analysis/construction.ts');
    const { byteClasses, factorBlocks, factoredBpc, factoredBitsBlocked, fromClasses, sampleFactored, sampleTargets, targetClasses, toClasses } = await import('../lib/analysis/factored-readout.ts');
    const { blockPositions, positionBlocks } = await import('../lib/analysis/position-blocks.ts');
    const xs = bytesOf(inputs.data);
    const N = xs.length;
    const H = p.groups * p.units;
    if (N - 2 <= p.gdFirst) {
      throw new Error(`construction: N = ${N} bytes leave no gradient-descent positions t = ${p.gdFirst}..N-3\nhint: more data (--set data.bytes=1024) or a smaller construction.gdFirst`);
    }
    const codes = signCodes(p.units);
    const net = shiftRegister(codes, p);
    const F = factorBlocks(forwardStatesFast(net, xs).S, N, H, p.units); // once: S does not depend on Wy
    const cls = byteClasses(xs);
    const y = targetClasses(xs, cls);
    const by = marginalBias(xs);
    // Above maxPositions the grid and the descent fit on evenly spread blocks of their range;
    // both bpc figures are still over every position t = 0..N-2.
    const gridPb = positionBlocks(0, N - 2, p.maxPositions, p.blockLength);
    const gdPb = positionBlocks(p.gdFirst, N - 3, p.maxPositions, p.blockLength);
    const on = (pb: typeof gridPb, t0: number, t1: number) => {
      if (!pb.sampled) return { F, y, t0, t1 };
      const pos = blockPositions(pb);
      return { F: sampleFactored(F, pos), y: sampleTargets(y, pos), t0: 0, t1: pos.length };
    };

    // analytic Wy: every (α, s) scored over t = 0..N-2 (or its sample)
    const alphas = grid(p.alphaStep, p.alphaCount);
    const scales = grid(p.scaleStep, p.scaleCount);
    const { plus, minus } = splitCounts(xs, codes, p.groups, p.units);
    progress(0, 2, 'analytic Wy grid');
    const gs = on(gridPb, 0, N - 1);
    const g = analyticGridOn(gs.F, cls, gs.y, plus, minus, by, alphas, scales, gs.t0, gs.t1, p.floor);
    const WyA = analyticWy(plus, minus, H, g.alpha);
    let analyticBpc = g.best;
    if (gridPb.sampled) {
      const out = new Float64Array(1);
      factoredBitsBlocked(out, F, toClasses(WyA, H, cls), toClasses(by, 1, cls), cls, y, 0, N - 1, [g.scale], p.floor);
      analyticBpc = out[0];
    }

    // optimized Wy: gradient descent on t = gdFirst..N-3 (or its sample), scored over t = 0..N-2
    progress(1, 2, 'optimized Wy');
    const sched = { steps: p.steps, lr: p.lr, decay: p.decay, decayAt: p.decayAt };
    const ds = on(gdPb, p.gdFirst, N - 2);
    const opt = optimizeWyOn(ds.F, cls, ds.y, by, ds.t0, ds.t1, sched, 1e-10, (k, n) => progress(1 + k / n, 2, `GD step ${k}/${n}`));
    const optimizedBpc = factoredBpc(F, opt.W, opt.b, cls, y, 0, N - 1, p.floor);
    progress(2, 2);

    return {
      json: {
        N,
        H,
        groups: p.groups,
        units: p.units,
        inputWeight: p.inputWeight,
        shiftWeight: p.shiftWeight,
        distinctCodes: distinctCodes(codes, p.units),
        analyticBpc,
        alpha: g.alpha,
        scale: g.scale,
        optimizedBpc,
        grid: { alphas, scales },
        evalPositions: { from: 0, to: N - 2 },
        gdPositions: { from: p.gdFirst, to: N - 3 },
        gridSample: sampleOf(gridPb, p),
        gdSample: sampleOf(gdPb, p),
        steps: p.steps,
        schedule: { lr: p.lr, decay: p.decay, decayAt: p.decayAt },
        floor: p.floor,
      },
      tensors: {
        paramsAnalytic: { dtype: 'float32', shape: [net.params.length], data: withReadout(net, WyA.map((v) => v * g.scale), by, V) },
        paramsOptimized: { dtype: 'float32', shape: [net.params.length], data: withReadout(net, fromClasses(opt.W, H, cls), fromClasses(opt.b, 1, cls), V) },
        gridBpc: { dtype: 'float64', shape: [alphas.length, scales.length], data: g.bpc },
        gdBits: { dtype: 'float64', shape: [p.steps], data: opt.losses.map((l) => l / Math.LN2) },
      },
    };
  },
});
