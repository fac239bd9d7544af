// Report section for paper §5.2, Table 2 (docs/definitions.md §5, §R): the carrier/pattern decomposition
// and the metrics ps_per_position, carrier_only_bpc, pattern_gain_bpc,
// byte_identity_fraction. Data from the `carrier-pattern` stage.
//
// The unit rows list our top units and every unit the paper names (a `ps_top.h<j>` key of
// paper-figures.json); a unit is compared with the paper only where the paper names it.
import type { StageOutput } from '../../engine/types.ts';
import { span, type Cell, type SectionPart } from '../types.ts';
import figures from '../paper-figures.json' with { type: 'json' };


/** Units the paper lists with their PS counts, from the keys "ps_top.h<j>". */
function paperUnits(): number[] {
  return Object.keys(figures)
    .map((k) => /^ps_top\.h(\d+)$/.exec(k)?.[1])
    .filter((k): k is string => k !== undefined)
    .map(Number);
}

export function build(inputs: Record<string, StageOutput>): SectionPart {
  const out = inputs['carrier-pattern'];
  if (!out) throw new Error('report section carrier-pattern: no output of stage "carrier-pattern" among the inputs');
  const j = out.json;
  const positions = span(j.positions.first, j.positions.last);
  const counts = j.psCountPerUnit as number[];
  const ours = (j.topUnits as { unit: number }[]).map((u) => u.unit);
  const units = [...new Set([...ours, ...paperUnits().filter((u) => u < j.H)])].sort((a, b) => counts[b] - counts[a] || a - b);
  const keys = new Set(Object.keys(figures));
  const unitRows: Record<string, Cell>[] = units.map((u) => ({
    quantity: `h${u}: positions where pattern-sensitive (of ${j.positions.count})${ours.includes(u) ? '' : ' (named by the paper, not in our top list)'}`,
    value: keys.has(`ps_top.h${u}`) ? { ours: counts[u], ref: `ps_top.h${u}`, digits: 0 } : { ours: counts[u], digits: 0 },
  }));
  return {
    tables: [
      {
        id: 'table2_carrier_pattern',
        title: 'Table 2: carrier/pattern decomposition',
        section: '§5.2',
        positions,
        columns: [
          { key: 'quantity', label: 'Quantity' },
          { key: 'value', label: 'Value' },
        ],
        rows: [
          { quantity: `Mean pattern-sensitive units per position (of ${j.H})`, value: { ours: j.psPerPosition, ref: 'ps_per_position' } },
          { quantity: 'Pattern-sensitive fraction', value: { ours: j.psFraction, ref: 'ps_fraction' } },
          { quantity: `Mean carrier-determined units per position (of ${j.H})`, value: { ours: j.carrierPerPosition, ref: 'carrier_determined_per_position' } },
          { quantity: 'Carrier-determined fraction', value: { ours: j.carrierFraction, ref: 'carrier_determined_fraction' } },
          { quantity: 'Actual model bpc', value: { ours: j.actualBpc, ref: 'actual_bpc_5' } },
          { quantity: 'Carrier-only bpc (no byte identity)', value: { ours: j.carrierOnlyBpc, ref: 'carrier_only_bpc' } },
          { quantity: 'Pattern gain (bpc)', value: { ours: j.patternGain, ref: 'pattern_gain_bpc' } },
          { quantity: 'Fraction of prediction from byte identity', value: { ours: j.byteIdentityFraction, ref: 'byte_identity_fraction' } },
          ...unitRows,
        ],
        notes: [
          'Carrier c_t = Wh·S[t-1] + bh. Unit j is pattern-sensitive at t when min_v (c_t[j] + Wx[j][v]) ≤ 0 ≤ max_v (c_t[j] + Wx[j][v]) over all 256 bytes v (eq. 5).',
          `Carrier-only: at each position separately (not fed forward) the pattern-sensitive units take tanh(c_t[j]) and the others keep S[t][j]; bits are -log2 max(p, ${j.floor}). Gain = carrier-only − actual; fraction = gain / carrier-only.`,
        ],
        provenance: { stage: 'carrier-pattern', key: out.key },
      },
    ],
    metrics: [
      { id: 'ps_per_position', value: j.psPerPosition, section: '§5.2', positions },
      { id: 'carrier_only_bpc', value: j.carrierOnlyBpc, section: '§5.2', positions },
      { id: 'pattern_gain_bpc', value: j.patternGain, section: '§5.2', positions },
      { id: 'byte_identity_fraction', value: j.byteIdentityFraction, section: '§5.2', positions },
    ],
  };
}
