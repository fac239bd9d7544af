// Report section for paper §3.2 (docs/definitions.md §3.2, §R): margins, the |z| histogram, sign readout
// and sign dynamics. Data from the `boolean` stage.
import type { StageOutput } from '../../engine/types.ts';
import { span, type SectionPart } from '../types.ts';


export function build(inputs: Record<string, StageOutput>): SectionPart {
  const out = inputs.boolean;
  const j = out.json;
  const positions = span(j.positions.from, j.positions.to);
  const steps = `${positions} × ${j.H} units (${j.neuronSteps} neuron-steps)`;
  const provenance = { stage: 'boolean', key: out.key };
  const { width, max, counts } = j.histogram as { width: number; max: number; counts: number[] };
  const bins = counts.map((n, i) => ({
    bin: i < counts.length - 1 ? `[${i * width}, ${(i + 1) * width})` : `≥ ${max}`,
    count: n,
    fraction: n / j.neuronSteps,
  }));
  return {
    tables: [
      {
        id: 'boolean',
        title: 'Boolean automaton: margins and sign-only prediction',
        section: '§3.2',
        positions: steps,
        columns: [
          { key: 'quantity', label: 'Quantity' },
          { key: 'value', label: 'Value' },
          { key: 'delta', label: 'Δ bpc vs float' },
        ],
        rows: [
          { quantity: 'Mean |z| (pre-activation)', value: { ours: j.meanAbsZ, ref: 'mean_abs_preactivation' }, delta: null },
          { quantity: `Fraction of neuron-steps with |z| > ${j.threshold}`, value: { ours: j.fracAbove, ref: 'frac_margin_gt_1' }, delta: null },
          { quantity: 'Float model bpc', value: { ours: j.floatBpc }, delta: null },
          { quantity: 'Sign readout bpc (real dynamics, readout from sign(S))', value: { ours: j.signReadoutBpc }, delta: { ours: j.signReadoutDelta } },
          { quantity: 'Sign dynamics bpc (±1 state from all −1)', value: { ours: j.signDynamicsBpc }, delta: { ours: j.signDynamicsDelta, ref: 'sign_dynamics_delta_bpc' } },
        ],
        notes: [`bpc over ${positions} with probability floor ${j.floor} (docs/definitions.md §3.2); sign(0) = +1; Δ = sign model − float model at the same floor.`],
        provenance,
      },
      {
        id: 'boolean_margin_histogram',
        title: 'Histogram of |z| over the neuron-steps',
        section: '§3.2',
        positions: steps,
        columns: [
          { key: 'bin', label: '|z|' },
          { key: 'count', label: 'Neuron-steps' },
          { key: 'fraction', label: 'Fraction' },
        ],
        rows: bins,
        provenance,
      },
    ],
    metrics: [
      { id: 'mean_abs_preactivation', value: j.meanAbsZ, section: '§3.2', positions: steps },
      { id: 'frac_margin_gt_1', value: j.fracAbove, section: '§3.2', positions: steps },
      { id: 'sign_readout_bpc', value: j.signReadoutBpc, section: '§3.2', positions },
      { id: 'sign_dynamics_bpc', value: j.signDynamicsBpc, section: '§3.2', positions },
    ],
  };
}
