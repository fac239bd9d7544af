// Report section for paper §5.1 (docs/definitions.md §5, §R): the three baselines by offset (gradient
// attribution, ablation, decisive chains) and the metrics ablation_d1_bits,
// ablation_d28_bits, decisive_d1, decisive_d3. Data from the `baselines` stage.
import type { StageOutput } from '../../engine/types.ts';
import type { Cell, SectionPart } from '../types.ts';
import figures from '../paper-figures.json' with { type: 'json' };

const SINGLE_ROWS = 9; // d = 0..8 one row each (decisive chains are reported to depth 8)
const EXTRA_ROWS = [28]; // an offset the paper quotes for the ablation
const BANDS: [number, number][] = [
  [9, 19],
  [20, 49],
];

const meanOf = (a: number[], from: number, to: number) => {
  let s = 0;
  for (let d = from; d <= to; d++) s += a[d];
  return s / (to - from + 1);
};

export function build(inputs: Record<string, StageOutput>): SectionPart {
  const out = inputs.baselines;
  if (!out) throw new Error('report section baselines: no output of stage "baselines" among the inputs');
  const j = out.json;
  const D: number = j.maxOffset;
  const keys = new Set(Object.keys(figures));
  const cmp = (ours: number, ref: string): Cell => (keys.has(ref) ? { ours, ref } : { ours });
  const { raw, normalized } = j.gradient as { raw: number[]; normalized: number[] };
  const { mean, meanAbs } = j.ablation as { mean: number[]; meanAbs: number[] };
  const reach = j.decisive.reach as number[];

  // Fractions down to ~1e-5 occur (a handful of nodes): five decimals, not the paper's rounding.
  const decisiveCell = (d: number): Cell => {
    const ref = `decisive_d${d}`;
    return { ours: reach[d - 1], digits: 5, ...(keys.has(ref) ? { ref } : {}) };
  };
  const row = (label: string, from: number, to: number): Record<string, Cell> => {
    const single = from === to;
    return {
      d: label,
      gradNormalized: cmp(meanOf(normalized, from, to), 'gradient_attribution_per_offset'),
      gradRaw: { ours: meanOf(raw, from, to) },
      ablationMean: single ? cmp(mean[from], `ablation_d${from}_bits`) : { ours: meanOf(mean, from, to) },
      ablationAbs: { ours: meanOf(meanAbs, from, to) },
      decisive: single && from >= 1 && from <= reach.length ? decisiveCell(from) : null,
    };
  };
  const singles = [...Array.from({ length: Math.min(SINGLE_ROWS, D) }, (_, d) => d), ...EXTRA_ROWS.filter((d) => d >= SINGLE_ROWS && d < D)];
  const rows = [
    ...singles.map((d) => row(`d = ${d}`, d, d)),
    ...BANDS.filter(([a]) => a < D).map(([a, b]) => row(`d = ${a}–${Math.min(b, D - 1)} (mean)`, a, Math.min(b, D - 1))),
  ];
  // Long data: gradient and ablation average over a sample of T (the stage's maxPositions)
  const s = j.sample as { sampled: boolean; of: number; blocks: number; blockLength: number } | undefined;
  const positions = s?.sampled
    ? `gradient and ablation: ${j.count} of the ${s.of} output positions T = ${j.firstT}..${j.lastT}, in ${s.blocks} evenly spread blocks of ${s.blockLength} consecutive T (baselines.maxPositions); decisive chains: all ${s.of}`
    : `T = ${j.firstT}..${j.lastT} (${j.count} output positions)`;
  const nodes = `nodes (T, j), T = ${j.firstT}..${j.lastT}, j = 0..${j.H - 1} (${j.decisive.nodes} nodes)`;
  return {
    tables: [
      {
        id: 'baselines_5_1',
        title: '§5.1 baselines: gradient attribution, ablation and decisive chains by offset',
        section: '§5.1',
        positions,
        convention: 'state offsets',
        columns: [
          { key: 'd', label: 'Offset d' },
          { key: 'gradNormalized', label: 'Gradient (normalized)' },
          { key: 'gradRaw', label: 'Gradient (raw)' },
          { key: 'ablationMean', label: 'Ablation Δbits (mean)' },
          { key: 'ablationAbs', label: 'Ablation |Δbits| (mean)' },
          { key: 'decisive', label: 'Decisive chain reaches depth d' },
        ],
        rows,
        notes: [
          'Gradient: raw(T, d) = |Σ_j G[T−d]_j (1 − S[T−d]_j²) Wx[j][x_{T−d}]| with G the backward gradient of the target logit; normalized divides by Σ_d raw(T, d) for each T, then averages over T. ' +
            `The raw attribution is largest at d = ${j.gradient.rawArgmax}.`,
          `Ablation: step T−d re-run without its Wx term, forward on to T in float32; Δbits = bits(T) ablated − actual (floor ${j.floor}). The paper does not say whether its figure is a signed or an absolute mean; both are shown, and the signed mean is compared.`,
          `Decisive chains: the term Wh[j][k]·S[t−1][k] is decisive for (t, j) if removing it flips sign(z_t[j]); depth(t, j) = 1 + max depth(t−1, k) over decisive k (0 without one). The column is the fraction of ${nodes} with depth ≥ d; a depth-d chain ends at state offset d. The longest chain is ${j.decisive.longest}` +
            (reach.length >= 4 ? `; ${Math.round(reach[3] * j.decisive.nodes)} nodes reach depth 4 or more.` : '.'),
        ],
        provenance: { stage: 'baselines', key: out.key },
      },
    ],
    metrics: [
      { id: 'ablation_d1_bits', value: D > 1 ? mean[1] : null, section: '§5.1', positions },
      { id: 'ablation_d28_bits', value: D > 28 ? mean[28] : null, section: '§5.1', positions },
      { id: 'decisive_d1', value: reach.length >= 1 ? reach[0] : null, section: '§5.1', positions: nodes },
      { id: 'decisive_d3', value: reach.length >= 3 ? reach[2] : null, section: '§5.1', positions: nodes },
    ],
  };
}
