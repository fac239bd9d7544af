// `ls`: one row per report under reports/ (what `dvc exp show` gives for experiments):
// its label, the params that differ from the defaults, the headline metrics, when it was
// built and whether it is fresh (its report stage's cache entry matches today's code, data
// and params) or stale. Aggregates over seeds show the mean of each metric; sweeps show
// their points. --json and --csv print the same rows as data; --metrics a,b chooses the
// metric columns (metric ids of report.json, plus the derived ones below).

import fs from 'node:fs';
import path from 'node:path';
import type { Pipeline } from '../engine/pipeline.ts';
import { plan } from '../engine/decide/plan.ts';
import { reportFiles } from './reports.ts';
import type { Io } from './commands.ts';
import { CliError } from './errors.ts';

/** Derived columns (not metric ids of report.json) and the metric columns shown by default. */
const FIGURES = 'figures';
const HELDOUT = 'heldout_bpc';
const Q4_GAP = 'q4_best_gap';
export const DEFAULT_COLUMNS = ['trained_bpc', HELDOUT, FIGURES, 'ps_per_position', Q4_GAP];
const HEADERS: Record<string, string> = { trained_bpc: 'trained bpc', [HELDOUT]: 'held-out bpc', [FIGURES]: 'figures ✔/≈/✘', ps_per_position: 'PS/pos', [Q4_GAP]: 'Q4 best gap' };

export interface LsRow {
  label: string;
  kind: 'report' | 'aggregate' | 'sweep';
  /** Params that differ from their defaults, `stage.param` -> value (a sweep: its axes). */
  params: Record<string, unknown>;
  /** Metric columns: a number, a few words (figures), or null when the report has none. */
  metrics: Record<string, number | string | null>;
  /** The Q4 level whose gap is shown, when there is one. */
  q4Level: string | null;
  builtAt: string;
  /** fresh / stale / missing (the report stage for the report's params), or "-" for aggregates and sweeps, "unknown" when its params no longer parse. */
  state: string;
}

type Json = Record<string, any>;

function flatOverrides(o: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (o && typeof o === 'object') for (const [s, ps] of Object.entries(o as Json)) if (ps && typeof ps === 'object') for (const [k, v] of Object.entries(ps)) out[`${s}.${k}`] = v;
  return out;
}

/** The params in words: `hidden=16 epochs=50 seed=1`, the stage named only where two stages share a param name. */
export function paramWords(params: Record<string, unknown>): string {
  const keys = Object.keys(params).filter((k) => k !== 'report.reference').sort();
  const names = keys.map((k) => k.slice(k.indexOf('.') + 1));
  const dup = new Set(names.filter((n, i) => names.indexOf(n) !== i));
  const words = keys.map((k, i) => `${dup.has(names[i]) ? k : names[i]}=${typeof params[k] === 'string' ? params[k] : JSON.stringify(params[k])}`);
  return words.join(' ') || '(defaults)';
}

/** The trained model's bpc on the held-out text (rebuild-score's `rebuild.trained.heldout_bpc`). */
function heldout(metrics: Json): number | null {
  const m = metrics['rebuild.trained.heldout_bpc'];
  return typeof m?.value === 'number' ? m.value : null;
}

/**
 * The Q4 level closest to the trained bpc: a level rebuilt from its description, not `full`
 * (the trained bpc back by construction) and not a reference (`ref_…`, a model built from the
 * text by a fixed procedure, not a description of this one).
 */
function q4Best(metrics: Json, value: (m: any) => number | null): { level: string; gap: number } | null {
  const trained = value(metrics.trained_bpc);
  if (trained === null) return null;
  let best: { level: string; gap: number } | null = null;
  for (const [id, m] of Object.entries(metrics)) {
    const hit = /^rebuild\.([^.]+)\.bpc$/.exec(id);
    const v = value(m);
    if (!hit || hit[1] === 'full' || hit[1].startsWith('ref_') || v === null) continue;
    if (!best || v - trained < best.gap) best = { level: hit[1], gap: v - trained };
  }
  return best;
}

function figures(j: Json): string | null {
  const s = j.summary;
  if (s && typeof s.agree === 'number') return `${s.agree}/${s.approx ?? 0}/${s.disagree ?? 0}`;
  if (Array.isArray(j.audit)) {
    const st = (x: string) => j.audit.filter((r: Json) => r.oursStatus === x).length;
    return `${st('✔')}/${st('≈')}/${st('✘')}`;
  }
  return null;
}

/** One row per report.json under reportsDir (sorted by label). */
export function lsRows(p: Pipeline, columns: string[] = DEFAULT_COLUMNS): LsRow[] {
  const rows: LsRow[] = [];
  for (const file of reportFiles(p.reportsDir)) {
    let j: Json;
    try {
      j = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      continue; // a half-written or foreign file: not a report
    }
    const label = path.basename(path.dirname(file));
    const builtAt = fs.statSync(file).mtime.toISOString().replace(/\.\d+Z$/, 'Z');
    const isAgg = Array.isArray(j.reports) && j.metrics && !j.overrides;
    const isSweep = Array.isArray(j.rows) || Array.isArray(j.points);
    if (!isAgg && !isSweep && !(j.metrics && j.tables)) continue;
    const value = isAgg ? (m: any) => (typeof m?.spread?.mean === 'number' ? m.spread.mean : null) : (m: any) => (typeof m?.value === 'number' ? m.value : null);
    const metrics: LsRow['metrics'] = {};
    const best = j.metrics ? q4Best(j.metrics, value) : null;
    for (const c of columns) {
      if (c === FIGURES) metrics[c] = isSweep ? null : figures(j);
      else if (c === HELDOUT && !(j.metrics && HELDOUT in j.metrics)) metrics[c] = j.metrics && !isAgg ? heldout(j.metrics) : null;
      else if (c === Q4_GAP) metrics[c] = best?.gap ?? null;
      else metrics[c] = j.metrics ? value(j.metrics[c]) : null;
    }
    let params: Record<string, unknown> = flatOverrides(j.overrides);
    let state = '-';
    if (isAgg) params = { reports: j.reports.length, seeds: (j.seeds ?? []).join(',') };
    else if (isSweep) {
      // The swept params (each with its values), then the fixed ones (`stage.param=value`).
      params = Object.fromEntries((j.axes ?? []).map((a: Json) => [a.param ?? a.key ?? a.name, (a.values ?? []).join(',')]));
      for (const f of Array.isArray(j.fixed) ? j.fixed : []) {
        const i = String(f).indexOf('=');
        if (i > 0) params[String(f).slice(0, i)] = String(f).slice(i + 1);
      }
      if (Array.isArray(j.seeds) && j.seeds.some((x: unknown) => x !== null)) params.seeds = j.seeds.join(',');
    }
    else state = stateOf(p, j.overrides ?? {});
    rows.push({ label, kind: isAgg ? 'aggregate' : isSweep ? 'sweep' : 'report', params, metrics, q4Level: best?.level ?? null, builtAt, state });
  }
  return rows;
}

/** The report stage's plan state for a report's overrides. */
function stateOf(p: Pipeline, overrides: Json): string {
  try {
    const pl = plan(p.project, p.store, p.resolveAll(overrides), ['report']);
    return pl.stages.get('report')?.state ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const fmt = (v: number | string | null): string => (v === null ? '—' : typeof v === 'string' ? v : Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : Number(v.toPrecision(4)).toString());

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function ls(p: Pipeline, io: Io, o: { json?: boolean; csv?: boolean; metrics?: string[] }): Promise<number> {
  if (o.json && o.csv) throw new CliError('usage', '--json and --csv cannot be combined', 'choose one');
  const columns = o.metrics ?? DEFAULT_COLUMNS;
  const rows = lsRows(p, columns);
  if (!rows.length) {
    const where = path.relative(process.cwd(), p.reportsDir) || p.reportsDir;
    if (o.json) io.out.write(JSON.stringify({ reports: [], columns }) + '\n');
    else if (o.csv) io.out.write(['label', 'kind', 'params', ...columns, ...(columns.includes(Q4_GAP) ? ['q4_level'] : []), 'built', 'state'].join(',') + '\n');
    else io.err.write(`no reports under ${where}/ yet: npx tsx pipeline.ts report builds one\n`);
    return 0;
  }
  if (o.metrics) {
    const known = new Set([FIGURES, HELDOUT, Q4_GAP]);
    const unknown = columns.filter((c) => !known.has(c) && rows.every((r) => r.metrics[c] === null));
    if (unknown.length) io.err.write(`warning: no report has ${unknown.map((c) => `"${c}"`).join(', ')} (metric ids: npx tsx pipeline.ts show report, or report.json's "metrics")\n`);
  }
  if (o.json) {
    io.out.write(JSON.stringify({ columns, reports: rows }) + '\n');
    return 0;
  }
  if (o.csv) {
    const q4 = columns.includes(Q4_GAP);
    io.out.write(['label', 'kind', 'params', ...columns, ...(q4 ? ['q4_level'] : []), 'built', 'state'].join(',') + '\n');
    for (const r of rows) io.out.write([r.label, r.kind, paramWords(r.params), ...columns.map((c) => r.metrics[c]), ...(q4 ? [r.q4Level] : []), r.builtAt, r.state].map(csvCell).join(',') + '\n');
    return 0;
  }
  const head = ['label', 'params', ...columns.map((c) => HEADERS[c] ?? c), 'built', 'state'];
  const body = rows.map((r) => [
    r.label,
    r.kind === 'report' ? paramWords(r.params) : `${r.kind}: ${paramWords(r.params)}`,
    ...columns.map((c) => (c === Q4_GAP && r.q4Level && r.metrics[c] !== null ? `${fmt(r.metrics[c])} (${r.q4Level})` : fmt(r.metrics[c]))),
    r.builtAt.replace('T', ' ').replace(/:\d\dZ$/, ''),
    r.state,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i < 2 + columns.length ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  io.out.write([line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n') + '\n');
  const aggs = rows.filter((r) => r.kind === 'aggregate').length;
  if (aggs) io.err.write('(aggregate rows: the mean over their reports)\n');
  return 0;
}
