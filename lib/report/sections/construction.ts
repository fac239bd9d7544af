// Report section for paper §4 (docs/definitions.md §4.1, §4.2, §R): the weight-construction table.
// Rows: the shift-register RNN with analytic and with GD-optimized Wy (`construction`),
// the reverse isomorphism (`reverse-iso`) and the trained model (`trace`), each with bpc
// and X% = (8 - H) / (8 - H_trained) · 100 (eq. 2), H_trained the trained model's bpc over
// all positions.
import type { StageOutput } from '../../engine/types.ts';
import { span, type Cell, type MetricSpec, type SectionPart } from '../types.ts';

const fmt = (v: number) => String(Number(v.toPrecision(6)));

/** Where the shift register's fits ran on a sample of positions (long data), in the words the Q3 aggregate looks for. */
function fitSampled(j: Record<string, any> | undefined): string {
  const say = (what: string, s: any) => `${what} on ${s.count} of ${s.of} positions, in ${s.blocks} evenly spread blocks of ${s.blockLength} consecutive t (construction.maxPositions)`;
  const parts = [j?.gridSample?.sampled ? say('α × s grid', j.gridSample) : '', j?.gdSample?.sampled ? say('gradient descent', j.gdSample) : ''].filter(Boolean);
  return parts.length ? `; shift register fitted by sample: ${parts.join('; ')}; both its bpc over every position` : '';
}

export function build(inputs: Record<string, StageOutput>): SectionPart {
  const c = inputs.construction;
  const r = inputs['reverse-iso'];
  const tr = inputs.trace;
  const Htrained: number | null = tr ? tr.json.bpc : null;
  const x = (h: number | null) => (h === null || Htrained === null ? null : ((8 - h) / (8 - Htrained)) * 100);
  const rows: Record<string, Cell>[] = [];
  const metrics: MetricSpec[] = [];

  if (c) {
    const j = c.json;
    const evalAt = span(j.evalPositions.from, j.evalPositions.to);
    const gdAt = span(j.gdPositions.from, j.gdPositions.to);
    rows.push({
      construction: 'Analytic Wy (shift register)',
      bpc: { ours: j.analyticBpc, ref: 'analytic_wy_bpc' },
      x: { ours: x(j.analyticBpc), ref: 'construction.analytic.x' },
      positions: evalAt,
      note: `Zero optimization: Wy[o][${j.units}g+j] = s·(ln P(o|x_{t−g}∈S+_j) − ln P(o|x_{t−g}∈S−_j)), α added per bin; best of ${j.grid.alphas.length}×${j.grid.scales.length} grid at α = ${fmt(j.alpha)}, s = ${fmt(j.scale)}; floor ${j.floor}`,
    });
    rows.push({
      construction: 'Optimized Wy (shift register)',
      bpc: { ours: j.optimizedBpc, ref: 'optimized_wy_bpc' },
      x: { ours: x(j.optimizedBpc), ref: 'construction.optimized.x' },
      positions: evalAt,
      note: `${j.steps} full-batch GD steps on (Wy, by) from Wy = 0 over ${gdAt} on the fixed trajectory; floor ${j.floor}`,
    });
    metrics.push(
      { id: 'analytic_wy_bpc', value: j.analyticBpc, section: '§4.1', positions: evalAt },
      { id: 'optimized_wy_bpc', value: j.optimizedBpc, section: '§4.1', positions: evalAt },
    );
  }
  if (r) {
    const j = r.json;
    const at = `${span(j.positions.from, j.positions.to)}, in-sample`;
    rows.push({
      construction: 'Reverse isomorphism',
      bpc: { ours: j.bpc, ref: 'reverse_iso_bpc' },
      x: { ours: x(j.bpc), ref: 'construction.reverse_iso.x' },
      positions: at,
      note: `Hidden = clipped skip-bigram log ratios at state offsets [${j.offsets.join(', ')}] × top ${j.H / j.offsets.length} bytes; only (Wy, by) trained (${j.steps} GD steps); uses NO trained weights; loss −log2(p + 1e-10) at the start of the last step${j.fitSample?.sampled ? `; GD on ${j.fitSample.count} of the ${j.fitSample.of} positions in ${j.fitSample.blocks} evenly spread blocks of ${j.fitSample.blockLength} (more than ${j.fitSample.maxPositions}), the bpc over every position` : ''}`,
    });
    metrics.push({ id: 'reverse_iso_bpc', value: j.bpc, section: '§4.2', positions: at });
  }
  if (tr) {
    rows.push({
      construction: 'Trained model',
      bpc: { ours: Htrained, ref: 'construction.trained.bpc' },
      x: { ours: x(Htrained), ref: 'construction.trained.x' },
      positions: span(0, tr.json.positions - 1),
      note: 'BPTT, all parameters learned (the model analysed); floor 1e-8',
    });
  }

  const notes = [
    'X% = (8 − H)/(8 − H_trained) × 100 (eq. 2), H_trained = the trained model\'s bpc over all positions.',
  ];
  if (c) {
    const j = c.json;
    const sc = j.schedule;
    notes.push(
      `Shift register: ${j.groups} groups × ${j.units} units; group 0 reads the byte's ${j.units}-bit sign hash (Wx = ${fmt(j.inputWeight)}·s(x, j)), Wh shifts group g−1 into g (${fmt(j.shiftWeight)}), bh = 0, by = ln((count + 0.5)/(N + 128)). The hash gives ${j.distinctCodes} distinct codes for 256 bytes, so some bytes share a code. This is a new network built from byte statistics, not the trained weights explained.`,
      `Optimized Wy schedule: lr ${fmt(sc.lr)}, multiplied by ${fmt(sc.decay)} once ${sc.decayAt.join(', ')} steps are done (step k uses lr·${fmt(sc.decay)}^#{a ≤ k}).`,
    );
  }
  if (r) {
    notes.push('The reverse isomorphism uses NO trained weights: its hidden states come from data counts alone and only its readout is trained (the paper says it retains the trained Wx and Wh; it does not).');
  }
  return {
    tables: [
      {
        id: 'construction',
        title: 'Weight construction: writing an RNN from skip-patterns',
        section: '§4',
        positions: `per row (see the positions column); t predicts x_{t+1}${fitSampled(c?.json)}`,
        convention: 'state offsets',
        columns: [
          { key: 'construction', label: 'Construction' },
          { key: 'bpc', label: 'bpc' },
          { key: 'x', label: 'X%' },
          { key: 'positions', label: 'Positions' },
          { key: 'note', label: 'Note' },
        ],
        rows,
        notes,
        ...(c ? { provenance: { stage: 'construction', key: c.key } } : r ? { provenance: { stage: 'reverse-iso', key: r.key } } : {}),
      },
    ],
    metrics,
  };
}
