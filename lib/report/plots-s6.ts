// The plots of paper §6.2, vega-lite specs like lib/report/plots.ts (whose
// renderer they use), kept in their own file:
//   - Q4: bpc of each rebuilt RNN against its description's bits (log scale), one point per
//     level, the reference rows (the text as its own description) marked, the trained bpc
//     as a line;
//   - Q1: carrier R² per unit under the best feature set (lowest held-out bpc).
// Non-finite values are dropped and counted in the subtitle; empty input says "no data".

import type { StageOutput } from '../engine/types.ts';
import { renderAll, type RenderedPlot } from './plot-data.ts';

export interface LevelPoint { level: string; bits: number; bpc: number; worth: boolean }
export interface RefPoint { name: string; bits: number; bpc: number }

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const frame = (text: string, notes: string[]) => ({ $schema: SCHEMA, title: notes.length ? { text, subtitle: notes.join('; ') } : { text }, width: 560, height: 280 });
const empty = (text: string, notes: string[]) => ({
  ...frame(text, notes),
  data: { values: [{ msg: 'no data' }] },
  mark: { type: 'text', fontSize: 14, color: '#888' },
  encoding: { text: { field: 'msg', type: 'nominal' } },
});

/**
 * bpc against description bits (log x): one labelled point per level (filled when worth its
 * bits), the reference rows (the data as its own description) as red diamonds, the trained
 * bpc as a dashed line.
 */
export function rebuildBitsSpec(levels: LevelPoint[], refs: RefPoint[], trainedBpc: number): object {
  const text = 'Q4: rebuilt bpc against description bits (§6.2)';
  const values = levels.filter((l) => finite(l.bits) && l.bits > 0 && finite(l.bpc)).map((l) => ({ ...l, kind: l.worth ? 'level, worth its bits' : 'level', label: l.level }));
  const marks = refs.filter((r) => finite(r.bits) && r.bits > 0 && finite(r.bpc)).map((r) => ({ ...r, kind: 'reference: the text itself', label: `ref_${r.name}` }));
  const dropped = levels.length - values.length + refs.length - marks.length;
  const notes = dropped ? [`${dropped} points dropped (non-finite)`] : [];
  if (!values.length) return empty(text, notes);
  const x = { field: 'bits', type: 'quantitative', scale: { type: 'log' }, title: 'description bits (8 × gzip-9 of its JSON, log)' };
  const y = { field: 'bpc', type: 'quantitative', title: 'bpc on the training text' };
  const color = { field: 'kind', type: 'nominal', title: null, scale: { domain: ['level', 'level, worth its bits', 'reference: the text itself'], range: ['#9ecae9', '#4c78a8', '#e45756'] } };
  const shape = { field: 'kind', type: 'nominal', title: null, scale: { domain: ['level', 'level, worth its bits', 'reference: the text itself'], range: ['circle', 'circle', 'diamond'] } };
  const line = finite(trainedBpc) ? [{ name: `trained ${trainedBpc.toFixed(4)}`, bpc: trainedBpc }] : [];
  const points = [...values, ...marks];
  return {
    ...frame(text, notes),
    layer: [
      { data: { values: line }, mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { y: { field: 'bpc', type: 'quantitative' } } },
      { data: { values: line }, mark: { type: 'text', align: 'left', dx: 4, dy: -6, x: 0, color: '#555' }, encoding: { y: { field: 'bpc', type: 'quantitative' }, text: { field: 'name', type: 'nominal' } } },
      { data: { values: points }, mark: { type: 'point', filled: true, size: 70 }, encoding: { x, y, color, shape, tooltip: [{ field: 'label' }, { field: 'bits' }, { field: 'bpc' }] } },
      { data: { values: points }, mark: { type: 'text', dx: 6, dy: -8, align: 'left', fontSize: 9 }, encoding: { x, y, text: { field: 'label', type: 'nominal' } } },
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

/** Every §6.2 plot the inputs allow, without its SVG. */
export function s6PlotSpecs(inputs: Record<string, StageOutput>): Omit<RenderedPlot, 'svg'>[] {
  const out: Omit<RenderedPlot, 'svg'>[] = [];
  const sc = inputs['rebuild-score']?.json;
  if (sc) {
    const levels = sc.levels.map((l: any) => ({ level: l.level, bits: l.bits, bpc: l.bpc, worth: l.worthBits === 1 }));
    const refs = sc.refs.filter((r: any) => r.bpc !== null).map((r: any) => ({ name: r.name, bits: r.bits, bpc: r.bpc }));
    const spec = rebuildBitsSpec(levels, refs, sc.trainedBpc);
    out.push({ name: 'rebuild-bits', title: 'Q4: rebuilt bpc against description bits', table: 'rebuild', file: 'plots/rebuild-bits.svg', spec });
  }
  const tc = inputs['timing-carrier']?.json;
  if (tc) {
    const spec = unitR2Spec(tc.best.set, tc.best.unitR2);
    out.push({ name: 'carrier-r2-per-unit', title: `Q1: carrier R² per unit under ${tc.best.set}`, table: 'timing_carrier', file: 'plots/carrier-r2-per-unit.svg', spec });
  }
  return out;
}

/** Every §6.2 plot the inputs allow, rendered to SVG. */
export async function renderS6Plots(inputs: Record<string, StageOutput>): Promise<RenderedPlot[]> {
  return renderAll(s6PlotSpecs(inputs));
}
