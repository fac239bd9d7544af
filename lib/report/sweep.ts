// The aggregate of a sweep (issue 15): chosen metrics against the swept params, one row
// per point (a combination of the swept values), each cell the mean ± sd [min, max] over
// that point's seeds; a plot per metric with the seed spread (mean line, min–max band,
// every seed as a dot); a few sentences generated from the numbers; and, per point, the
// usual aggregate over its seeds (every metric of lib/report/aggregate.ts).
//
// Input: per built point (one combination × one seed) a report-shaped document (metrics
// and tables as in report.json), made by the command line from the point's stage outputs
// (lib/cli/sweep.ts). Nothing here knows a stage; metrics are read from those documents.

import { createHash } from 'node:crypto';
import { aggregate, fitLabel, num, rowLabel, type Aggregate } from './aggregate.ts';
export { fitLabel, MAX_LABEL } from './aggregate.ts';
import { spread, type ReportJson, type Spread } from './audit.ts';
import { noHtml } from './markdown.ts';
import type { PaperFigures } from './compare.ts';
import { renderSvg } from './plots.ts';
import { sweepPlotSpec } from './sweep-plots.ts';

export interface SweepMetric {
  id: string;
  label: string;
  group: string;
  pick: (r: ReportJson) => number | null;
}

const metric = (id: string) => (r: ReportJson) => {
  const v = r.metrics[id]?.value;
  return typeof v === 'number' ? v : null;
};

/** `d = 2` names the row "d = 2" and "d = 2 (…)", never "d = 20–49 (mean)". */
const labelIs = (label: string, row: string) => label.startsWith(row) && !/\d/.test(label.charAt(row.length));

/** A numeric cell of a report table: the row whose label is `row` (or starts with it, then no digit), column `col`. */
const cell = (table: string, row: string, col: string) => (r: ReportJson) => {
  const t = r.tables[table];
  const hit = t?.rows.find((x, i) => labelIs(rowLabel(x, i), row));
  return hit ? num(hit[col]) : null;
};

/**
 * trained_bpc: the isomorphism stage's figure when it was built; otherwise the model's
 * best-checkpoint eval bpc (the same quantity: all N-1 positions, the checkpoint kept).
 */
const trainedBpc = (r: ReportJson) => metric('trained_bpc')(r) ?? cell('training', 'Best-checkpoint eval bpc', 'value')(r);

const T2 = 'Table 2: carrier/pattern (§5.2)';
const T3 = 'Table 3: signed influence (§5.3)';
const Q1 = 'Timing rules build the carrier (§6.1)';

/** The SPEC §6.4 figures (Q3), in the order the aggregate shows them. */
export const Q3_METRICS: SweepMetric[] = [
  { id: 'trained_bpc', label: 'trained bpc', group: 'Training (§2)', pick: trainedBpc },
  { id: 'ps_per_position', label: 'PS units per position', group: T2, pick: metric('ps_per_position') },
  { id: 'carrier_only_bpc', label: 'carrier-only bpc', group: T2, pick: metric('carrier_only_bpc') },
  { id: 'pattern_gain_bpc', label: 'pattern gain (bpc)', group: T2, pick: metric('pattern_gain_bpc') },
  { id: 'byte_identity_fraction', label: 'byte-identity fraction', group: T2, pick: metric('byte_identity_fraction') },
  { id: 'influence.d0.signed', label: 'signed influence d = 0', group: T3, pick: cell('table3_influence', 'd = 0', 'signed') },
  { id: 'influence.d1.signed', label: 'signed influence d = 1', group: T3, pick: cell('table3_influence', 'd = 1', 'signed') },
  { id: 'influence.d2.signed', label: 'signed influence d = 2', group: T3, pick: cell('table3_influence', 'd = 2', 'signed') },
  { id: 'influence.d20-49.signed', label: 'signed influence d = 20–49 (mean)', group: T3, pick: cell('table3_influence', 'd = 20', 'signed') },
  ...(['wl_tag', 'x1_x2'] as const).flatMap((set) => {
    const name = set.replace('_', '+');
    return [
      { id: `timing_carrier.${set}.carrier_r2`, label: `${name} carrier R²`, group: Q1, pick: metric(`timing_carrier.${set}.carrier_r2`) },
      { id: `timing_carrier.${set}.bpc`, label: `${name} bpc`, group: Q1, pick: metric(`timing_carrier.${set}.bpc`) },
      { id: `timing_carrier.${set}.heldout_bpc`, label: `${name} held-out bpc`, group: Q1, pick: metric(`timing_carrier.${set}.heldout_bpc`) },
    ];
  }),
];

/**
 * The metrics a sweep shows. `wanted`: ids (of Q3_METRICS or of report metrics), in that
 * order; unknown ids are returned in `unknown`. Default: the Q3 figures the documents
 * have, else every metric they have.
 */
export function chooseMetrics(docs: ReportJson[], wanted?: string[]): { metrics: SweepMetric[]; unknown: string[]; available: string[] } {
  const has = (m: SweepMetric) => docs.some((d) => m.pick(d) !== null);
  const reportIds = [...new Set(docs.flatMap((d) => Object.keys(d.metrics)))];
  const byId = new Map<string, SweepMetric>(Q3_METRICS.map((m) => [m.id, m]));
  for (const id of reportIds) if (!byId.has(id)) byId.set(id, { id, label: id, group: docs.find((d) => d.metrics[id])!.metrics[id].section, pick: metric(id) });
  const available = [...byId.values()].filter(has).map((m) => m.id);
  if (wanted?.length) {
    const unknown = wanted.filter((w) => !available.includes(w));
    return { metrics: wanted.filter((w) => available.includes(w)).map((w) => byId.get(w)!), unknown, available };
  }
  const q3 = Q3_METRICS.filter(has);
  return { metrics: q3.length ? q3 : [...byId.values()].filter(has), unknown: [], available };
}

export interface SweepAxis {
  /** stage.param */
  param: string;
  values: unknown[];
}

/** One built point: the swept values (seed apart), its seed, and its document. */
export interface SweepPointInput {
  values: Record<string, unknown>;
  seed: number | null;
  doc: ReportJson;
  /** The point's report.md, when the report stage was a target. */
  report: string | null;
}

export interface SweepCell {
  spread: Spread | null;
  /** Per seed, in the row's seed order (null: not computed). */
  values: (number | null)[];
}

export interface SweepRow {
  values: Record<string, unknown>;
  seeds: (number | null)[];
  reports: (string | null)[];
  epochs: (number | null)[];
  metrics: Record<string, SweepCell>;
  /** The usual aggregate over this point's seeds (mean ± sd [min, max] of every metric and table cell). */
  aggregate: Omit<Aggregate, 'audit'>;
}

export interface SweepJson {
  label: string;
  kind: 'sweep';
  axes: SweepAxis[];
  seeds: (number | null)[];
  targets: string[];
  /** Params set for every point (stage.param=value). */
  fixed: string[];
  metrics: { id: string; label: string; group: string }[];
  rows: SweepRow[];
  summary: string[];
}

const pointKey = (values: Record<string, unknown>) => JSON.stringify(values);

/** The label reports/<label>/ gets: the swept params and values, the seeds, and a hash of the rest (at most MAX_LABEL characters). */
export function sweepLabel(axes: SweepAxis[], seeds: (number | null)[], fixed: string[], targets: string[]): string {
  const parts = axes.map((a) => `${a.param}-${a.values.map((v) => String(v)).join('-')}`);
  if (seeds.some((s) => s !== null)) parts.push(`seeds${seeds.join('-')}`);
  const extra = [...fixed, ...(targets.length === 1 && targets[0] === 'report' ? [] : [`targets=${targets.join(',')}`])];
  const hash = extra.length ? `-p${createHash('sha256').update(extra.join('\n')).digest('hex').slice(0, 8)}` : '';
  return fitLabel(`sweep-${parts.join('-')}${hash}`.replace(/[^A-Za-z0-9._-]+/g, '_'));
}

export function sweepAggregate(
  o: { label: string; axes: SweepAxis[]; seeds: (number | null)[]; targets: string[]; fixed: string[] },
  points: SweepPointInput[],
  metrics: SweepMetric[],
  figures: PaperFigures,
): SweepJson {
  const groups = new Map<string, SweepPointInput[]>();
  for (const pt of points) (groups.get(pointKey(pt.values)) ?? groups.set(pointKey(pt.values), []).get(pointKey(pt.values))!).push(pt);
  const rows: SweepRow[] = [...groups.values()].map((pts) => {
    const cells: Record<string, SweepCell> = {};
    for (const m of metrics) {
      const values = pts.map((pt) => m.pick(pt.doc));
      cells[m.id] = { values, spread: spread(values.filter((v): v is number => v !== null)) };
    }
    const { audit: _audit, ...agg } = aggregate(`${o.label}:${pointKey(pts[0].values)}`, pts.map((pt) => pt.doc), null, figures);
    return {
      values: pts[0].values,
      seeds: pts.map((pt) => pt.seed),
      reports: pts.map((pt) => pt.report),
      epochs: pts.map((pt) => (typeof pt.doc.model.train?.epochs === 'number' ? (pt.doc.model.train.epochs as number) : null)),
      metrics: cells,
      aggregate: agg,
    };
  });
  const s: SweepJson = {
    label: o.label,
    kind: 'sweep',
    axes: o.axes,
    seeds: o.seeds,
    targets: o.targets,
    fixed: o.fixed,
    metrics: metrics.map(({ id, label, group }) => ({ id, label, group })),
    rows,
    summary: [],
  };
  s.summary = sweepSentences(s);
  return s;
}

// ---------------------------------------------------------------- the sentences

/** Four significant digits (integers as they are), so that small figures do not print as 0.0000. */
const f = (x: number) => (Number.isInteger(x) ? String(x) : Math.abs(x) >= 1000 ? x.toFixed(1) : x === 0 ? '0' : x.toPrecision(4));
const fmtSpread = (s: Spread | null | undefined) => (!s ? '—' : s.n === 1 ? f(s.mean) : `${f(s.mean)} ± ${s.sd === null ? '—' : f(s.sd)} [${f(s.min)}, ${f(s.max)}]`);
const pointName = (s: SweepJson, r: SweepRow) => s.axes.map((a) => `${a.param} = ${String(r.values[a.param])}`).join(', ');

/** How a metric moves along the rows: first and last mean, steps up and down, and against the seed spread. */
export function trend(s: SweepJson, id: string): { first: number; last: number; ups: number; downs: number; beyondSpread: boolean } | null {
  const means = s.rows.map((r) => r.metrics[id]?.spread?.mean).filter((x): x is number => typeof x === 'number');
  if (means.length < 2) return null;
  let ups = 0;
  let downs = 0;
  for (let i = 1; i < means.length; i++) {
    if (means[i] > means[i - 1]) ups++;
    else if (means[i] < means[i - 1]) downs++;
  }
  const widths = s.rows.map((r) => r.metrics[id]?.spread).filter((x): x is Spread => !!x).map((x) => x.max - x.min);
  const width = Math.max(0, ...widths);
  const first = means[0];
  const last = means[means.length - 1];
  return { first, last, ups, downs, beyondSpread: Math.abs(last - first) > width };
}

function trendWords(s: SweepJson, id: string, label: string): string | null {
  const t = trend(s, id);
  if (!t) return null;
  const steps = t.ups + t.downs;
  const dir = t.last > t.first ? 'rises' : t.last < t.first ? 'falls' : 'stays';
  const shape = steps === 0 ? '' : t.ups === 0 || t.downs === 0 ? ', monotonically' : ` (up ${t.ups}, down ${t.downs} of ${s.rows.length - 1} steps)`;
  const spreadWords = s.rows.some((r) => (r.metrics[id]?.spread?.n ?? 0) > 1)
    ? t.beyondSpread
      ? ', more than the widest seed spread'
      : ', within the widest seed spread'
    : '';
  return `${label} ${dir} from ${f(t.first)} to ${f(t.last)}${shape}${spreadWords}`;
}

/** A few sentences on what the figures show, computed from the rows (never written in). */
export function sweepSentences(s: SweepJson): string[] {
  if (!s.rows.length) return [];
  const out: string[] = [];
  const first = s.rows[0];
  const last = s.rows[s.rows.length - 1];
  const nSeeds = Math.max(...s.rows.map((r) => r.seeds.length));
  const epochs = (r: SweepRow) => [...new Set(r.epochs.filter((e): e is number => e !== null))].join('/');
  out.push(
    `From ${pointName(s, first)} to ${pointName(s, last)} (${s.rows.length} points, ${nSeeds} seed${nSeeds === 1 ? '' : 's'} each` +
      (epochs(first) && epochs(last) ? `; ${epochs(first)} → ${epochs(last)} epochs` : '') +
      ').',
  );
  const has = (id: string) => s.metrics.some((m) => m.id === id);
  const byGroup = new Map<string, string[]>();
  for (const m of s.metrics) {
    const w = trendWords(s, m.id, m.label);
    if (w) (byGroup.get(m.group) ?? byGroup.set(m.group, []).get(m.group)!).push(w);
  }
  for (const [g, ws] of byGroup) out.push(`${g}: ${ws.join('; ')}.`);
  const seedValues = (id: string, r: SweepRow) => r.metrics[id]?.values.filter((v): v is number => v !== null) ?? [];
  if (has('pattern_gain_bpc')) {
    const bad = s.rows.filter((r) => seedValues('pattern_gain_bpc', r).some((v) => v <= 0));
    const all = s.rows.flatMap((r) => seedValues('pattern_gain_bpc', r));
    if (all.length) {
      out.push(
        bad.length
          ? `The pattern gain is zero or negative for some seed at ${bad.map((r) => pointName(s, r)).join('; ')}: there the byte identity adds nothing beyond the carrier.`
          : `The pattern gain stays positive for every seed at every point (smallest ${f(Math.min(...all))} bpc): the carrier alone never matches the model, so the decomposition's pattern part keeps a role as the data grows.`,
      );
    }
  }
  if (has('influence.d0.signed') && has('influence.d20-49.signed')) {
    const m0 = (r: SweepRow) => r.metrics['influence.d0.signed']?.spread?.mean;
    const mb = (r: SweepRow) => r.metrics['influence.d20-49.signed']?.spread?.mean;
    const rows = s.rows.filter((r) => typeof m0(r) === 'number' && typeof mb(r) === 'number');
    const recent = rows.filter((r) => Math.abs(m0(r)!) > Math.abs(mb(r)!));
    if (rows.length) {
      out.push(
        recent.length === rows.length
          ? `At every point the mean signed influence of the byte just read (d = 0) exceeds in size the d = 20–49 band's (${rows.map((r) => `${f(m0(r)!)} vs ${f(mb(r)!)}`).join(', ')}): influence stays concentrated on recent bytes.`
          : `The d = 0 signed influence exceeds the d = 20–49 band's in size at ${recent.length} of ${rows.length} points only${recent.length ? ` (${recent.map((r) => pointName(s, r)).join('; ')})` : ''}.`,
      );
    }
  }
  return out;
}

// ---------------------------------------------------------------- the files

export function renderSweep(s: SweepJson, plots: { title: string; file: string }[]): string {
  const out: string[] = [`# total-interp sweep: ${s.label}`, ''];
  out.push(
    `Swept: ${s.axes.map((a) => `\`${a.param}\` = ${a.values.map(String).join(', ')}`).join('; ')}` +
      (s.seeds.some((x) => x !== null) ? `; seeds ${s.seeds.join(', ')}` : '') +
      `. Built: ${s.targets.join(', ')} and their upstream stages. Fixed: ${s.fixed.map((x) => `\`${x}\``).join(', ') || 'defaults'}.`,
    'Cells are mean ± sd [min, max] over seeds; plots show the mean, the min–max band and each seed.',
    ...(s.metrics.some((m) => m.id === 'trained_bpc')
      ? ["trained bpc: the model's eval bpc over all N − 1 positions (`trained_bpc` of the isomorphism stage where it was built, else the training's best-checkpoint eval bpc, the same quantity)."]
      : []),
    '',
    '## What the figures show',
    '',
    ...s.summary.map((x) => `- ${x}`),
    '',
  );
  const groups = [...new Set(s.metrics.map((m) => m.group))];
  for (const g of groups) {
    const ms = s.metrics.filter((m) => m.group === g);
    out.push(`## ${g}`, '');
    const head = [...s.axes.map((a) => `\`${a.param}\``), 'epochs', ...ms.map((m) => m.label)];
    out.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
    for (const r of s.rows) {
      const ep = [...new Set(r.epochs.filter((e) => e !== null))].join('/') || '—';
      out.push(`| ${[...s.axes.map((a) => String(r.values[a.param])), ep, ...ms.map((m) => fmtSpread(r.metrics[m.id]?.spread))].join(' | ')} |`);
    }
    out.push('');
    for (const m of ms) {
      const p = plots.find((x) => x.file === plotFile(m.id));
      if (p) out.push(`![${p.title}](${p.file})`, '');
    }
  }
  out.push('## Every metric at each point (mean ± sd [min, max] over seeds)', '');
  for (const r of s.rows) {
    out.push(`### ${pointName(s, r)}`, '', `Seeds ${r.seeds.join(', ')}${r.reports.some((x) => x) ? `; reports: ${r.reports.filter((x) => x).map((x) => `[${x}](../${x})`).join(', ')}` : ''}.`, '');
    const ids = Object.keys(r.aggregate.metrics);
    if (!ids.length) {
      out.push('(no report metrics at this point)', '');
      continue;
    }
    out.push('| metric | section | mean ± sd [min, max] |', '|---|---|---|');
    for (const id of ids) out.push(`| \`${id}\` | ${r.aggregate.metrics[id].section} | ${fmtSpread(r.aggregate.metrics[id].spread)} |`);
    out.push('');
  }
  return noHtml(out.join('\n')); // no HTML from the data, as in report.md (markdown.ts)
}

const plotFile = (id: string) => `plots/${id.replace(/[^A-Za-z0-9._-]+/g, '_')}.svg`;

/** The sweep's files (relative to reports/<label>/): report.json, report.md and a plot per metric. */
export async function sweepFiles(s: SweepJson): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const plots: { title: string; file: string }[] = [];
  for (const m of s.metrics) {
    const title = `${m.label} against ${s.axes[0]?.param ?? 'point'}`;
    files[plotFile(m.id)] = await renderSvg(sweepPlotSpec(s, m.id, title));
    plots.push({ title, file: plotFile(m.id) });
  }
  files['report.json'] = JSON.stringify(s, null, 1) + '\n';
  files['report.md'] = renderSweep(s, plots);
  return files;
}
