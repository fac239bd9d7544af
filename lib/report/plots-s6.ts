// The plots of paper §6.2 (issue 13), vega-lite specs like lib/report/plots.ts (whose
// renderer they use), kept in their own file:
//   - Q4: bpc of each rebuilt RNN against its description's size (JSON bytes, log scale),
//     one point per level labelled with its X%, the trained and unigram bpc as rules;
//   - Q1: carrier R² per unit under the best feature set (lowest held-out bpc).
// Non-finite values are dropped and counted in the subtitle; empty input says "no data".

import type { StageOutput } from '../engine/types.ts';
import { renderSvg } from './plots.ts';
import type { RenderedPlot } from './plot-data.ts';

export interface LevelPoint { level: string; bytes: number; bpc: number; x: number }

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const finite = (v: number) => typeof v === 'number' && Number.isFinite(v);
const frame = (text: string, notes: string[]) => ({ $schema: SCHEMA, title: notes.length ? { text, subtitle: notes.join('; ') } : { text }, width: 560, height: 280 });
const empty = (text: string, notes: string[]) => ({
  ...frame(text, notes),
  data: { values: [{ msg: 'no data' }] },
  mark: { type: 'text', fontSize: 14, color: '#888' },
  encoding: { text: { field: 'msg', type: 'nominal' } },
});

/** bpc against description size, one labelled point per level, reference rules. */
export function rebuildSizeSpec(levels: LevelPoint[], trainedBpc: number, unigram: number): object {
  const text = 'Q4: rebuilt bpc against description size (§6.2)';
  const values = levels.filter((l) => finite(l.bytes) && l.bytes > 0 && finite(l.bpc)).map((l) => ({ ...l, label: `${l.level} (X% ${l.x.toFixed(0)})` }));
  const notes = levels.length > values.length ? [`${levels.length - values.length} levels dropped (non-finite)`] : [];
  if (!values.length) return empty(text, notes);
  const x = { field: 'bytes', type: 'quantitative', scale: { type: 'log' }, title: 'description size (JSON bytes, log)' };
  const y = { field: 'bpc', type: 'quantitative', title: 'bpc of the rebuilt RNN' };
  const refs = [
    { name: `trained ${trainedBpc.toFixed(4)}`, bpc: trainedBpc },
    { name: `unigram ${unigram.toFixed(4)}`, bpc: unigram },
  ].filter((r) => finite(r.bpc));
  return {
    ...frame(text, notes),
    layer: [
      { data: { values: refs }, mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { y: { field: 'bpc', type: 'quantitative' } } },
      { data: { values: refs }, mark: { type: 'text', align: 'left', dx: 4, dy: -6, x: 0, color: '#555' }, encoding: { y: { field: 'bpc', type: 'quantitative' }, text: { field: 'name', type: 'nominal' } } },
      { data: { values }, mark: { type: 'line', point: true, color: '#4c78a8' }, encoding: { x, y, order: { field: 'bytes', type: 'quantitative' } } },
      { data: { values }, mark: { type: 'text', dx: 6, dy: -8, align: 'left', fontSize: 10 }, encoding: { x, y, text: { field: 'label', type: 'nominal' } } },
    ],
  };
}

/** Carrier R² of each unit under one feature set. */
export function unitR2Spec(set: string, r2: number[]): object {
  const text = `Q1: carrier R² per unit under ${set} (§6.2)`;
  const values = r2.map((v, unit) => ({ unit, r2: v })).filter((v) => finite(v.r2));
  const notes = r2.length > values.length ? [`${r2.length - values.length} non-finite entries dropped`] : [];
  if (!values.length) return empty(text, notes);
  const step = Math.max(1, Math.ceil(values.length / 16));
  return {
    ...frame(text, notes),
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'unit', type: 'ordinal', sort: null, title: 'hidden unit j', axis: { values: values.filter((_, i) => i % step === 0).map((v) => v.unit), labelAngle: 0 } },
      y: { field: 'r2', type: 'quantitative', title: 'carrier R² of the unit' },
    },
  };
}

/** Every §6.2 plot the inputs allow, rendered to SVG. */
export async function renderS6Plots(inputs: Record<string, StageOutput>): Promise<RenderedPlot[]> {
  const out: RenderedPlot[] = [];
  const rb = inputs.rebuild?.json;
  const trained = inputs.trace?.json.bpc as number | undefined;
  if (rb && trained !== undefined) {
    const levels = rb.levels.map((l: any) => ({ level: l.level, bytes: l.bytes, bpc: l.bpc, x: ((8 - l.bpc) / (8 - trained)) * 100 }));
    const spec = rebuildSizeSpec(levels, trained, rb.unigramEntropy);
    out.push({ name: 'rebuild-size', title: 'Q4: rebuilt bpc against description size', table: 'rebuild', file: 'plots/rebuild-size.svg', spec, svg: await renderSvg(spec) });
  }
  const tc = inputs['timing-carrier']?.json;
  if (tc) {
    const spec = unitR2Spec(tc.best.set, tc.best.unitR2);
    out.push({ name: 'carrier-r2-per-unit', title: `Q1: carrier R² per unit under ${tc.best.set}`, table: 'timing_carrier', file: 'plots/carrier-r2-per-unit.svg', spec, svg: await renderSvg(spec) });
  }
  return out;
}
