// Report section for paper §6.2, open question 1 (docs/definitions.md §6.1): table timing_carrier and
// the metrics timing_carrier.<set>.{cells, carrier_r2, sign_agreement, bpc, x,
// heldout_bpc, heldout_sign_agreement}. Data from the `timing-carrier` stage. The paper
// has no figures here: every cell is ours alone.
import type { StageOutput } from '../../engine/types.ts';
import { span, type MetricSpec, type SectionPart } from '../types.ts';
import { q1Words } from './s6-words.ts';

export function build(inputs: Record<string, StageOutput>): SectionPart {
  const out = inputs['timing-carrier'];
  if (!out) throw new Error('report section timing-carrier: no output of stage "timing-carrier" among the inputs');
  const j = out.json;
  const positions = span(j.positions.first, j.positions.last);
  const heldout = `${positions}; cell means fitted on even t, scored on odd t`;
  const metrics: MetricSpec[] = [];
  for (const r of j.rows) {
    const m = (k: string, value: number, where = positions) => metrics.push({ id: `timing_carrier.${r.id}.${k}`, value, section: '§6.2', positions: where });
    m('cells', r.cells);
    m('carrier_r2', r.carrierR2);
    m('sign_agreement', r.signAgreement);
    m('bpc', r.bpc);
    m('x', r.x);
    m('heldout_bpc', r.heldoutBpc, heldout);
    m('heldout_sign_agreement', r.heldoutSignAgreement, heldout);
  }
  return {
    tables: [
      {
        id: 'timing_carrier',
        title: 'Q1: can timing rules build the carrier?',
        section: '§6.2',
        positions,
        columns: [
          { key: 'set', label: 'features' },
          { key: 'cells', label: 'cells' },
          { key: 'r2', label: 'carrier R²' },
          { key: 'sign', label: 'sign agreement' },
          { key: 'bpc', label: 'bpc' },
          { key: 'x', label: 'X%' },
          { key: 'hbpc', label: 'held-out bpc' },
          { key: 'hsign', label: 'held-out sign agreement' },
        ],
        rows: j.rows.map((r: any) => ({
          set: r.set,
          cells: r.cells,
          r2: { ours: r.carrierR2, digits: 4 },
          sign: { ours: r.signAgreement, digits: 4 },
          bpc: { ours: r.bpc, digits: 4 },
          x: { ours: r.x, digits: 1 },
          hbpc: { ours: r.heldoutBpc, digits: 4 },
          hsign: { ours: r.heldoutSignAgreement, digits: 4 },
        })),
        notes: [
          q1Words(j),
          `Features of the prefix x_0..x_{t-1}: wl = word_len[t-1] (capped at ${j.wordLenCap}), tag = in_tag[t-1] (docs/definitions.md §3.3), x1 = x_{t-1}, x2 = x_{t-2}; t = 0 is its own cell. Each unit's carrier c_t = Wh·S[t-1] + bh is replaced by its cell mean ĉ; S' = tanh(ĉ + Wx[:, x_t]) (not fed forward) is read out through the trained Wy, by (floor ${j.floor}). X% (eq. 2) against the model's ${j.trainedBpc.toFixed(4)} bpc over all ${j.positions.count} positions.`,
          'Held out: an odd position whose cell has no even position uses the mean carrier over the even positions.',
        ],
        provenance: { stage: 'timing-carrier', key: out.key },
      },
    ],
    metrics,
  };
}
