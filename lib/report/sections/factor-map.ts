// Report section for paper §3.3 (docs/definitions.md §3.3, §R): Table 1 (the factor map) and the
// explanation ladder with X% (eq. 2). Data from the `factor-map` stage.
//
// Table 1 shows *our* five largest best-pair groups. A group is compared with the paper
// only where its pair label is a row of the paper's Table 1 (a `table1.(a,b).*` key of
// paper-figures.json); the figures themselves are looked up by the report, not here.
import type { StageOutput } from '../../engine/types.ts';
import { span, type Cell, type SectionPart } from '../types.ts';
import figures from '../paper-figures.json' with { type: 'json' };

interface Group {
  pair?: [number, number];
  neurons: number;
  meanR2: number | null;
}
interface Row {
  bpc: number;
  x: number;
}

const label = (p: readonly number[]) => `(${p.join(',')})`;

/** The pair labels of the paper's Table 1, from the figure keys "table1.(a,b).neurons". */
function paperPairs(): string[] {
  return Object.keys(figures)
    .map((k) => /^table1\.(\(\d+,\d+\))\.neurons$/.exec(k)?.[1])
    .filter((k): k is string => k !== undefined);
}

export function build(inputs: Record<string, StageOutput>): SectionPart {
  const out = inputs['factor-map'];
  const j = out.json;
  const provenance = { stage: 'factor-map', key: out.key };
  const tablePositions = span(j.positions.from, j.positions.to);
  const paper = paperPairs();

  // ── Table 1 ──
  const top = j.top as Group[];
  const rows: Record<string, Cell>[] = top.map((g) => {
    const l = label(g.pair!);
    const ref = paper.includes(l) ? `table1.${l}` : null;
    return {
      pair: l,
      neurons: ref ? { ours: g.neurons, ref: `${ref}.neurons` } : { ours: g.neurons },
      r2: ref ? { ours: g.meanR2, ref: `${ref}.r2` } : { ours: g.meanR2 },
    };
  });
  const other = j.other as Group;
  rows.push({ pair: 'Other', neurons: { ours: other.neurons, ref: 'table1.other.neurons' }, r2: { ours: other.meanR2, ref: 'table1.other.r2' } });
  rows.push({ pair: `All ${j.H}`, neurons: { ours: j.all.neurons, ref: 'table1.all.neurons' }, r2: { ours: j.all.meanR2, ref: 'factor_map_mean_r2' } });
  rows.push({ pair: 'Best single offset (all)', neurons: { ours: j.H }, r2: { ours: j.singleOffsetMeanR2 } });
  const ours = top.map((g) => label(g.pair!));
  const notes = [
    `Candidate offsets [${j.offsets.join(', ')}] (the §3.4 greedy skip-gram list, used as state offsets). For each neuron and each of the ${j.pairs.length} pairs in list order: R² of the in-sample mean of S[t]_j per byte cell (x_{t−d1}, x_{t−d2}), no smoothing; best pair by R², ties to the first pair; labels (list[a], list[b]) in list order.`,
  ];
  const unmatched = ours.filter((l) => !paper.includes(l));
  if (unmatched.length > 0) {
    const missing = paper.filter((l) => !ours.includes(l));
    notes.push(
      `Our five largest groups differ from the paper's rows: ${unmatched.join(', ')} ${unmatched.length > 1 ? 'are' : 'is'} not in the paper's Table 1 (no paper figure)` +
        (missing.length ? `; the paper's ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not among ours.` : '.'),
    );
  }

  // ── the ladder ──
  const lad = j.ladder;
  const ladderPositions = `${span(lad.scored.from, lad.scored.to)}; cell means fitted on ${span(lad.fit.from, lad.fit.to)}`;
  const step = (name: string, r: Row, bpcRef?: string, xRef?: string): Record<string, Cell> => ({
    explanation: name,
    bpc: bpcRef ? { ours: r.bpc, ref: bpcRef } : { ours: r.bpc, digits: 3 },
    x: xRef ? { ours: r.x, ref: xRef } : { ours: r.x, digits: 1 },
  });
  const d2 = Object.entries(lad.d2Counts as Record<string, number>)
    .sort((a, b) => b[1] - a[1])
    .map(([d, n]) => `d2 = ${d}: ${n}`)
    .join(', ');
  return {
    tables: [
      {
        id: 'table1_factor_map',
        title: 'Table 1: factor map, neurons grouped by their best 2-offset pair',
        section: '§3.3 Table 1',
        positions: tablePositions,
        convention: 'state offsets',
        columns: [
          { key: 'pair', label: 'Offset pair' },
          { key: 'neurons', label: 'Neurons' },
          { key: 'r2', label: 'Mean R²' },
        ],
        rows,
        notes,
        provenance,
      },
      {
        id: 'ladder',
        title: 'Explanation ladder: neurons replaced by cell means, read out through the trained Wy, by',
        section: '§3.3',
        positions: ladderPositions,
        convention: 'state offsets',
        columns: [
          { key: 'explanation', label: 'Explanation' },
          { key: 'bpc', label: 'bpc' },
          { key: 'x', label: 'X% (eq. 2)' },
        ],
        rows: [
          step('No context (uniform)', lad.uniform, 'ladder.uniform.bpc', 'ladder.uniform.x'),
          step(`2-offset conditional mean (x_{t−${lad.d1}}, x_{t−d2})`, lad.twoOffset, 'ladder_two_offset_bpc', 'ladder.two_offset.x'),
          step('+ word length', lad.wordLen, 'ladder_word_len_bpc', 'ladder.word_len.x'),
          step('+ word length + in-tag', lad.inTag, 'ladder_in_tag_bpc', 'ladder.in_tag.x'),
          step('Trained RNN (same positions)', lad.trained, 'ladder.trained.bpc', 'ladder.trained.x'),
          step("2-offset with each neuron's own Table 1 pair (free best pair)", lad.freeBestPair),
        ],
        notes: [
          `X% = (8 − H)/(8 − H_trained) × 100 with H_trained = ${lad.hTrained.toFixed(6)}, the trained bpc over all ${j.N - 1} positions; probability floor ${lad.floor}.`,
          lad.fit.to === lad.scored.to
            ? `Cell means are fitted on the scored positions (param factor-map.ladderFit = "scored", the default of docs/definitions.md §3.3); fitting them on t = ${lad.fit.from}..${lad.fit.to + 1} instead (ladderFit = "all") moves level 1 in the 4th decimal.`
            : `Cell means are fitted on t = ${lad.fit.from}..${lad.fit.to} (param factor-map.ladderFit = "all"); the default of docs/definitions.md §3.3 fits them on the scored positions (ladderFit = "scored"), which moves level 1 in the 4th decimal.`,
          `d2 chosen once per neuron from the other candidate offsets by the R² of the pair (${lad.d1}, d2) on ${tablePositions} (${d2}); word_len capped at ${lad.wordLenCap}; in_tag includes x_t.`,
        ],
        provenance,
      },
    ],
    metrics: [
      { id: 'factor_map_mean_r2', value: j.all.meanR2, section: '§3.3 Table 1', positions: tablePositions },
      { id: 'ladder_two_offset_bpc', value: lad.twoOffset.bpc, section: '§3.3', positions: ladderPositions },
      { id: 'ladder_word_len_bpc', value: lad.wordLen.bpc, section: '§3.3', positions: ladderPositions },
      { id: 'ladder_in_tag_bpc', value: lad.inTag.bpc, section: '§3.3', positions: ladderPositions },
    ],
  };
}
