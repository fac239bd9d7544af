// Ours against the paper: look a figure up in paper-figures.json, give a status
// (docs/definitions.md §R.2).
//
//   ✔  agrees to the paper's printed precision (ours rounded to the paper's decimals
//      equals the paper's figure); a figure printed as 0 or ~0: |ours| is near zero
//      (comparable.ts: at most 10% of the largest figure in its column)
//   ≈  within 10% of the paper's figure
//   ✘  otherwise; the note says whether the paper's own weights disagree too
//   n/c  not comparable: the run's setting differs from the one the paper's figure is
//      for (its `depends`); neither agrees nor disagrees, and is not counted
// The paper's figures are kept as the strings it printed, so their precision is known.

import type { Cell, Cmp, MetricSpec, SectionPart, TableSpec } from './types.ts';
import { isCmp } from './types.ts';
import { differences, nearZeroStatus, notComparableText, printedZero, trainingCase, CASE_REFERENCE, type RunSetting } from './comparable.ts';

export type { PaperFigure, PaperFigures, Status } from './types.ts';
import type { PaperFigures, Status } from './types.ts';

export function decimalsOf(printed: string): number {
  const m = /\.(\d+)$/.exec(printed.trim());
  return m ? m[1].length : 0;
}

/** The status of `ours` against a printed figure, by precision and the 10% band (no setting, no near-zero rule). */
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

export interface Judged {
  status: Status;
  /** For n/c: the settings that differ ("<key> = <ours>, the paper's figure is for <paper's>"). */
  notComparable?: string[];
}

/**
 * The status of `ours` against figure `ref` on a run with setting `setting`: n/c when the
 * setting differs from the figure's, the near-zero rule for a figure printed as 0 or ~0,
 * else statusOf().
 */
export function judge(ours: number | null, ref: string | null | undefined, figures: PaperFigures, setting?: RunSetting | null): Judged {
  const fig = ref ? figures[ref] : undefined;
  if (!fig) return { status: '' };
  if (ours === null || ours === undefined || !Number.isFinite(ours) || !Number.isFinite(Number(fig.value))) return { status: '' };
  const diffs = differences(fig, setting);
  if (diffs.length) return { status: 'n/c', notComparable: diffs };
  if (printedZero(fig)) return { status: nearZeroStatus(ours, fig, figures) };
  return { status: statusOf(ours, fig.value) };
}

/** The worse of two statuses (✘ > ≈ > ✔ > n/c > none). */
export function worse(a: Status, b: Status): Status {
  const rank: Record<Status, number> = { '': 0, 'n/c': 1, '✔': 2, '≈': 3, '✘': 4 };
  return rank[a] >= rank[b] ? a : b;
}

export interface ResolvedCmp {
  ours: number | null;
  paper: string | null;
  ref: string | null;
  status: Status;
  digits?: number;
  approx?: boolean;
  /** n/c: "not comparable: …"; ✘: which case it is (comparable.ts). */
  why?: string;
  notComparable?: string[];
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
  why?: string;
  notComparable?: string[];
}

/**
 * What resolving needs besides the figures: this run's setting, and for a model trained
 * here the paper's weights' status per figure (null: no paper's-weights column; for a
 * report on imported weights, `imported`).
 */
export interface ResolveContext {
  setting?: RunSetting | null;
  reference?: Map<string, Status> | null;
  imported?: boolean;
}

/** Why a ✘ is a ✘, in one of the cases of comparable.ts. */
export function caseOf(ref: string | null, ctx: ResolveContext): string {
  if (ctx.imported) return CASE_REFERENCE;
  if (!ctx.reference) return trainingCase(null);
  return trainingCase((ref && ctx.reference.get(ref)) || '');
}

function explained(j: Judged, ref: string | null, ctx: ResolveContext): { status: Status; why?: string; notComparable?: string[] } {
  if (j.status === 'n/c') return { status: 'n/c', why: notComparableText(j.notComparable!), notComparable: j.notComparable };
  if (j.status === '✘') return { status: '✘', why: caseOf(ref, ctx) };
  return { status: j.status };
}

export function resolveCell(c: Cell, figures: PaperFigures, where: string, ctx: ResolveContext = {}): ResolvedCell {
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
    ...explained(judge(cmp.ours, cmp.ref, figures, ctx.setting), cmp.ref ?? null, ctx),
    ...(cmp.digits !== undefined ? { digits: cmp.digits } : {}),
    ...(fig?.approx ? { approx: true } : {}),
  };
}

const isResolvedCmp = (c: ResolvedCell): c is ResolvedCmp => !!c && typeof c === 'object';

export function resolveTable(t: TableSpec, figures: PaperFigures, ctx: ResolveContext = {}): ResolvedTable {
  const rows = t.rows.map((r, i) =>
    Object.fromEntries(Object.entries(r).map(([k, c]) => [k, resolveCell(c, figures, `table ${t.id} row ${i} column ${k}`, ctx)])),
  );
  const rowStatus = rows.map((r) => Object.values(r).reduce<Status>((s, c) => (isResolvedCmp(c) ? worse(s, c.status) : s), ''));
  const notes = [...(t.notes ?? [])];
  const label = (r: Record<string, ResolvedCell>) => String(Object.values(r).find((v) => typeof v === 'string') ?? '');
  const col = (k: string) => t.columns.find((c) => c.key === k)?.label ?? k;
  const cells = rows.flatMap((r) => Object.entries(r).filter((e): e is [string, ResolvedCmp] => isResolvedCmp(e[1])).map(([k, c]) => ({ r, k, c })));
  const bad = cells.filter(({ c }) => c.status === '✘');
  // One note per ✘ case, naming its cells.
  const byCase = new Map<string, typeof bad>();
  for (const b of bad) byCase.set(b.c.why ?? '', [...(byCase.get(b.c.why ?? '') ?? []), b]);
  for (const [why, list] of byCase) {
    const shown = list.slice(0, 4).map(({ r, k, c }) => `${label(r)} ${col(k)}: ours ${fmtNumber(c.ours, c.digits ?? digitsFor(c))} vs paper ${c.paper}`);
    notes.push(
      `✘ ${list.length} figure${list.length > 1 ? 's' : ''} disagree${list.length > 1 ? '' : 's'} with the paper (${shown.join('; ')}${list.length > 4 ? '; …' : ''}): ${why}. ` +
        'Computed as docs/definitions.md defines it, not tuned toward the paper.',
    );
  }
  const nc = cells.filter(({ c }) => c.status === 'n/c');
  if (nc.length) {
    const reasons = [...new Set(nc.flatMap(({ c }) => c.notComparable ?? []))];
    notes.push(`${nc.length} figure${nc.length > 1 ? 's are' : ' is'} not compared with the paper (not comparable: ${reasons.join('; ')}).`);
  }
  return { ...t, rows, rowStatus, notes };
}

export function resolveMetric(m: MetricSpec, figures: PaperFigures, ctx: ResolveContext = {}): ResolvedMetric {
  const ref = m.ref ?? m.id;
  const fig = figures[ref];
  return { ...m, paper: fig?.value ?? null, ...explained(judge(m.value, fig ? ref : null, figures, ctx.setting), ref, ctx) };
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
