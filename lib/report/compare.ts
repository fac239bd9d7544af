// Ours against the paper: look a figure up in paper-figures.json, give a status.
//
//   ✔  agrees to the paper's printed precision (ours rounded to the paper's decimals
//      equals the paper's figure)
//   ≈  within 10% of the paper's figure
//   ✘  otherwise
// The paper's figures are kept as the strings it printed, so their precision is known.

import type { Cell, Cmp, MetricSpec, SectionPart, TableSpec } from './types.ts';
import { isCmp } from './types.ts';

export interface PaperFigure {
  value: string;
  section: string;
  quote: string;
  approx?: boolean;
  /** "config": a setting the paper states (seed, epochs), not a result; left out of the audit. */
  kind?: 'config';
}
export type PaperFigures = Record<string, PaperFigure>;

export type Status = '✔' | '≈' | '✘' | '';

export function decimalsOf(printed: string): number {
  const m = /\.(\d+)$/.exec(printed.trim());
  return m ? m[1].length : 0;
}

export function statusOf(ours: number | null, paper: string | undefined): Status {
  if (ours === null || paper === undefined || !Number.isFinite(ours)) return '';
  const p = Number(paper);
  if (!Number.isFinite(p)) return '';
  const d = decimalsOf(paper);
  const rounded = Number(ours.toFixed(d));
  if (Math.abs(rounded - p) < 0.5 * 10 ** -(d + 3)) return '✔';
  if (Math.abs(ours - p) <= 0.1 * Math.abs(p)) return '≈';
  return '✘';
}

/** The worse of two statuses (✘ > ≈ > ✔ > none). */
export function worse(a: Status, b: Status): Status {
  const rank: Record<Status, number> = { '': 0, '✔': 1, '≈': 2, '✘': 3 };
  return rank[a] >= rank[b] ? a : b;
}

export interface ResolvedCmp {
  ours: number | null;
  paper: string | null;
  ref: string | null;
  status: Status;
  digits?: number;
  approx?: boolean;
}
export type ResolvedCell = string | number | null | ResolvedCmp;

export interface ResolvedTable extends Omit<TableSpec, 'rows'> {
  rows: Record<string, ResolvedCell>[];
  /** Per row: the worst status of its comparisons. */
  rowStatus: Status[];
}

export interface ResolvedMetric extends MetricSpec {
  paper: string | null;
  status: Status;
}

export function resolveCell(c: Cell, figures: PaperFigures, where: string): ResolvedCell {
  if (!isCmp(c)) return c;
  const cmp = c as Cmp;
  if (cmp.ref !== undefined && !(cmp.ref in figures)) {
    throw new Error(`${where}: unknown paper figure "${cmp.ref}" (not in lib/report/paper-figures.json)`);
  }
  const fig = cmp.ref ? figures[cmp.ref] : undefined;
  return {
    ours: cmp.ours,
    paper: fig?.value ?? null,
    ref: cmp.ref ?? null,
    status: statusOf(cmp.ours, fig?.value),
    ...(cmp.digits !== undefined ? { digits: cmp.digits } : {}),
    ...(fig?.approx ? { approx: true } : {}),
  };
}

export function resolveTable(t: TableSpec, figures: PaperFigures): ResolvedTable {
  const rows = t.rows.map((r, i) =>
    Object.fromEntries(Object.entries(r).map(([k, c]) => [k, resolveCell(c, figures, `table ${t.id} row ${i} column ${k}`)])),
  );
  const rowStatus = rows.map((r) =>
    Object.values(r).reduce<Status>((s, c) => (c && typeof c === 'object' ? worse(s, c.status) : s), ''),
  );
  const notes = [...(t.notes ?? [])];
  const bad = rows.flatMap((r) => Object.entries(r).filter(([, c]) => c && typeof c === 'object' && c.status === '✘').map(([k, c]) => ({ r, k, c: c as ResolvedCmp })));
  if (bad.length) {
    const label = (r: Record<string, ResolvedCell>) => String(Object.values(r).find((v) => typeof v === 'string') ?? '');
    const col = (k: string) => t.columns.find((c) => c.key === k)?.label ?? k;
    const list = bad.slice(0, 4).map(({ r, k, c }) => `${label(r)} ${col(k)}: ours ${fmtNumber(c.ours, c.digits ?? digitsFor(c))} vs paper ${c.paper}`);
    notes.push(
      `✘ ${bad.length} figure${bad.length > 1 ? 's' : ''} disagree${bad.length > 1 ? '' : 's'} with the paper (${list.join('; ')}${bad.length > 4 ? '; …' : ''}). ` +
        'Computed exactly as SPEC.md defines it, not tuned; some of the paper\'s figures come from a different model than the shipped weights.',
    );
  }
  return { ...t, rows, rowStatus, notes };
}

export function resolveMetric(m: MetricSpec, figures: PaperFigures): ResolvedMetric {
  const fig = figures[m.id];
  return { ...m, paper: fig?.value ?? null, status: statusOf(m.value, fig?.value) };
}

export function digitsFor(c: { paper: string | null; digits?: number }): number {
  if (c.digits !== undefined) return c.digits;
  return c.paper !== null ? Math.min(6, decimalsOf(c.paper) + 1) : 4;
}

export function fmtNumber(x: number | null, digits: number): string {
  if (x === null || x === undefined) return '—';
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  return x.toFixed(digits);
}

/** Merge section parts; duplicate table or metric ids are an error. */
export function mergeParts(parts: SectionPart[]): SectionPart {
  const tables: TableSpec[] = [];
  const metrics: MetricSpec[] = [];
  const seenT = new Set<string>();
  const seenM = new Set<string>();
  for (const p of parts) {
    for (const t of p.tables) {
      if (seenT.has(t.id)) throw new Error(`report: table id "${t.id}" is built twice`);
      seenT.add(t.id);
      tables.push(t);
    }
    for (const m of p.metrics) {
      if (seenM.has(m.id)) throw new Error(`report: metric id "${m.id}" is built twice`);
      seenM.add(m.id);
      metrics.push(m);
    }
  }
  return { tables, metrics };
}
