// The aggregate over seeds: for every metric and every numeric table cell, the
// mean ± sd and min–max over the seeds' reports, beside the paper's figure and the figure
// on the paper's weights. Table rows are matched across seeds by their label (the first
// text cell), not by position: Table 1's largest groups differ from seed to seed.

import type { PaperFigures, ResolvedCell, ResolvedCmp } from './compare.ts';
import { auditRows, renderAudit, spread, type AuditRow, type ReportJson, type Spread } from './audit.ts';
import { esc, noHtml } from './markdown.ts';

export interface AggCell {
  spread: Spread | null;
  paper: string | null;
  reference: number | null;
}

export interface AggTable {
  id: string;
  title: string;
  section: string;
  positions: string;
  columns: { key: string; label: string }[];
  rows: { label: string; cells: Record<string, AggCell | string> }[];
}

export interface Aggregate {
  label: string;
  seeds: (number | string)[];
  reports: string[];
  reference: string | null;
  metrics: Record<string, AggCell & { section: string }>;
  tables: Record<string, AggTable>;
  audit: AuditRow[];
}

export function num(c: ResolvedCell | undefined): number | null {
  if (typeof c === 'number') return c;
  if (c && typeof c === 'object') return (c as ResolvedCmp).ours;
  return null;
}

function paperOf(c: ResolvedCell | undefined): string | null {
  return c && typeof c === 'object' ? (c as ResolvedCmp).paper : null;
}

export function rowLabel(row: Record<string, ResolvedCell>, i: number): string {
  const s = Object.values(row).find((v) => typeof v === 'string');
  return typeof s === 'string' ? s : `row ${i}`;
}

export function aggregate(label: string, trained: ReportJson[], reference: ReportJson | null, figures: PaperFigures): Aggregate {
  if (!trained.length) throw new Error('aggregate: no reports to aggregate');
  const metrics: Aggregate['metrics'] = {};
  // Older ids kept as aliases (aliasOf) repeat a metric: the aggregate lists each once.
  const ids = [...new Set(trained.flatMap((r) => Object.keys(r.metrics).filter((id) => !r.metrics[id].aliasOf)))];
  for (const id of ids) {
    const vals = trained.map((r) => r.metrics[id]?.value).filter((x): x is number => typeof x === 'number');
    const any = trained.find((r) => r.metrics[id])!.metrics[id];
    metrics[id] = { spread: spread(vals), paper: any.paper, reference: reference?.metrics[id]?.value ?? null, section: any.section };
  }
  const tables: Record<string, AggTable> = {};
  const tableIds = [...new Set(trained.flatMap((r) => Object.keys(r.tables)))];
  for (const tid of tableIds) {
    const first = trained.find((r) => r.tables[tid])!.tables[tid];
    const labels: string[] = [];
    const byLabel = new Map<string, Record<string, ResolvedCell>[]>();
    for (const r of trained) {
      r.tables[tid]?.rows.forEach((row, i) => {
        const l = rowLabel(row, i);
        if (!byLabel.has(l)) {
          byLabel.set(l, []);
          labels.push(l);
        }
        byLabel.get(l)!.push(row);
      });
    }
    const refRows = new Map<string, Record<string, ResolvedCell>>();
    reference?.tables[tid]?.rows.forEach((row, i) => refRows.set(rowLabel(row, i), row));
    const rows = labels.map((l) => {
      const group = byLabel.get(l)!;
      const cells: Record<string, AggCell | string> = {};
      for (const col of first.columns) {
        const values = group.map((row) => num(row[col.key])).filter((x): x is number => x !== null);
        if (!values.length) {
          const text = group.map((row) => row[col.key]).find((v) => typeof v === 'string');
          cells[col.key] = typeof text === 'string' ? text : '';
          continue;
        }
        cells[col.key] = {
          spread: spread(values),
          paper: group.map((row) => paperOf(row[col.key])).find((p) => p !== null) ?? null,
          reference: num(refRows.get(l)?.[col.key]) ?? null,
        };
      }
      return { label: l, cells };
    });
    tables[tid] = { id: tid, title: first.title, section: first.section, positions: first.positions, columns: first.columns, rows };
  }
  return {
    label,
    seeds: trained.map((r) => r.model.train?.seed ?? r.label),
    reports: trained.map((r) => r.label),
    reference: reference?.label ?? null,
    metrics,
    tables,
    audit: auditRows(figures, trained, reference),
  };
}

const fmt = (x: number | null | undefined, d = 4) => (x === null || x === undefined ? '—' : Number.isInteger(x) ? String(x) : x.toFixed(d));

export function fmtAgg(c: AggCell): string {
  const s = c.spread;
  if (!s) return '—';
  if (s.n === 1) return fmt(s.mean);
  return `${fmt(s.mean)} ± ${fmt(s.sd)} [${fmt(s.min)}, ${fmt(s.max)}]`;
}

export function renderAggregate(a: Aggregate, plots: { title: string; file: string }[] = []): string {
  const out = [
    `# total-interp aggregate: ${a.label}`,
    '',
    `Seeds ${a.seeds.join(', ')} (reports: ${a.reports.map((r) => `\`${r}\``).join(', ')}).` +
      (a.reference ? ` Paper's-weights figures from \`${a.reference}\`.` : " No report on the paper's weights was found; build one with `--set model.source=FILE` to fill that column."),
    'Cells are mean ± sd [min, max] over seeds.',
    '',
    renderAudit(a.audit, { seeds: a.seeds.length }),
    '',
  ];
  if (plots.length) {
    out.push('## Plots', '');
    for (const p of plots) out.push(`![${p.title}](${p.file})`, '');
  }
  out.push('## Metrics', '', "| metric | section | mean ± sd [min, max] | paper | paper's weights |", '|---|---|---|---|---|');
  for (const [id, m] of Object.entries(a.metrics)) out.push(`| \`${id}\` | ${m.section} | ${fmtAgg(m)} | ${m.paper ?? '—'} | ${fmt(m.reference)} |`);
  out.push('');
  for (const t of Object.values(a.tables)) {
    out.push(`### ${t.title} (${t.section})`, '', `<!-- table:${t.id} -->`, `Positions: ${t.positions}.`, '');
    const hasPaper = new Set(t.columns.filter((c) => t.rows.some((r) => typeof r.cells[c.key] === 'object' && (r.cells[c.key] as AggCell).paper !== null)).map((c) => c.key));
    const hasRef = new Set(t.columns.filter((c) => t.rows.some((r) => typeof r.cells[c.key] === 'object' && (r.cells[c.key] as AggCell).reference !== null)).map((c) => c.key));
    const head: string[] = [];
    for (const c of t.columns) {
      head.push(c.label);
      if (hasPaper.has(c.key)) head.push(`${c.label} (paper)`);
      if (hasRef.has(c.key)) head.push(`${c.label} (paper's weights)`);
    }
    out.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
    for (const r of t.rows) {
      const cells: string[] = [];
      for (const c of t.columns) {
        const v = r.cells[c.key];
        cells.push(typeof v === 'string' ? esc(v) : fmtAgg(v)); // the seeds' cells may hold data (bytes)
        if (hasPaper.has(c.key)) cells.push(typeof v === 'object' ? (v.paper ?? '') : '');
        if (hasRef.has(c.key)) cells.push(typeof v === 'object' ? fmt(v.reference) : '');
      }
      out.push(`| ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  return noHtml(out.join('\n')); // no HTML from the data, as in report.md (markdown.ts)
}
