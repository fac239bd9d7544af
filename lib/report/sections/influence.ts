// Report section for paper §5.3, Table 3 (docs/definitions.md §5, §R): byte-to-output influence by state
// offset, rows d = 0..4 and the band means. Data from the `influence` stage, whose JSON
// keeps all offsets. A cell is compared with the paper where paper-figures.json has a
// `table3.d<d>.<column>` (or `table3.d<from>-<to>.<column>`) key.
import type { StageOutput } from '../../engine/types.ts';
import type { Cell, SectionPart } from '../types.ts';
import figures from '../paper-figures.json' with { type: 'json' };

interface Stats {
  signed: number;
  unsigned: number;
  grad: number;
  decay: number;
}

const COLUMNS = ['signed', 'unsigned', 'grad', 'decay'] as const;
const SINGLE_ROWS = 5; // d = 0..4, as in the paper's table

export function build(inputs: Record<string, StageOutput>): SectionPart {
  const out = inputs.influence;
  if (!out) throw new Error('report section influence: no output of stage "influence" among the inputs');
  const j = out.json;
  const keys = new Set(Object.keys(figures));
  // The paper prints its bands as "~0", "~1.3": three decimals show what ours are.
  const row = (label: string, refStem: string, s: Stats, digits?: number): Record<string, Cell> => {
    const r: Record<string, Cell> = { d: label };
    for (const c of COLUMNS) {
      const ref = `table3.d${refStem}.${c}`;
      r[c] = { ours: s[c], ...(keys.has(ref) ? { ref } : {}), ...(digits !== undefined ? { digits } : {}) };
    }
    return r;
  };
  const rows: Record<string, Cell>[] = [
    ...(j.rows as (Stats & { d: number })[]).filter((r) => r.d < SINGLE_ROWS).map((r) => row(`d = ${r.d}`, String(r.d), r)),
    ...(j.bands as (Stats & { from: number; to: number })[]).map((b) => row(`d = ${b.from}–${b.to} (mean)`, `${b.from}-${b.to}`, b, 3)),
  ];
  return {
    tables: [
      {
        id: 'table3_influence',
        title: 'Table 3: byte-to-output influence by offset (Jacobian × pattern deviation)',
        section: '§5.3',
        positions: j.sample?.sampled
          ? `${j.count} of the ${j.sample.of} output positions T = ${j.firstT}..${j.lastT}, in ${j.sample.blocks} evenly spread blocks of ${j.sample.blockLength} consecutive T (influence.maxPositions)`
          : `T = ${j.firstT}..${j.lastT} (${j.count} output positions)`,
        convention: 'state offsets',
        columns: [
          { key: 'd', label: 'Offset d' },
          { key: 'signed', label: 'Signed' },
          { key: 'unsigned', label: 'Unsigned' },
          { key: 'grad', label: '|∇|' },
          { key: 'decay', label: 'Decay' },
        ],
        rows,
        notes: [
          'influence(T, d) = G[T−d]·δ_{T−d} (eq. 7), with G[T] = Wy[x_{T+1}], G[s] = Whᵀ(G[s+1] ⊙ (1 − S[s+1]²)) in float64 and δ the pattern deviation of eq. 6 (S[t] − tanh(c_t) on pattern-sensitive units, else 0). Offset d is the byte x_{T−d}; d = 0 is the byte the state has just read.',
          `Signed = mean influence, unsigned = mean |influence|, |∇| = mean ‖G[T−d]‖, decay = unsigned(d) / unsigned(0). Band rows are the means of their per-offset rows; all ${j.maxOffset} offsets are in the influence stage's JSON.`,
        ],
        provenance: { stage: 'influence', key: out.key },
      },
    ],
    metrics: [],
  };
}
