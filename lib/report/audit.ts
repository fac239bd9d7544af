// The reproduction audit: one row per paper figure that the report compares, with the
// paper's value, the value on the paper's own weights, the value on our training (mean ±
// sd over seeds when there are several), a status for each, and why: which ✘ case a
// disagreement is, or which setting makes a figure not comparable (docs/definitions.md
// §R.2). Built from report.json documents only, so it works for one report or for an
// aggregate over seeds.

import { judge, type PaperFigures, type ResolvedCmp, type ResolvedMetric, type ResolvedTable, type Status } from './compare.ts';
import { CASE_REFERENCE, differences, notComparableText, trainingCase, type RunSetting } from './comparable.ts';

/** The parts of report.json the audit and the aggregate read. */
export interface ReportJson {
  label: string;
  model: { source: string; name?: string; H?: number; train?: { seed?: number; [k: string]: unknown } };
  data: { bytes: number; sha256: string; [k: string]: unknown };
  tables: Record<string, ResolvedTable>;
  metrics: Record<string, ResolvedMetric>;
  /** Params that differ from their defaults (older reports and hand-made documents may lack it). */
  overrides?: Record<string, Record<string, unknown>>;
  summary?: unknown;
  [k: string]: unknown;
}

/** What a report was computed on, for the comparability rules. */
export function settingOf(r: Pick<ReportJson, 'model' | 'data' | 'overrides'>): RunSetting {
  return { model: r.model as RunSetting['model'], data: r.data, overrides: r.overrides ?? {} };
}

export interface Spread {
  n: number;
  mean: number;
  sd: number | null;
  min: number;
  max: number;
}

export function spread(xs: number[]): Spread | null {
  const v = xs.filter((x) => Number.isFinite(x));
  if (!v.length) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : null;
  return { n: v.length, mean, sd, min: Math.min(...v), max: Math.max(...v) };
}

/** Old figure ids (`aliases` in paper-figures.json) to their current ids. */
function aliasMap(figures: PaperFigures | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const [id, f] of Object.entries(figures ?? {})) for (const a of f.aliases ?? []) m.set(a, id);
  return m;
}

/**
 * Every value a report gives for each paper figure (metrics first, then table cells),
 * keyed by the figure's current id (a report written before a rename says its old id).
 */
export function valuesByRef(r: ReportJson, figures?: PaperFigures): Map<string, number | null> {
  const alias = aliasMap(figures);
  const key = (id: string) => alias.get(id) ?? id;
  const out = new Map<string, number | null>();
  for (const m of Object.values(r.metrics)) {
    if (m.aliasOf || m.paper === null || m.paper === undefined) continue;
    const k = key(m.ref ?? m.id);
    if (!out.has(k)) out.set(k, m.value);
  }
  for (const t of Object.values(r.tables)) {
    for (const row of t.rows) {
      for (const c of Object.values(row)) {
        if (c && typeof c === 'object' && (c as ResolvedCmp).ref && !out.has(key((c as ResolvedCmp).ref!))) {
          out.set(key((c as ResolvedCmp).ref!), (c as ResolvedCmp).ours);
        }
      }
    }
  }
  return out;
}

export interface AuditRow {
  ref: string;
  section: string;
  quote: string;
  paper: string;
  /** On the paper's own weights (null: not computed). */
  reference: number | null;
  referenceStatus: Status;
  /** On our training: one value or a spread over seeds (null: not computed). */
  ours: Spread | null;
  oursStatus: Status;
  /** The paper's figure lies inside our seeds' min–max. */
  paperWithinSeeds: boolean;
  /** n/c: the settings where the paper's-weights report / our training differ from the figure's. */
  referenceNotComparable?: string[];
  oursNotComparable?: string[];
  /** A ✘'s case (comparable.ts), or '' when the row has no ✘. */
  why?: string;
}

/**
 * Audit rows for every paper figure any of the reports compares. `trained`: reports of
 * models trained here (one per seed); `reference`: a report on the paper's weights.
 */
export function auditRows(figures: PaperFigures, trained: ReportJson[], reference: ReportJson | null): AuditRow[] {
  const refVals = reference ? valuesByRef(reference, figures) : new Map<string, number | null>();
  const refSetting = reference ? settingOf(reference) : null;
  const seedVals = trained.map((r) => valuesByRef(r, figures));
  const seedSettings = trained.map(settingOf);
  const refs = new Set<string>([...refVals.keys(), ...seedVals.flatMap((m) => [...m.keys()])]);
  const rows: AuditRow[] = [];
  const order = Object.keys(figures);
  for (const ref of [...refs].sort((a, b) => order.indexOf(a) - order.indexOf(b))) {
    const fig = figures[ref];
    if (!fig || fig.kind === 'config') continue;
    const refValue = refVals.get(ref) ?? null;
    const rj = judge(refValue, ref, figures, refSetting);
    const ours = spread(seedVals.map((m) => m.get(ref)).filter((x): x is number => typeof x === 'number'));
    // Our training is not comparable when any seed's report is not.
    const oursDiffs = seedSettings.map((s) => differences(fig, s)).find((d) => d.length) ?? [];
    const oursStatus: Status = !ours ? '' : oursDiffs.length ? 'n/c' : judge(ours.mean, ref, figures, null).status;
    const p = Number(fig.value);
    const why = oursStatus === '✘' ? trainingCase(reference ? rj.status : null) : rj.status === '✘' ? CASE_REFERENCE : '';
    rows.push({
      ref,
      section: fig.section,
      quote: fig.quote,
      paper: fig.value,
      reference: refValue,
      referenceStatus: rj.status,
      ours,
      oursStatus,
      paperWithinSeeds: !!ours && ours.n > 1 && p >= ours.min && p <= ours.max,
      ...(rj.notComparable ? { referenceNotComparable: rj.notComparable } : {}),
      ...(oursStatus === 'n/c' ? { oursNotComparable: oursDiffs } : {}),
      why,
    });
  }
  return rows;
}

const fmt = (x: number | null | undefined, d = 4) => (x === null || x === undefined ? '—' : Number.isInteger(x) ? String(x) : x.toFixed(d));
const fmtSpread = (s: Spread | null) => (!s ? '—' : s.n === 1 ? fmt(s.mean) : `${fmt(s.mean)} ± ${fmt(s.sd)} (${fmt(s.min)}–${fmt(s.max)}, n=${s.n})`);

/** A status as the audit prints it: n/c spelled out with its reasons. */
const statusCell = (s: Status, nc: string[] | undefined) => (s === 'n/c' ? notComparableText(nc ?? []) : s);

export function renderAudit(rows: AuditRow[], opts: { seeds: number }): string {
  // Columns with nothing in them (no report on the paper's weights, or no trained model, or no ✘) are left out.
  const hasRef = rows.some((r) => r.reference !== null);
  const hasOurs = rows.some((r) => r.ours !== null);
  const hasWhy = rows.some((r) => r.why);
  const cols = ['figure', 'section', 'the paper says', 'paper', ...(hasRef ? ["paper's weights", 'status'] : []), ...(hasOurs ? ['our training', 'status'] : []), ...(hasWhy ? ['why ✘'] : [])];
  const lines = [
    '## Reproduction audit',
    '',
    'One row per figure of the paper that this report recomputes.' +
      (hasRef ? ` "Paper's weights" is the value on the authors' shipped weights.` : '') +
      (hasOurs ? ` "Our training" is ${opts.seeds > 1 ? `the mean ± sd (min–max) over ${opts.seeds} seeds` : 'the value on the model trained here'}.` : '') +
      " Status: ✔ agrees to the paper's printed precision (a figure printed as 0 or ~0: |ours| at most 10% of the largest figure in its column), ≈ within 10%, ✘ otherwise;" +
      " not comparable: this run's setting differs from the one the paper's figure is for (not counted). Definitions: docs/definitions.md §R.2.",
    '',
    `| ${cols.join(' | ')} |`,
    `|${cols.map(() => '---').join('|')}|`,
  ];
  for (const r of rows) {
    const cells = [`\`${r.ref}\``, r.section, quoteCell(r.quote), r.paper];
    if (hasRef) cells.push(fmt(r.reference), statusCell(r.referenceStatus, r.referenceNotComparable));
    if (hasOurs) cells.push(fmtSpread(r.ours), `${statusCell(r.oursStatus, r.oursNotComparable)}${r.paperWithinSeeds ? ' (in seed range)' : ''}`);
    if (hasWhy) cells.push(r.why ?? '');
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('', auditSummary(rows, opts));
  return lines.join('\n');
}

/** The paper's sentence for a figure, quoted, safe in a Markdown table cell. */
export const quoteCell = (q: string | undefined) => (q ? `“${q.replace(/\|/g, '\\|').replace(/\s+/g, ' ')}”` : '');

/** The one-paragraph summary: how many reproduce, which do not, and the likely reason. */
export function auditSummary(rows: AuditRow[], opts: { seeds: number }): string {
  const scored = (s: Status) => s === '✔' || s === '≈' || s === '✘';
  const withRef = rows.filter((r) => scored(r.referenceStatus));
  const withOurs = rows.filter((r) => scored(r.oursStatus));
  const ok = (s: Status) => s === '✔' || s === '≈';
  const parts: string[] = [];
  if (withRef.length) {
    const bad = withRef.filter((r) => !ok(r.referenceStatus));
    parts.push(
      `On the paper's own weights ${withRef.length - bad.length} of ${withRef.length} figures reproduce (✔ or ≈)` +
        (bad.length ? `; ${bad.length} do not: ${bad.map((r) => `\`${r.ref}\``).join(', ')}.` : '.'),
    );
    const inSpread = bad.filter((r) => r.paperWithinSeeds);
    const outSpread = bad.filter((r) => !r.paperWithinSeeds && r.ours && r.ours.n > 1);
    const names = (rs: AuditRow[]) => rs.map((r) => `\`${r.ref}\``).join(', ');
    if (inSpread.length) {
      parts.push(
        `Of these, ${inSpread.length} (${names(inSpread)}) fall within the range of our ${opts.seeds} seeds: the paper's figure is plausible for another training run of the same recipe, so the likely reason is that it was computed on a different model than the shipped weights.`,
      );
    }
    if (outSpread.length) {
      const why = "neither the shipped weights nor our training reach the paper's figure, which points to a different definition or recipe rather than seed-to-seed variation.";
      parts.push(
        inSpread.length
          ? `The other ${outSpread.length} (${names(outSpread)}) lie outside our seeds' range as well: ${why}`
          : `None of them falls within the range of our ${opts.seeds} seeds either: ${why}`,
      );
    }
  }
  if (withOurs.length) {
    const bad = withOurs.filter((r) => !ok(r.oursStatus));
    parts.push(
      `On our training ${withOurs.length - bad.length} of ${withOurs.length} figures agree with the paper (✔ or ≈)` +
        (bad.length ? `; ${bad.length} do not: ${bad.slice(0, 12).map((r) => `\`${r.ref}\``).join(', ')}${bad.length > 12 ? ', …' : ''}.` : '.'),
    );
  }
  for (const [who, nc] of [
    ["the paper's weights", rows.filter((r) => r.referenceStatus === 'n/c').map((r) => r.referenceNotComparable ?? [])],
    ['our training', rows.filter((r) => r.oursStatus === 'n/c').map((r) => r.oursNotComparable ?? [])],
  ] as const) {
    if (nc.length) parts.push(`On ${who} ${nc.length} figure${nc.length > 1 ? 's are' : ' is'} not comparable (not counted): ${reasonCounts(nc)}.`);
  }
  if (!parts.length) parts.push('No figure of the paper is compared here.');
  return parts.join(' ');
}

/** "<reason> (n figures); …" for the reasons of not-comparable figures, most frequent first. */
export function reasonCounts(lists: readonly (readonly string[])[]): string {
  const n = new Map<string, number>();
  for (const l of lists) for (const r of l) n.set(r, (n.get(r) ?? 0) + 1);
  return [...n].sort((a, b) => b[1] - a[1]).map(([r, k]) => `${r} (${k} figure${k > 1 ? 's' : ''})`).join('; ');
}

/** Which recipe trained the model, in one phrase (older train outputs lack init/recipe). */
export function recipeLine(t: any): string {
  if (!t) return 'unknown recipe';
  const name = t.recipe?.name ?? `${t.optimizer}${t.init ? ` + ${t.init} init` : ''}`;
  const preds = t.predictions ? ` (${t.predictions} predictions${t.epochsFrom === 'predictions' ? ', from train.predictions' : ''})` : '';
  return `${name}, ${t.epochs} epochs${preds}, seed ${t.seed}${t.recipe?.lrSchedule ? `, lr ${t.recipe.lrSchedule}` : ''}`;
}

/** The audit's paper's-weights column: where it comes from, or how to add it. */
export function referenceLine(ref: ReportJson | null): string {
  if (ref) return `- Paper's weights column (audit): from the report \`${ref.label}\` on imported weights.`;
  return "- No paper's-weights column in the audit: add it with `TOTAL_INTERP_PAPER_WEIGHTS=FILE npx tsx pipeline.ts report` (FILE = the authors' `sat_model.bin`), or `--set model.source=paper` when online.";
}

export function referenceInfo(ref: ReportJson) {
  return { label: ref.label, model: { source: ref.model.source, H: ref.model.H ?? null }, data: { bytes: ref.data.bytes, sha256: ref.data.sha256 } };
}
