// The data behind the report's plots, taken from the stage outputs and kept in
// report.json (`plots`), so the aggregate can draw every seed's curve on one plot.

import type { StageOutput } from '../engine/types.ts';
import type { CurveSeries, HistogramBin, InfluenceRow, PairCount, UnitCount } from './plots.ts';
import { influenceSpec, pairCountsSpec, psPerUnitSpec, renderSvg, trainingCurvesSpec, zHistogramSpec } from './plots.ts';

export interface PlotData {
  curve: CurveSeries | null;
  influence: InfluenceRow[] | null;
  zHistogram: HistogramBin[] | null;
  pairCounts: PairCount[] | null;
  psPerUnit: UnitCount[] | null;
}

export function plotData(inputs: Record<string, StageOutput>): PlotData {
  const m = inputs.model?.json;
  let curve: CurveSeries | null = null;
  const perEpoch = inputs.model?.tensors.curveTrainBpc?.data as Float64Array | undefined;
  if (m?.train && perEpoch) {
    const pts: { epoch: number; evalBpc: number }[] = m.train.curve ?? [];
    curve = {
      label: `seed ${m.train.seed}`,
      epoch: Array.from(perEpoch, (_, i) => i + 1),
      trainBpc: Array.from(perEpoch),
      evalEpoch: pts.map((p) => p.epoch),
      evalBpc: pts.map((p) => p.evalBpc),
    };
  }
  const inf = inputs.influence?.json;
  const bool = inputs.boolean?.json;
  const fm = inputs['factor-map']?.json;
  const cp = inputs['carrier-pattern']?.json;
  return {
    curve,
    influence: inf ? inf.rows.map((r: any) => ({ d: r.d, signed: r.signed, unsigned: r.unsigned })) : null,
    zHistogram: bool
      ? bool.histogram.counts.map((count: number, i: number, a: number[]) => ({
          lo: i * bool.histogram.width,
          hi: i < a.length - 1 ? (i + 1) * bool.histogram.width : null,
          count,
        }))
      : null,
    pairCounts: fm
      ? fm.groups.map((g: any) => ({
          pair: g.pair ? `(${g.pair.join(', ')})` : 'other',
          neurons: g.neurons,
          meanR2: g.meanR2 ?? 0,
        }))
      : null,
    psPerUnit: cp ? (cp.psCountPerUnit as number[]).map((count, unit) => ({ unit, count })) : null,
  };
}

export interface RenderedPlot {
  title: string;
  file: string; // relative to the report's folder
  svg: string;
}

/** Render every plot the data allows. `curves` overrides the single training curve (aggregate). */
export async function renderPlots(d: PlotData, curves?: CurveSeries[]): Promise<RenderedPlot[]> {
  const out: RenderedPlot[] = [];
  const allCurves = curves ?? (d.curve ? [d.curve] : []);
  if (allCurves.length) out.push({ title: 'Training curves (train bpc per epoch, eval points)', file: 'plots/training-curves.svg', svg: await renderSvg(trainingCurvesSpec(allCurves)) });
  if (d.influence) out.push({ title: 'Table 3: signed and unsigned influence by offset', file: 'plots/influence.svg', svg: await renderSvg(influenceSpec(d.influence)) });
  if (d.zHistogram) out.push({ title: '§3.2: histogram of |z|', file: 'plots/z-histogram.svg', svg: await renderSvg(zHistogramSpec(d.zHistogram)) });
  if (d.pairCounts) out.push({ title: 'Table 1: neurons per best offset pair', file: 'plots/pair-counts.svg', svg: await renderSvg(pairCountsSpec(d.pairCounts)) });
  if (d.psPerUnit) out.push({ title: '§5.2: pattern-sensitive positions per unit', file: 'plots/ps-per-unit.svg', svg: await renderSvg(psPerUnitSpec(d.psPerUnit)) });
  return out;
}
