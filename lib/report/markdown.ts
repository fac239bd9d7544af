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


// report.md is read in renderers that pass HTML through (GitHub strips scripts; marked,
// many editors' previews and static-site tools do not). A string from the data (bytes,
// file names, labels) must render as its characters and never as markup: mdText turns
// every character Markdown or HTML gives a meaning to into an entity or an escape, and
// renderReport's last step (noHtml) escapes any `<` left in the document besides the
// report's own table markers, so a string that reached the page unescaped still cannot
// open a tag, and links may only use http(s), mailto or relative targets.

const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '`': '&#96;', '|': '&#124;', '\\': '&#92;', '*': '&#42;', _: '&#95;', '[': '&#91;', ']': '&#93;', '!': '&#33;', '#': '&#35;', '~': '&#126;', $: '&#36;' };

/** A data string as plain Markdown text: shown as its characters, never markup; one line. */
export function mdText(s: unknown): string {
  return String(s).replace(/[&<>"`|\\*_[\]!#~$]/g, (c) => ENTITY[c]).replace(/[\r\n]+/g, ' ');
}

/**
 * A data string as an inline code span that nothing in it can close: the fence is one
 * backtick longer than the longest run inside. A string with `<` or `|` (which a code span
 * in a table or noHtml would show as an entity) is given as mdText instead.
 */
export function mdCode(s: unknown): string {
  const t = String(s).replace(/[\r\n]+/g, ' ');
  if (/[<|]/.test(t)) return mdText(t);
  const fence = '`'.repeat(Math.max(0, ...(t.match(/`+/g) ?? []).map((r) => r.length)) + 1);
  const pad = t.startsWith('`') || t.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

/**
 * A string a section wrote, which may hold data (bytes, names): its code spans of one
 * backtick (metric ids, flags: `...` without `<`, `|` or a newline) are kept, everything
 * else is mdText. What the report writes renders as before; what data brings renders as
 * its characters.
 */
export function esc(s: string): string {
  return String(s)
    .split(/(`[^`<|\r\n]+`)/)
    .map((part, i) => (i % 2 ? part : mdText(part)))
    .join('');
}

/** The report's own markers, the only `<` the document may hold as written. */
const MARKER = /^<!-- table:[A-Za-z0-9_.-]+ -->$/;

/**
 * The last step of rendering: every `<` outside the report's table markers becomes `&lt;`
 * (inside a code span that shows as the entity, which the report does not need: data goes
 * through mdText), and a link whose target has a scheme other than http(s) or mailto
 * loses its link syntax.
 */
export function noHtml(md: string): string {
  return md
    .split('\n')
    .map((line) => (MARKER.test(line) ? line : line.replace(/</g, '&lt;')))
    .join('\n')
    .replace(/\]\(\s*(?!(?:https?|mailto):)([A-Za-z][A-Za-z0-9+.-]*):/g, ']&#40;$1:');
}

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
  const meta = [`Positions: ${esc(t.positions)}.`];
  const def = definitionLink(t.section, t.id);
  if (def) meta.push(`Definition: ${def}.`);
  if (t.convention) meta.push(`Offsets: ${esc(t.convention)}.`);
  if (t.provenance) meta.push(`Provenance: ${mdCode(`${t.provenance.stage}@${t.provenance.key}`)}.`);
  const out = [`### ${esc(t.title)} (${esc(t.section)})`, '', `<!-- table:${t.id} -->`, meta.join(' '), '', ...lines];
  if (t.notes?.length) out.push('', ...t.notes.map((n) => `- ${esc(n)}`));
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
    lines.push(`| ${mdCode(m.id)} | ${fmtNumber(m.value, d)} | ${m.paper ?? '—'} | ${esc(metricStatus(m))} | ${def ?? esc(m.section)} | ${esc(m.positions)} |`);
  }
  if (aliases.length) {
    lines.push('', `Older ids kept in report.json for one release, each with the value of the id it stands for: ${aliases.map((m) => `${mdCode(m.id)} → ${mdCode(m.aliasOf!)}`).join(', ')}.`);
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
  return noHtml(parts.join('\n'));
}
