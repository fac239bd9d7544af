// The aggregate over seeds, as files: its report.json, report.md and plots,
// computed from the seeds' report.json documents. The command line (lib/cli/sweep.ts)
// builds the seeds, finds the reference report and writes these files.

import { aggregate, fitLabel, renderAggregate, type Aggregate } from './aggregate.ts';
import type { ReportJson } from './audit.ts';
import { renderPlots, type PlotData } from './plot-data.ts';
import type { CurveSeries } from './plots.ts';
import type { PaperFigures } from './compare.ts';

async function paperFigures(): Promise<PaperFigures> {
  return (await import('./paper-figures.json', { with: { type: 'json' } })).default as PaperFigures;
}

function mean(xs: number[]) {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The aggregate's plot data: every seed's curve, and the other plots averaged over seeds. */
export function aggregatePlotData(reports: ReportJson[]): { data: PlotData; curves: CurveSeries[] } {
  const pd = reports.map((r) => r.plots as PlotData | null).filter((x): x is PlotData => !!x);
  const curves = pd.map((d) => d.curve).filter((c): c is CurveSeries => !!c);
  const first = pd[0];
  const avgRows = <T extends Record<string, any>>(get: (d: PlotData) => T[] | null, key: string, fields: string[]): T[] | null => {
    const lists = pd.map(get).filter((x): x is T[] => !!x);
    if (!lists.length) return null;
    const byKey = new Map<unknown, T[]>();
    for (const l of lists) for (const row of l) (byKey.get(row[key]) ?? byKey.set(row[key], []).get(row[key])!).push(row);
    return [...byKey.values()].map((rows) => ({ ...rows[0], ...Object.fromEntries(fields.map((f) => [f, mean(rows.map((r) => r[f]))])) }));
  };
  return {
    curves,
    data: {
      curve: null,
      influence: avgRows((d) => d.influence, 'd', ['signed', 'unsigned']),
      zHistogram: avgRows((d) => d.zHistogram, 'lo', ['count']),
      pairCounts: avgRows((d) => d.pairCounts, 'pair', ['neurons', 'meanR2'])?.sort((a, b) => b.neurons - a.neurons) ?? null,
      psPerUnit: first ? avgRows((d) => d.psPerUnit, 'unit', ['count']) : null,
    },
  };
}

/** The aggregate of the seeds' reports and its files (relative to the aggregate's folder). */
export async function aggregateFiles(
  reports: ReportJson[],
  reference: ReportJson | null,
  seeds: number[],
): Promise<{ label: string; aggregate: Aggregate; files: Record<string, string> }> {
  const figures = await paperFigures();
  const base = reports[0].label.replace(/-seed\d+/, '');
  const label = fitLabel(`aggregate-${base}-seeds${seeds.join('-')}`); // the seeds in full: report.json's seeds
  const agg = aggregate(label, reports, reference, figures);
  const { data, curves } = aggregatePlotData(reports);
  const plots = await renderPlots(data, curves);
  const files: Record<string, string> = {};
  for (const pl of plots) files[pl.file] = pl.svg;
  files['report.json'] = JSON.stringify(agg, null, 1) + '\n';
  files['report.md'] = renderAggregate(agg, plots.map((pl) => ({ title: pl.title, file: pl.file })));
  return { label, aggregate: agg, files };
}
