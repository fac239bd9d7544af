// Report section for paper §5.4 (SPEC §5, §R): the output decomposition at one position
// and the metrics pos29_carrier_logit, pos29_pattern_logit, pos29_total_logit. Data from
// the `decomposition` stage. Cells are compared with the paper only when the stage ran at
// its default position (the paper's example, the schema's default).
import type { StageOutput } from '../../engine/types.ts';
import type { Cell, SectionPart } from '../types.ts';
import schema from '../../../schemas/decomposition.params.json' with { type: 'json' };

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
  const paperPosition = j.position === schema.properties.position.default;
  const cmp = (ours: number, ref: string): Cell => (paperPosition ? { ours, ref } : { ours });
  const top = j.topUnits as Unit[];
  const positions = `t = ${j.position} (x_t = '${j.byte.char}', target x_{t+1} = '${j.target.char}')`;
  const unitRows: Record<string, Cell>[] = top.map((u, i) => ({
    component: `h${u.unit}: Wy[o][j]·δ[j] (Wy ${u.wy.toFixed(3)}, δ ${u.delta.toFixed(3)})`,
    logit: i === 0 ? cmp(u.contribution, 'pos29_top_unit_contribution') : { ours: u.contribution },
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
          { component: 'Carrier (carrier-only state)', logit: cmp(j.carrierLogit, 'pos29_carrier_logit'), fraction: cmp(j.carrierFraction, 'pos29_carrier_fraction') },
          { component: `Pattern (byte '${j.byte.char}' at offset 0)`, logit: cmp(j.patternLogit, 'pos29_pattern_logit'), fraction: cmp(j.patternFraction, 'pos29_pattern_fraction') },
          { component: 'Total', logit: cmp(j.totalLogit, 'pos29_total_logit'), fraction: { ours: 1 } },
          { component: "Model's logit Wy[o]·S[t] + by[o]", logit: { ours: j.actualLogit }, fraction: null },
          { component: 'Top unit', logit: top.length ? cmp(top[0].unit, 'pos29_top_unit') : null, fraction: null },
          ...unitRows,
          { component: `Bits of '${j.target.char}': carrier-only state / actual`, logit: `${j.carrierOnlyBits.toPrecision(3)} / ${j.actualBits.toPrecision(3)}`, fraction: null },
        ],
        notes: [
          `Context: "${j.context}". Target o = x_{t+1}. Carrier logit = Wy[o]·h' + by[o], where h' holds tanh(c_t[j]) for the ${j.psUnits} pattern-sensitive units at t and S[t][j] for the others; pattern logit = Wy[o]·δ_t (eq. 6). Their sum is the model's logit by construction.`,
          ...(paperPosition ? [] : [`This run decomposes position ${j.position}, not the paper's example, so no cell is compared with the paper.`]),
        ],
        provenance: { stage: 'decomposition', key: out.key },
      },
    ],
    metrics: [
      { id: 'pos29_carrier_logit', value: j.carrierLogit, section: '§5.4', positions },
      { id: 'pos29_pattern_logit', value: j.patternLogit, section: '§5.4', positions },
      { id: 'pos29_total_logit', value: j.totalLogit, section: '§5.4', positions },
    ],
  };
}
