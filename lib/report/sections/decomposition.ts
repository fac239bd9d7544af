// Report section for paper §5.4 (docs/definitions.md §5.4): the output decomposition at
// one position t and the metrics decomposition.pos<t>.carrier_logit, .pattern_logit and
// .total_logit. Data from the `decomposition` stage. Every cell names the paper's figure
// for position 29; at another position the report marks it not comparable (the figure
// depends on decomposition.position). The table keeps its id pos29_decomposition (the
// paper's example), and the metrics' ids before the rename, pos29_*, stay in report.json
// as aliases for one release.
import type { StageOutput } from '../../engine/types.ts';
import type { Cell, MetricSpec, SectionPart } from '../types.ts';

interface Unit {
  unit: number;
  contribution: number;
  wy: number;
  delta: number;
}

export function build(inputs: Record<string, StageOutput>): SectionPart {
  const out = inputs.decomposition;
  if (!out) throw new Error('report section decomposition: no output of stage "decomposition" among the inputs');
  const j = out.json;
  const cmp = (ours: number, ref: string): Cell => ({ ours, ref: `decomposition.pos29.${ref}` });
  const top = j.topUnits as Unit[];
  const positions = `t = ${j.position} (x_t = '${j.byte.char}', target x_{t+1} = '${j.target.char}')`;
  const unitRows: Record<string, Cell>[] = top.map((u, i) => ({
    component: `h${u.unit}: Wy[o][j]·δ[j] (Wy ${u.wy.toFixed(3)}, δ ${u.delta.toFixed(3)})`,
    logit: i === 0 ? cmp(u.contribution, 'top_unit_contribution') : { ours: u.contribution },
    fraction: { ours: u.contribution / j.totalLogit },
  }));
  return {
    tables: [
      {
        id: 'pos29_decomposition',
        title: `§5.4 output decomposition at position ${j.position} ('${j.byte.char}' → '${j.target.char}')`,
        section: '§5.4',
        positions,
        convention: 'state offsets',
        columns: [
          { key: 'component', label: 'Component' },
          { key: 'logit', label: 'Logit' },
          { key: 'fraction', label: 'Fraction' },
        ],
        rows: [
          { component: 'Carrier (carrier-only state)', logit: cmp(j.carrierLogit, 'carrier_logit'), fraction: cmp(j.carrierFraction, 'carrier_fraction') },
          { component: `Pattern (byte '${j.byte.char}' at offset 0)`, logit: cmp(j.patternLogit, 'pattern_logit'), fraction: cmp(j.patternFraction, 'pattern_fraction') },
          { component: 'Total', logit: cmp(j.totalLogit, 'total_logit'), fraction: { ours: 1 } },
          { component: "Model's logit Wy[o]·S[t] + by[o]", logit: { ours: j.actualLogit }, fraction: null },
          { component: 'Top unit', logit: top.length ? cmp(top[0].unit, 'top_unit') : null, fraction: null },
          ...unitRows,
          { component: `Bits of '${j.target.char}': carrier-only state / actual`, logit: `${j.carrierOnlyBits.toPrecision(3)} / ${j.actualBits.toPrecision(3)}`, fraction: null },
        ],
        notes: [
          `Context: "${j.context}". Target o = x_{t+1}. Carrier logit = Wy[o]·h' + by[o], where h' holds tanh(c_t[j]) for the ${j.psUnits} pattern-sensitive units at t and S[t][j] for the others; pattern logit = Wy[o]·δ_t (eq. 6). Their sum is the model's logit by construction.`,
        ],
        provenance: { stage: 'decomposition', key: out.key },
      },
    ],
    metrics: (['carrier_logit', 'pattern_logit', 'total_logit'] as const).flatMap((k): MetricSpec[] => {
      const value = k === 'carrier_logit' ? j.carrierLogit : k === 'pattern_logit' ? j.patternLogit : j.totalLogit;
      const id = `decomposition.pos${j.position}.${k}`;
      const ref = `decomposition.pos29.${k}`;
      return [
        { id, value, section: '§5.4', positions, ref },
        { id: `pos29_${k}`, value, section: '§5.4', positions, ref, aliasOf: id },
      ];
    }),
  };
}
