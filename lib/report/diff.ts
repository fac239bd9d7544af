// `pipeline.ts diff A B`: what changed between two report.json documents, table by table
// and metric by metric. With an aggregate over seeds, a change larger than the seed
// spread (|Δ| > 2 sd, the usual two-sigma band) is flagged: it is more than seed noise.

import type { ResolvedCell, ResolvedCmp } from './compare.ts';
import type { ReportJson } from './audit.ts';
import { rowLabel, type Aggregate, type AggCell } from './aggregate.ts';

export interface Change {
  table?: string;
  row?: string;
  column?: string;
  metric?: string;
  a: number | string | null;
  b: number | string | null;
  delta: number | null;
  /** 2 sd of the seeds for this figure, when an aggregate is given. */
  band: number | null;
  flagged: boolean;
}

export interface DiffResult {
  a: string;
  b: string;
  metrics: Change[];
  tables: { id: string; title: string; changes: Change[]; onlyInA: string[]; onlyInB: string[] }[];
  onlyInA: string[];
  onlyInB: string[];
  /** Where the inputs were read from, when the two differ (not a change: results are keyed by content). */
  provenance: { a: unknown; b: unknown } | null;
}

function value(c: ResolvedCell | undefined): number | string | null {
  if (c === undefined || c === null) return null;
  if (typeof c === 'object') return (c as ResolvedCmp).ours;
  return c;
}

function same(a: number | string | null, b: number | string | null, rel: number): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= rel * Math.max(1e-12, Math.abs(a), Math.abs(b));
  return a === b;
}

function band(c: AggCell | undefined): number | null {
  const s = c?.spread;
  if (!s || s.n < 2) return null;
  return 2 * (s.sd ?? 0);
}

function change(a: number | string | null, b: number | string | null, bandWidth: number | null, where: Partial<Change>): Change {
  const delta = typeof a === 'number' && typeof b === 'number' ? b - a : null;
  return { ...where, a, b, delta, band: bandWidth, flagged: delta !== null && bandWidth !== null && Math.abs(delta) > bandWidth };
}

/** Differences between two reports; `rel` is the relative tolerance below which numbers count as equal. */
export function diffReports(A: ReportJson, B: ReportJson, agg: Aggregate | null = null, rel = 1e-9): DiffResult {
  const metrics: Change[] = [];
  const mids = [...new Set([...Object.keys(A.metrics), ...Object.keys(B.metrics)])];
  for (const id of mids) {
    const a = A.metrics[id]?.value ?? null;
    const b = B.metrics[id]?.value ?? null;
    if (!same(a, b, rel)) metrics.push(change(a, b, band(agg?.metrics[id]), { metric: id }));
  }
  const tables: DiffResult['tables'] = [];
  for (const id of Object.keys(A.tables)) {
    const ta = A.tables[id];
    const tb = B.tables[id];
    if (!tb) continue;
    const rowsA = new Map(ta.rows.map((r, i) => [rowLabel(r, i), r]));
    const rowsB = new Map(tb.rows.map((r, i) => [rowLabel(r, i), r]));
    const changes: Change[] = [];
    for (const [label, ra] of rowsA) {
      const rb = rowsB.get(label);
      if (!rb) continue;
      for (const col of ta.columns) {
        const a = value(ra[col.key]);
        const b = value(rb[col.key]);
        if (!same(a, b, rel)) {
          const aggRow = agg?.tables[id]?.rows.find((r) => r.label === label);
          const cell = aggRow?.cells[col.key];
          changes.push(change(a, b, band(typeof cell === 'object' ? cell : undefined), { table: id, row: label, column: col.label }));
        }
      }
    }
    const onlyInA = [...rowsA.keys()].filter((k) => !rowsB.has(k));
    const onlyInB = [...rowsB.keys()].filter((k) => !rowsA.has(k));
    if (changes.length || onlyInA.length || onlyInB.length) tables.push({ id, title: ta.title, changes, onlyInA, onlyInB });
  }
  return {
    a: A.label,
    b: B.label,
    metrics,
    tables,
    onlyInA: Object.keys(A.tables).filter((k) => !B.tables[k]),
    onlyInB: Object.keys(B.tables).filter((k) => !A.tables[k]),
    provenance: JSON.stringify(A.provenance ?? null) === JSON.stringify(B.provenance ?? null) ? null : { a: A.provenance ?? null, b: B.provenance ?? null },
  };
}

/** A report's provenance in one phrase: "data file enwik_1024.txt, weights paper:sat_model.bin". */
function provenanceWords(p: any): string {
  if (!p || typeof p !== 'object') return 'not recorded';
  const d = p.data ?? {};
  return `data ${d.source ?? '?'} ${d.name ?? '?'}${d.entry ? `:${d.entry}` : ''}${p.model ? `, weights ${p.model.name ?? '?'}` : ''}`;
}

const f = (x: number | string | null) => (x === null ? '—' : typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x.toPrecision(6)) : x);

export function renderDiff(d: DiffResult): string {
  const out = [`diff ${d.a} -> ${d.b}`];
  if (d.provenance) out.push(`provenance (not a change): ${provenanceWords(d.provenance.a)} -> ${provenanceWords(d.provenance.b)}`);
  const flag = (c: Change) => (c.flagged ? `  !! larger than the seed spread (2 sd = ${f(c.band)})` : '');
  out.push('', `metrics (${d.metrics.length} changed):`);
  for (const c of d.metrics) out.push(`  ${c.metric}: ${f(c.a)} -> ${f(c.b)}${c.delta !== null ? ` (Δ ${c.delta >= 0 ? '+' : ''}${f(c.delta)})` : ''}${flag(c)}`);
  for (const t of d.tables) {
    out.push('', `table ${t.id}: ${t.title} (${t.changes.length} cells changed)`);
    for (const c of t.changes) out.push(`  ${c.row} / ${c.column}: ${f(c.a)} -> ${f(c.b)}${c.delta !== null ? ` (Δ ${c.delta >= 0 ? '+' : ''}${f(c.delta)})` : ''}${flag(c)}`);
    if (t.onlyInA.length) out.push(`  rows only in ${d.a}: ${t.onlyInA.join(', ')}`);
    if (t.onlyInB.length) out.push(`  rows only in ${d.b}: ${t.onlyInB.join(', ')}`);
  }
  if (d.onlyInA.length) out.push('', `tables only in ${d.a}: ${d.onlyInA.join(', ')}`);
  if (d.onlyInB.length) out.push('', `tables only in ${d.b}: ${d.onlyInB.join(', ')}`);
  const flagged = d.metrics.filter((c) => c.flagged).length + d.tables.reduce((s, t) => s + t.changes.filter((c) => c.flagged).length, 0);
  out.push('', `${d.metrics.length} metrics and ${d.tables.reduce((s, t) => s + t.changes.length, 0)} table cells changed${flagged ? `; ${flagged} beyond the seed spread` : ''}.`);
  return out.join('\n') + '\n';
}
