// Paper §3.4 "UM learning without backpropagation" (docs/definitions.md §3.4): skip-gram counting. For
// offsets (d_1..d_k) (skip-gram convention: x_{t-d} predicts x_t), the in-sample
// conditional entropy H = -Σ n(c,y)/M log2(n(c,y)/n(c)) over t = max(d)..N-1, and the
// greedy path from [1] to maxK offsets. Its offset list feeds factor-map (§3.3) and
// reverse-iso (§4.2) as a DAG edge.
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/skipgrams.params.ts';

// Kernels are imported inside run: a no-op build loads this file only to learn its inputs.
export default defineStage<Params>({
  name: 'skipgrams',
  description: '§3.4: greedy skip-gram counting, bpc, patterns and contexts for k = 1..maxK',
  section: '§3.4',
  inputs: ['data'],
  async run({ params, inputs, progress }) {
    const { bytesOf } = await import('../lib/rnn/io.ts');
    const { greedySkipgrams } = await import('../lib/analysis/skipgrams.ts');
    const xs = bytesOf(inputs.data);
    const N = xs.length;
    const { maxOffset, maxK } = params;
    if (maxK > maxOffset) throw new Error(`skipgrams: maxK (${maxK}) exceeds the ${maxOffset} candidate offsets\nhint: --set skipgrams.maxK=${maxOffset} or raise skipgrams.maxOffset`);
    if (maxOffset >= N) throw new Error(`skipgrams: maxOffset (${maxOffset}) must be below the data length N = ${N}\nhint: --set skipgrams.maxOffset=${N - 1} or more data (data.bytes)`);
    const path = greedySkipgrams(xs, maxOffset, maxK, (k) => progress(k, maxK, `k = ${k}`));
    const greedy = path.map((s, i) => ({ k: i + 1, offsets: s.offsets, bpc: s.bpc, patterns: s.patterns, contexts: s.contexts }));
    const b = path[0]; // k = 1 is the bigram [1]
    return {
      json: {
        offsets: path[path.length - 1].offsets,
        greedy,
        bigram: { offsets: [1], bpc: b.bpc, patterns: b.patterns, contexts: b.contexts },
        maxOffset,
        N,
      },
    };
  },
});
