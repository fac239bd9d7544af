// report.md is rendered from report.json's data, never computed on its own.
// A comparison column becomes two columns, ours and "paper", and each row ends with the
// worst status of its comparisons.

import { digitsFor, fmtNumber, type ResolvedCmp, type ResolvedCell, type ResolvedMetric, type ResolvedTable } from './compare.ts';
import type { FigureCount } from './summary.ts';
import { definitionLink } from './definitions-link.ts';

export interface ReportDoc {
  label: string;
  title: string;
  intro: string[];
  tables: ResolvedTable[];
  metrics: ResolvedMetric[];
  summary: FigureCount;
  /** Markdown blocks before the tables (the summary). */
  preface?: string[];
  /** Markdown shown right after a table (its plots), by table id. */
  plotsAfter?: Record<string, string>;
  /** Markdown blocks after the metrics (plots without a table, the audit). */
  appendix?: string[];
}

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function isCmp(c: ResolvedCell): c is ResolvedCmp {
  return typeof c === 'object' && c !== null;
}

function fmtCell(c: ResolvedCell): string {
  if (c === null || c === undefined) return '—';
  if (typeof c === 'number') return fmtNumber(c, Number.isInteger(c) ? 0 : 4);
  if (typeof c === 'string') return esc(c);
  return fmtNumber(c.ours, digitsFor(c));
}

export function renderTable(t: ResolvedTable): string {
  const cmpCols = new Set(t.columns.filter((col) => t.rows.some((r) => isCmp(r[col.key]) && (r[col.key] as ResolvedCmp).ref)).map((c) => c.key));
  const head: string[] = [];
  for (const col of t.columns) {
    head.push(esc(col.label));
    if (cmpCols.has(col.key)) head.push(`${esc(col.label)} (paper)`);
  }
  const hasStatus = t.rowStatus.some((s) => s !== '');
  if (hasStatus) head.push('status');
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  t.rows.forEach((r, i) => {
    const cells: string[] = [];
    for (const col of t.columns) {
      const c = r[col.key];
      cells.push(fmtCell(c));
      if (cmpCols.has(col.key)) cells.push(isCmp(c) && c.paper !== null ? `${c.approx ? '~' : ''}${c.paper}` : '');
    }
    if (hasStatus) cells.push(esc(rowStatusText(r, t.rowStatus[i])));
    lines.push(`| ${cells.join(' | ')} |`);
  });
  const meta = [`Positions: ${t.positions}.`];
  const def = definitionLink(t.section, t.id);
  if (def) meta.push(`Definition: ${def}.`);
  if (t.convention) meta.push(`Offsets: ${t.convention}.`);
  if (t.provenance) meta.push(`Provenance: \`${t.provenance.stage}@${t.provenance.key}\`.`);
  const out = [`### ${esc(t.title)} (${t.section})`, '', `<!-- table:${t.id} -->`, meta.join(' '), '', ...lines];
  if (t.notes?.length) out.push('', ...t.notes.map((n) => `- ${n}`));
  return out.join('\n');
}

/**
 * A row's status as printed: the worst of its comparable cells, then, if some cells are
 * not comparable, "not comparable: …" with their reasons.
 */
function rowStatusText(r: Record<string, ResolvedCell>, worst: string): string {
  const nc = [...new Set(Object.values(r).flatMap((c) => (isCmp(c) && c.status === 'n/c' ? (c.notComparable ?? []) : [])))];
  const text = nc.length ? `not comparable: ${nc.join('; ')}` : '';
  return worst === 'n/c' ? text : [worst, text].filter(Boolean).join('; ');
}

/** A metric's status as printed: ✘ with its case, n/c with its reasons. */
const metricStatus = (m: ResolvedMetric) => (m.status === '✘' && m.why ? `✘: ${m.why}` : m.status === 'n/c' ? (m.why ?? 'not comparable') : m.status);

export function renderMetrics(ms: ResolvedMetric[]): string {
  const lines = ['| metric | ours | paper | status | section | positions |', '|---|---|---|---|---|---|'];
  const aliases = ms.filter((m) => m.aliasOf);
  for (const m of ms) {
    if (m.aliasOf) continue;
    const d = m.paper !== null ? digitsFor({ paper: m.paper }) : 4;
    const def = definitionLink(m.section, m.id);
    lines.push(`| \`${m.id}\` | ${fmtNumber(m.value, d)} | ${m.paper ?? '—'} | ${esc(metricStatus(m))} | ${def ?? m.section} | ${esc(m.positions)} |`);
  }
  if (aliases.length) {
    lines.push('', `Older ids kept in report.json for one release, each with the value of the id it stands for: ${aliases.map((m) => `\`${m.id}\` → \`${m.aliasOf}\``).join(', ')}.`);
  }
  return lines.join('\n');
}

export function renderReport(doc: ReportDoc): string {
  // Top-down: the summary (with its one count of figures), each paper section with its
  // tables and their plots, the metrics, then the appendix (the full audit).
  const parts = [`# ${doc.title}`, '', ...doc.intro, '', ...(doc.preface ?? []).flatMap((p) => [p, ''])];
  let section = '';
  for (const t of doc.tables) {
    const top = t.section.replace(/^§(\d+).*$/, '§$1');
    if (top !== section) {
      section = top;
      parts.push(`## ${top === '§2' ? '§2 The model' : top === '§3' ? '§3 What works' : top === '§4' ? '§4 Weight construction' : top === '§5' ? '§5 Sparse differentiation' : top === '§6' ? '§6.2 The open questions, answered' : top}`, '');
    }
    parts.push(renderTable(t), '');
    const plots = doc.plotsAfter?.[t.id];
    if (plots) parts.push(plots, '');
  }
  parts.push('## Metrics', '', renderMetrics(doc.metrics), '');
  for (const a of doc.appendix ?? []) parts.push(a, '');
  return parts.join('\n');
}
