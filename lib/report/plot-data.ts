// The data behind the report's plots, taken from the stage outputs and kept in
// report.json (`plots`), so the aggregate can draw every seed's curve on one plot; and the
// marks drawn on them: the analysed checkpoint, the margin |z| = 1, and the paper's own
// figures, read from paper-figures.json by key (never written here).

import type { StageOutput } from '../engine/types.ts';
import type { PaperFigures } from './compare.ts';
import type { CurveSeries, HistogramBin, InfluenceRow, PairCount, PaperMark, UnitCount } from './plots.ts';
import { influenceSpec, pairCountsSpec, psPerUnitSpec, renderSvg, trainingCurvesSpec, zHistogramSpec } from './plots.ts';

/** What the plots mark besides our data (all optional: an aggregate has none of them). */
export interface PlotMarks {
  checkpoint?: number | null;
  paperFinalBpc?: number | null;
  influence?: PaperMark[];
  margin?: number | null;
  meanAbsZ?: number | null;
  paperMeanAbsZ?: number | null;
  pairCounts?: { pair: string; neurons: number }[];
  psTop?: UnitCount[];
  /** How many of the most often PS units to name. */
  nameTopUnits?: number;
}

export interface PlotData {
  curve: CurveSeries | null;
  influence: InfluenceRow[] | null;
  zHistogram: HistogramBin[] | null;
  pairCounts: PairCount[] | null;
  psPerUnit: UnitCount[] | null;
  marks?: PlotMarks;
}

/** The paper's number for a key of paper-figures.json, or null. */
function fig(figures: PaperFigures | undefined, key: string): number | null {
  const v = figures?.[key]?.value;
  const x = v === undefined ? NaN : Number(v);
  return Number.isFinite(x) ? x : null;
}

/** The paper's figures the plots can draw, found by the shape of their keys. */
export function paperMarks(figures: PaperFigures | undefined): Pick<PlotMarks, 'paperFinalBpc' | 'influence' | 'paperMeanAbsZ' | 'pairCounts' | 'psTop'> {
  const keys = Object.keys(figures ?? {});
  const influence: PaperMark[] = [];
  for (const k of keys) {
    // table3.d<a>.<col> or table3.d<a>-<b>.<col>
    const m = /^table3\.d(\d+)(?:-(\d+))?\.(signed|unsigned)$/.exec(k);
    const y = fig(figures, k);
    if (!m || y === null) continue;
    influence.push({ x: m[2] ? [Number(m[1]), Number(m[2])] : Number(m[1]), y, series: `${m[3]} (paper${figures![k].approx ? ', ~' : ''})` });
  }
  const pairCounts: { pair: string; neurons: number }[] = [];
  const psTop: UnitCount[] = [];
  for (const k of keys) {
    const p = /^table1\.(\(\d+,\d+\))\.neurons$/.exec(k);
    if (p && fig(figures, k) !== null) pairCounts.push({ pair: p[1], neurons: fig(figures, k)! });
    const u = /^ps_top\.h(\d+)$/.exec(k);
    if (u && fig(figures, k) !== null) psTop.push({ unit: Number(u[1]), count: fig(figures, k)! });
  }
  return { paperFinalBpc: fig(figures, 'trained_bpc'), influence, paperMeanAbsZ: fig(figures, 'mean_abs_preactivation'), pairCounts, psTop };
}

export function plotData(inputs: Record<string, StageOutput>, figures?: PaperFigures): PlotData {
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
    marks: {
      ...paperMarks(figures),
      checkpoint: m?.train?.bestEpoch ?? null,
      margin: bool ? (bool.threshold ?? null) : null,
      meanAbsZ: bool ? (bool.meanAbsZ ?? null) : null,
      nameTopUnits: cp ? (cp.topUnits?.length ?? 5) : undefined,
    },
  };
}

export interface RenderedPlot {
  /** Short name: the SVG is plots/<name>.svg, its interactive version an anchor of plots/interactive.html. */
  name: string;
  title: string;
  file: string; // relative to the report's folder
  /** The report table the plot belongs beside (its id), if any. */
  table: string | null;
  spec: object;
  svg: string;
}

/** The specs of every plot the data allows. `curves` overrides the single training curve (aggregate). */
export function plotSpecs(d: PlotData, curves?: CurveSeries[]): Omit<RenderedPlot, 'svg' | 'file'>[] {
  const out: Omit<RenderedPlot, 'svg' | 'file'>[] = [];
  const mk = d.marks ?? {};
  const allCurves = curves ?? (d.curve ? [d.curve] : []);
  if (allCurves.length) {
    out.push({
      name: 'training-curves',
      title: 'Training curves (train bpc per epoch as lines, eval bpc as points)',
      table: 'params',
      spec: trainingCurvesSpec(allCurves, { checkpoint: curves ? null : mk.checkpoint, paper: mk.paperFinalBpc }),
    });
  }
  if (d.influence) out.push({ name: 'influence', title: 'Table 3: signed and unsigned influence by offset, with the paper\'s values', table: 'table3_influence', spec: influenceSpec(d.influence, mk.influence) });
  if (d.zHistogram) {
    out.push({
      name: 'z-histogram',
      title: '§3.2: histogram of |z|, with |z| = 1 and the mean |z| (ours and the paper\'s)',
      table: 'boolean_margin_histogram',
      spec: zHistogramSpec(d.zHistogram, { margin: mk.margin, ours: mk.meanAbsZ, paper: mk.paperMeanAbsZ }),
    });
  }
  if (d.pairCounts) out.push({ name: 'pair-counts', title: 'Table 1: neurons per best offset pair, with the paper\'s counts', table: 'table1_factor_map', spec: pairCountsSpec(d.pairCounts, mk.pairCounts) });
  if (d.psPerUnit) {
    out.push({
      name: 'ps-per-unit',
      title: '§5.2: pattern-sensitive positions per unit, top units named, with the paper\'s counts',
      table: 'table2_carrier_pattern',
      spec: psPerUnitSpec(d.psPerUnit, { name: mk.nameTopUnits ?? 5, paper: mk.psTop }),
    });
  }
  return out;
}

/** Render every plot the data allows to SVG (all asked of the render thread at once). */
export async function renderPlots(d: PlotData, curves?: CurveSeries[]): Promise<RenderedPlot[]> {
  return renderAll(plotSpecs(d, curves).map((p) => ({ ...p, file: `plots/${p.name}.svg` })));
}

/** Each plot with its SVG, in order; all are asked of the render thread at once. */
export async function renderAll(plots: Omit<RenderedPlot, 'svg'>[]): Promise<RenderedPlot[]> {
  const svgs = await Promise.all(plots.map((p) => renderSvg(p.spec)));
  return plots.map((p, i) => ({ ...p, svg: svgs[i] }));
}
