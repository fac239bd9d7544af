// `report --seeds 42,43,…` and `diff A B`: the CLI side of issue 7.
//
// Each seed is an ordinary build with --set train.seed=S, so it goes through the cache
// (seeds already built are not retrained). With --jobs N > 1, seeds run as N child
// pipeline processes at once (the per-stage locks make shared stages, like data, build
// once). The aggregate is then computed from the seeds' report.json files and written
// to reports/<aggregate label>/ with its plots.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Pipeline, Overrides, StageRun } from '../engine/pipeline.ts';
import { aggregate, renderAggregate, type Aggregate } from './aggregate.ts';
import type { ReportJson } from './audit.ts';
import { diffReports, renderDiff } from './diff.ts';
import { renderPlots, type PlotData } from './plot-data.ts';
import type { CurveSeries } from './plots.ts';
import type { PaperFigures } from './compare.ts';

async function paperFigures(): Promise<PaperFigures> {
  return (await import('./paper-figures.json', { with: { type: 'json' } })).default as PaperFigures;
}

function writeAtomic(file: string, content: string | Uint8Array) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

export interface SeedRun {
  seed: number;
  stages: StageRun[];
  report: string;
  reportJson: string;
}

/** Run one seed's report in a child pipeline process; its stderr lines are prefixed. */
function seedInChild(seed: number, argv: string[]): Promise<SeedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], 'report', '--json', ...argv, '--set', `train.seed=${seed}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      for (const line of String(d).split('\n')) if (line.trim()) process.stderr.write(`[seed ${seed}] ${line}\n`);
    });
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`seed ${seed}: pipeline exited with code ${code}\n${err.trim().split('\n').slice(-3).join('\n')}`));
      try {
        const j = JSON.parse(out);
        resolve({ seed, stages: j.stages, report: j.report, reportJson: j.reportJson });
      } catch {
        reject(new Error(`seed ${seed}: could not read the child's JSON output`));
      }
    });
  });
}

/** Reports in reports/ built on imported weights for the same data: the paper's-weights column. */
export function findReference(reportsDir: string, dataSha: string, prefer?: string): ReportJson | null {
  if (prefer) {
    const file = fs.existsSync(prefer) ? prefer : path.join(reportsDir, prefer, 'report.json');
    if (!fs.existsSync(file)) throw new Error(`--reference: no report at ${file}\nhint: build it with --set model.source=FILE, or pass a report.json path`);
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  }
  if (!fs.existsSync(reportsDir)) return null;
  const found: { r: ReportJson; mtime: number }[] = [];
  for (const d of fs.readdirSync(reportsDir)) {
    const f = path.join(reportsDir, d, 'report.json');
    if (!fs.existsSync(f)) continue;
    try {
      const r = JSON.parse(fs.readFileSync(f, 'utf8')) as ReportJson;
      if (r.model?.source === 'import' && r.data?.sha256 === dataSha) found.push({ r, mtime: fs.statSync(f).mtimeMs });
    } catch {
      /* not a report */
    }
  }
  found.sort((a, b) => b.mtime - a.mtime);
  return found[0]?.r ?? null;
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

export async function runSeeds(
  p: Pipeline,
  o: { seeds: number[]; overrides: Overrides; sets: string[]; jobs: number; force: boolean | string[]; reference?: string },
): Promise<{ runs: SeedRun[]; report: string; reportJson: string; aggregate: Aggregate }> {
  const src = o.overrides.model?.source;
  if (src !== undefined && src !== 'train') {
    throw Object.assign(new Error('--seeds trains one model per seed; it cannot be combined with --set model.source=FILE'), { reason: 'usage' });
  }
  if (o.overrides.train?.seed !== undefined) throw Object.assign(new Error('--seeds and --set train.seed cannot be combined'), { reason: 'usage' });
  const runs: SeedRun[] = [];
  if (o.jobs > 1) {
    const queue = [...o.seeds];
    const forceArgs = o.force === true ? ['--force'] : Array.isArray(o.force) ? o.force.flatMap((f) => ['--force', f]) : [];
    const argv = [...o.sets.flatMap((s) => ['--set', s]), ...forceArgs];
    const worker = async () => {
      for (let s = queue.shift(); s !== undefined; s = queue.shift()) runs.push(await seedInChild(s, argv));
    };
    await Promise.all(Array.from({ length: Math.min(o.jobs, o.seeds.length) }, worker));
    runs.sort((a, b) => o.seeds.indexOf(a.seed) - o.seeds.indexOf(b.seed));
  } else {
    for (const seed of o.seeds) {
      p.reporter.line(`seed ${seed}:`);
      const ov = { ...o.overrides, train: { ...(o.overrides.train ?? {}), seed } };
      const { runs: stages, entries } = await p.build(['report'], { overrides: ov, force: o.force });
      const j = p.json(entries.report);
      runs.push({ seed, stages, report: path.join(p.reportsDir, j.report), reportJson: path.join(p.reportsDir, j.reportJson) });
    }
  }
  const reports: ReportJson[] = runs.map((r) => JSON.parse(fs.readFileSync(r.reportJson, 'utf8')));
  const figures = await paperFigures();
  const reference = findReference(p.reportsDir, reports[0].data.sha256, o.reference);
  const base = reports[0].label.replace(/-seed\d+/, '');
  const label = `aggregate-${base}-seeds${o.seeds.join('-')}`;
  const agg = aggregate(label, reports, reference, figures);
  const { data, curves } = aggregatePlotData(reports);
  const plots = await renderPlots(data, curves);
  const dir = path.join(p.reportsDir, label);
  for (const pl of plots) writeAtomic(path.join(dir, pl.file), pl.svg);
  const report = path.join(dir, 'report.md');
  const reportJson = path.join(dir, 'report.json');
  writeAtomic(reportJson, JSON.stringify(agg, null, 1) + '\n');
  writeAtomic(report, renderAggregate(agg, plots.map((pl) => ({ title: pl.title, file: pl.file }))));
  return { runs, report, reportJson, aggregate: agg };
}

/** A report.json by path, or by label under reports/. */
export function loadReport(reportsDir: string, ref: string): ReportJson {
  const file = fs.existsSync(ref) && fs.statSync(ref).isFile() ? ref : path.join(reportsDir, ref, 'report.json');
  if (!fs.existsSync(file)) {
    const labels = fs.existsSync(reportsDir) ? fs.readdirSync(reportsDir).filter((d) => fs.existsSync(path.join(reportsDir, d, 'report.json'))) : [];
    throw Object.assign(new Error(`diff: no report "${ref}" (looked for ${file})\nreports: ${labels.join(', ') || '(none)'}`), { reason: 'usage' });
  }
  let j: any;
  try {
    j = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw Object.assign(new Error(`diff: ${file} is not JSON (${(e as Error).message})\nhint: name a report by its label under reports/ or by the path of its report.json`), { reason: 'usage' });
  }
  if (!j || typeof j !== 'object' || !j.metrics || !j.tables) throw Object.assign(new Error(`diff: ${file} is not a report.json (no metrics/tables)`), { reason: 'usage' });
  return j;
}

/** An aggregate whose reports include A or B, for flagging changes beyond the seed spread. */
export function findAggregate(reportsDir: string, labels: string[], prefer?: string): Aggregate | null {
  if (prefer) return JSON.parse(fs.readFileSync(fs.existsSync(prefer) ? prefer : path.join(reportsDir, prefer, 'report.json'), 'utf8'));
  if (!fs.existsSync(reportsDir)) return null;
  for (const d of fs.readdirSync(reportsDir).filter((x) => x.startsWith('aggregate-')).sort()) {
    const f = path.join(reportsDir, d, 'report.json');
    try {
      const a = JSON.parse(fs.readFileSync(f, 'utf8')) as Aggregate;
      if (a.reports?.some((r) => labels.includes(r))) return a;
    } catch {
      /* skip */
    }
  }
  return null;
}

export function runDiff(reportsDir: string, a: string, b: string, o: { json: boolean; aggregate?: string }): string {
  const A = loadReport(reportsDir, a);
  const B = loadReport(reportsDir, b);
  const agg = findAggregate(reportsDir, [A.label, B.label], o.aggregate);
  const d = diffReports(A, B, agg);
  return o.json ? JSON.stringify({ ...d, aggregate: agg?.label ?? null }) + '\n' : renderDiff(d) + (agg ? `(seed spread from ${agg.label})\n` : '');
}
