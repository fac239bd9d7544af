// Paper §5.1 "Three failed approaches". Implements docs/definitions.md §5 (§5.1 baselines) for output
// positions T = firstT..N-3 and state offsets d = 0..maxOffset-1:
//   gradient  raw(T, d) = |Σ_j G[T-d]_j (1 - S[T-d]_j²) Wx[j][x_{T-d}]|, and raw / Σ_d raw per T
//   ablation  Δbits(T, d): step T-d re-run without its Wx term, forward to T, minus actual
//   decisive  fraction of nodes (T, j) from which a path of d decisive Wh terms exists,
//             d = 1..maxDepth (the chain recursion is spelled out in lib/analysis/decisive-chains.ts)
// Gradient and ablation cost O(maxOffset·H²) per T or more; above `maxPositions` output
// positions (never at N = 1024, where T = 50..1021 are all used, as defined) they
// average over evenly spread blocks of consecutive T (lib/analysis/position-blocks.ts),
// and the JSON's `sample` says so. Decisive chains are cheap and always use every T.
// Ablation re-runs the modified float32 dynamics (that is the analysis; defined on the hook
// forward, run here by its specialised kernel, held to the definition by a test); the rest
// reads the trace. Kernels: lib/analysis/gradient-attribution.ts (with influence.ts's G),
// ablation.ts, decisive-chains.ts, offset-table.ts.
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/baselines.params.ts';

// Kernels are imported inside run: a no-op build loads this file only to learn its inputs.
export default defineStage<Params>({
  name: 'baselines',
  description: '§5.1: gradient attribution, ablation and decisive chains by offset',
  section: '§5.1',
  inputs: ['model', 'data', 'trace'],
  expectSeconds: 1.0,
  tensors: ['positions', 'gradRaw', 'ablation', 'depth'],
  async run({ params, inputs, progress }) {
    const { gradientAttribution, normalizeRows } = await import('../lib/analysis/gradient-attribution.ts');
    const { ablationFast } = await import('../lib/analysis/ablation.ts');
    const { decisiveDepth, reachFractions } = await import('../lib/analysis/decisive-chains.ts');
    const { columnMeans } = await import('../lib/analysis/offset-table.ts');
    const { offsetPositions, traceInputs } = await import('../lib/analysis/trace-inputs.ts');
    const { blockPositions, positionBlocks } = await import('../lib/analysis/position-blocks.ts');
    const { w, xs, tr, N, H } = traceInputs('baselines', inputs);
    const { D, firstT, lastT } = offsetPositions('baselines', params.maxOffset, params.firstT, N);
    const nT = lastT - firstT + 1;
    const pb = positionBlocks(firstT, lastT, params.maxPositions, params.blockLength);
    const count = pb.count;

    progress(0, 3, 'gradient');
    const raw = new Float64Array(count * D);
    const abl = new Float64Array(count * D);
    let row = 0;
    for (const [a, b] of pb.blocks) {
      raw.set(gradientAttribution(w, xs, tr.S, a, b, D), row * D);
      row += b - a + 1;
    }
    const rawMean = columnMeans(raw, D).mean;
    const normalized = columnMeans(normalizeRows(raw, D), D).mean;
    const rawArgmax = rawMean.indexOf(Math.max(...rawMean));

    progress(1, 3, 'ablation');
    row = 0;
    for (const [a, b] of pb.blocks) {
      const done = row;
      abl.set(
        ablationFast(w, xs, tr.S, tr.lpNext, a, b, D, params.floor, (d, total) => progress(1 + (done + (d / total) * (b - a + 1)) / count, 3, 'ablation')),
        row * D,
      );
      row += b - a + 1;
    }
    const ablation = columnMeans(abl, D);

    progress(2, 3, 'decisive chains');
    const depth = decisiveDepth(w, tr.z, tr.S, lastT + 1);
    let longest = 0;
    for (let i = firstT * H; i < (lastT + 1) * H; i++) if (depth[i] > longest) longest = depth[i];
    const reach = reachFractions(depth, H, firstT, lastT, params.maxDepth);
    progress(3, 3);

    return {
      json: {
        H,
        N,
        firstT,
        lastT,
        count,
        sample: { sampled: pb.sampled, of: nT, blocks: pb.blocks.length, blockLength: pb.sampled ? params.blockLength : nT, maxPositions: params.maxPositions },
        maxOffset: D,
        floor: params.floor,
        gradient: { raw: rawMean, normalized, rawArgmax },
        ablation: { mean: ablation.mean, meanAbs: ablation.meanAbs },
        decisive: { maxDepth: params.maxDepth, reach, longest, nodes: nT * H },
      },
      tensors: {
        positions: { dtype: 'int32', shape: [count], data: blockPositions(pb) },
        gradRaw: { dtype: 'float64', shape: [count, D], data: raw },
        ablation: { dtype: 'float64', shape: [count, D], data: abl },
        depth: { dtype: 'int32', shape: [lastT + 1, H], data: depth },
      },
    };
  },
});
