// `pipeline.ts diff A B`: what changed between two report.json documents: first the params
// (what differs, and from what), then metric by metric, then table by table. A number that
// prints the same at the precision the report prints it with, or that moved by less than
// 1e-6 of its size, has not changed (float noise such as 3.99e-8 -> 3.67e-8 on a figure
// printed to 4 decimals); `all` lists those too, marked. With an aggregate over seeds, a
// change larger than the seed spread (|Δ| > 2 sd, the usual two-sigma band) is flagged: it
// is more than seed noise.

import { digitsFor, fmtNumber, type ResolvedCell, type ResolvedCmp } from './compare.ts';
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
  /** Below the noise rule (listed only with `all`). */
  noise?: boolean;
}

/** A param that differs: its value in A and B (null: the default, given as `default`). */
export interface ParamChange {
  param: string;
  a: unknown;
  b: unknown;
  default: unknown;
}

export interface DiffResult {
  a: string;
  b: string;
  params: ParamChange[];
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

/** The decimals a report prints a cell with (lib/report/markdown.ts). */
function cellDigits(c: ResolvedCell | undefined): number {
  if (c && typeof c === 'object') return digitsFor(c as ResolvedCmp);
  return typeof c === 'number' && Number.isInteger(c) ? 0 : 4;
}

/** 'same', 'noise' (below the printed precision or 1e-6 relative) or 'changed'. */
function compare(a: number | string | null, b: number | string | null, digits: number, rel: number): 'same' | 'noise' | 'changed' {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return 'same';
    if (Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b))) return 'noise';
    if (fmtNumber(a, digits) === fmtNumber(b, digits)) return 'noise';
    return 'changed';
  }
  return a === b ? 'same' : 'changed';
}

const flat = (o: unknown): Map<string, unknown> => {
  const m = new Map<string, unknown>();
  if (o && typeof o === 'object') for (const [s, ps] of Object.entries(o)) if (ps && typeof ps === 'object') for (const [k, v] of Object.entries(ps)) m.set(`${s}.${k}`, v);
  return m;
};

/** Params that differ between two reports (their overrides, and the model and data they read). */
export function diffParams(A: ReportJson, B: ReportJson, defaults: (param: string) => unknown = () => undefined): ParamChange[] {
  const oa = flat(A.overrides);
  const ob = flat(B.overrides);
  const out: ParamChange[] = [];
  for (const k of [...new Set([...oa.keys(), ...ob.keys()])].sort()) {
    if (k === 'report.label') continue;
    const a = oa.has(k) ? oa.get(k) : null;
    const b = ob.has(k) ? ob.get(k) : null;
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ param: k, a, b, default: defaults(k) });
  }
  // What the params do not show: the data's content and the model's source.
  const da = A.data?.sha256, db = B.data?.sha256;
  if (da !== db) out.push({ param: 'data (sha256)', a: `${String(da).slice(0, 12)}… (${A.data?.bytes} bytes)`, b: `${String(db).slice(0, 12)}… (${B.data?.bytes} bytes)`, default: undefined });
  const ma = A.model?.name ?? A.model?.source, mb = B.model?.name ?? B.model?.source;
  if (ma !== mb && !out.some((c) => c.param === 'model.source')) out.push({ param: 'model', a: ma, b: mb, default: undefined });
  return out;
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

export interface DiffOptions {
  /** List changes below the noise rule too (marked noise). */
  all?: boolean;
  /** Relative change below which a number has not changed (default 1e-6). */
  rel?: number;
  /** A param's default (for "from what"). */
  defaults?: (param: string) => unknown;
}

/** Differences between two reports: params, then metrics and table cells beyond the noise rule. */
export function diffReports(A: ReportJson, B: ReportJson, agg: Aggregate | null = null, o: DiffOptions = {}): DiffResult {
  const rel = o.rel ?? 1e-6;
  const keep = (k: 'same' | 'noise' | 'changed') => k === 'changed' || (k === 'noise' && o.all);
  const metrics: Change[] = [];
  const mids = [...new Set([...Object.keys(A.metrics), ...Object.keys(B.metrics)])];
  for (const id of mids) {
    const a = A.metrics[id]?.value ?? null;
    const b = B.metrics[id]?.value ?? null;
    const paper = A.metrics[id]?.paper ?? B.metrics[id]?.paper ?? null;
    const k = compare(a, b, paper !== null ? digitsFor({ paper }) : 4, rel);
    if (keep(k)) metrics.push({ ...change(a, b, band(agg?.metrics[id]), { metric: id }), ...(k === 'noise' ? { noise: true } : {}) });
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
        const k = compare(a, b, Math.max(cellDigits(ra[col.key]), cellDigits(rb[col.key])), rel);
        if (keep(k)) {
          const aggRow = agg?.tables[id]?.rows.find((r) => r.label === label);
          const cell = aggRow?.cells[col.key];
          changes.push({ ...change(a, b, band(typeof cell === 'object' ? cell : undefined), { table: id, row: label, column: col.label }), ...(k === 'noise' ? { noise: true } : {}) });
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
    params: diffParams(A, B, o.defaults),
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

const pv = (v: unknown, dflt: unknown) => (v === null || v === undefined ? (dflt === undefined ? '(default)' : `${typeof dflt === 'string' ? dflt : JSON.stringify(dflt)} (default)`) : typeof v === 'string' ? v : JSON.stringify(v));

export function renderDiff(d: DiffResult): string {
  const out = [`diff ${d.a} -> ${d.b}`];
  if (d.provenance) out.push(`provenance (not a change): ${provenanceWords(d.provenance.a)} -> ${provenanceWords(d.provenance.b)}`);
  const flag = (c: Change) => (c.flagged ? `  !! larger than the seed spread (2 sd = ${f(c.band)})` : c.noise ? '  (noise: below the printed precision or 1e-6 relative)' : '');
  out.push('', d.params.length ? `params (${d.params.length} differ):` : 'params: the same');
  for (const c of d.params) out.push(`  ${c.param}: ${pv(c.a, c.default)} -> ${pv(c.b, c.default)}`);
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
