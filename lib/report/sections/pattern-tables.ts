// Report section for paper §6.2, open question 2 (docs/definitions.md §6.2): one table pattern_table_h<j>
// per top pattern-sensitive unit and the metrics pattern_table.h<j>.accuracy and
// pattern_table.mean_accuracy. Data from the `pattern-tables` stage (no paper figures).
import type { StageOutput } from '../../engine/types.ts';
import { span, type MetricSpec, type SectionPart, type TableSpec } from '../types.ts';
import { q2Words } from './s6-words.ts';

export function build(inputs: Record<string, StageOutput>): SectionPart {
  const out = inputs['pattern-tables'];
  if (!out) throw new Error('report section pattern-tables: no output of stage "pattern-tables" among the inputs');
  const j = out.json;
  const positions = span(j.positions.first, j.positions.last);
  const onText = (n: number, s: string) => (n === 0 ? '(none)' : n === j.seenBytes ? `(all ${n} seen bytes)` : `${s} (${n})`);
  const tables: TableSpec[] = j.units.map((u: any, i: number) => ({
    id: `pattern_table_h${u.unit}`,
    title: `Q2: lookup table of h${u.unit} (${u.psCount} PS positions, table accuracy ${(100 * u.accuracy).toFixed(1)}%)`,
    section: '§6.2',
    positions,
    columns: [
      { key: 'cell', label: 'cell (wl, tag of the prefix)' },
      { key: 'chat', label: 'mean carrier ĉ' },
      { key: 'positions', label: 'positions' },
      { key: 'ps', label: 'PS' },
      { key: 'on', label: 'bytes that switch it on' },
    ],
    rows: u.rows.map((r: any) => ({ cell: r.cell, chat: { ours: r.chat, digits: 3 }, positions: r.positions, ps: r.ps, on: onText(r.onCount, r.on) })),
    notes: i === 0
      ? [
          q2Words(j),
          `A byte v (seen in the data) switches h_j on in a cell when ĉ + Wx[j][v] ≥ 0. Table accuracy: the fraction of positions where sign(ĉ_t[j] + Wx[j][x_t]) = sign S[t][j]; mean over all ${j.H} units ${(100 * j.meanAccuracy).toFixed(1)}%. Whitespace prints as \\n, \\t and a space.`,
        ]
      : [],
    provenance: { stage: 'pattern-tables', key: out.key },
  }));
  const metrics: MetricSpec[] = [
    ...j.units.map((u: any) => ({ id: `pattern_table.h${u.unit}.accuracy`, value: u.accuracy, section: '§6.2', positions })),
    { id: 'pattern_table.mean_accuracy', value: j.meanAccuracy, section: '§6.2', positions },
  ];
  return { tables, metrics };
}
