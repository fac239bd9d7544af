// Report section for paper §3.1 (docs/definitions.md §3.1, §R): the UM isomorphism table and the
// metrics trained_bpc, um_bpc, um_rnn_max_state_diff. Data from the `isomorphism` stage.
import type { StageOutput } from '../../engine/types.ts';
import { span, type SectionPart } from '../types.ts';


export function build(inputs: Record<string, StageOutput>): SectionPart {
  const out = inputs.isomorphism;
  const j = out.json;
  const positions = span(j.positions.from, j.positions.to);
  const statePositions = `t = 0..${j.N - 1}, all ${j.H} units`;
  return {
    tables: [
      {
        id: 'isomorphism',
        title: 'RNN–UM isomorphism (doubled event space)',
        section: '§3.1',
        positions,
        columns: [
          { key: 'quantity', label: 'Quantity' },
          { key: 'value', label: 'Value' },
        ],
        rows: [
          { quantity: 'UM bpc (own float64 evaluation)', value: { ours: j.umBpc, ref: 'um_bpc' } },
          { quantity: 'RNN bpc (float32 forward trace)', value: { ours: j.rnnBpc, ref: 'rnn_bpc_3_1' } },
          { quantity: 'UM bpc − RNN bpc', value: { ours: j.bpcDiff, digits: 9 } },
          { quantity: `max |P(h_j+) − P(h_j−) − S[t]_j| (${statePositions})`, value: { ours: j.maxStateDiff, digits: 6 } },
          { quantity: 'UM events / patterns', value: `${j.events} / ${j.patterns}` },
        ],
        notes: [
          `Each unit j is the event pair h_j+, h_j− with P(h_j+) = σ(2 z_j); each weight is a pattern of strength |w| (one per Wx, bh entry, two per Wh entry); the state starts at P = ½. The UM runs in float64, the RNN trace in float32: the state difference is their rounding drift (largest at t = ${j.maxStateDiffAt.t}, unit h${j.maxStateDiffAt.j}).`,
        ],
        provenance: { stage: 'isomorphism', key: out.key },
      },
    ],
    metrics: [
      { id: 'trained_bpc', value: j.rnnBpc, section: '§2', positions },
      { id: 'um_bpc', value: j.umBpc, section: '§3.1', positions },
      { id: 'um_rnn_max_state_diff', value: j.maxStateDiff, section: '§3.1', positions: statePositions },
    ],
  };
}
