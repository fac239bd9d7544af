// The reproduction audit (issue 7): one row per paper figure that the report compares,
// with the paper's value, the value on the paper's own weights, the value on our training
// (mean ± sd over seeds when there are several), and a status. Built from report.json
// documents only, so it works for one report or for an aggregate over seeds.

import { statusOf, type PaperFigures, type ResolvedCmp, type ResolvedMetric, type ResolvedTable, type Status } from './compare.ts';

/** The parts of report.json the audit and the aggregate read. */
export interface ReportJson {
  label: string;
  model: { source: string; name?: string; H?: number; train?: { seed?: number; [k: string]: unknown } };
  data: { bytes: number; sha256: string; [k: string]: unknown };
  tables: Record<string, ResolvedTable>;
  metrics: Record<string, ResolvedMetric>;
  summary?: unknown;
  [k: string]: unknown;
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

/** Every value a report gives for each paper figure (metrics first, then table cells). */
export function valuesByRef(r: ReportJson): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const m of Object.values(r.metrics)) if (m.paper !== null && !out.has(m.id)) out.set(m.id, m.value);
  for (const t of Object.values(r.tables)) {
    for (const row of t.rows) {
      for (const c of Object.values(row)) {
        if (c && typeof c === 'object' && (c as ResolvedCmp).ref && !out.has((c as ResolvedCmp).ref!)) {
          out.set((c as ResolvedCmp).ref!, (c as ResolvedCmp).ours);
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
}

export function isReferenceReport(r: ReportJson): boolean {
  return r.model.source === 'import';
}

/**
 * Audit rows for every paper figure any of the reports compares. `trained`: reports of
 * models trained here (one per seed); `reference`: a report on the paper's weights.
 */
export function auditRows(figures: PaperFigures, trained: ReportJson[], reference: ReportJson | null): AuditRow[] {
  const refVals = reference ? valuesByRef(reference) : new Map<string, number | null>();
  const seedVals = trained.map(valuesByRef);
  const refs = new Set<string>([...refVals.keys(), ...seedVals.flatMap((m) => [...m.keys()])]);
  const rows: AuditRow[] = [];
  const order = Object.keys(figures);
  for (const ref of [...refs].sort((a, b) => order.indexOf(a) - order.indexOf(b))) {
    const fig = figures[ref];
    if (!fig || fig.kind === 'config') continue;
    const reference = refVals.get(ref) ?? null;
    const ours = spread(seedVals.map((m) => m.get(ref)).filter((x): x is number => typeof x === 'number'));
    const p = Number(fig.value);
    rows.push({
      ref,
      section: fig.section,
      quote: fig.quote,
      paper: fig.value,
      reference,
      referenceStatus: statusOf(reference, fig.value),
      ours,
      oursStatus: ours ? statusOf(ours.mean, fig.value) : '',
      paperWithinSeeds: !!ours && ours.n > 1 && p >= ours.min && p <= ours.max,
    });
  }
  return rows;
}

const fmt = (x: number | null | undefined, d = 4) => (x === null || x === undefined ? '—' : Number.isInteger(x) ? String(x) : x.toFixed(d));
const fmtSpread = (s: Spread | null) => (!s ? '—' : s.n === 1 ? fmt(s.mean) : `${fmt(s.mean)} ± ${fmt(s.sd)} (${fmt(s.min)}–${fmt(s.max)}, n=${s.n})`);

export function renderAudit(rows: AuditRow[], opts: { seeds: number }): string {
  // Columns with nothing in them (no report on the paper's weights, or no trained model) are left out.
  const hasRef = rows.some((r) => r.reference !== null);
  const hasOurs = rows.some((r) => r.ours !== null);
  const cols = ['figure', 'section', 'the paper says', 'paper', ...(hasRef ? ["paper's weights", 'status'] : []), ...(hasOurs ? ['our training', 'status'] : [])];
  const lines = [
    '## Reproduction audit',
    '',
    'One row per figure of the paper that this report recomputes.' +
      (hasRef ? ` "Paper's weights" is the value on the authors' shipped weights.` : '') +
      (hasOurs ? ` "Our training" is ${opts.seeds > 1 ? `the mean ± sd (min–max) over ${opts.seeds} seeds` : 'the value on the model trained here'}.` : '') +
      ' Status: ✔ agrees to the paper\'s printed precision, ≈ within 10%, ✘ otherwise.',
    '',
    `| ${cols.join(' | ')} |`,
    `|${cols.map(() => '---').join('|')}|`,
  ];
  for (const r of rows) {
    const cells = [`\`${r.ref}\``, r.section, quoteCell(r.quote), r.paper];
    if (hasRef) cells.push(fmt(r.reference), r.referenceStatus);
    if (hasOurs) cells.push(fmtSpread(r.ours), `${r.oursStatus}${r.paperWithinSeeds ? ' (in seed range)' : ''}`);
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('', auditSummary(rows, opts));
  return lines.join('\n');
}

/** The paper's sentence for a figure, quoted, safe in a Markdown table cell. */
export const quoteCell = (q: string | undefined) => (q ? `“${q.replace(/\|/g, '\\|').replace(/\s+/g, ' ')}”` : '');

/** The one-paragraph summary: how many reproduce, which do not, and the likely reason. */
export function auditSummary(rows: AuditRow[], opts: { seeds: number }): string {
  const withRef = rows.filter((r) => r.referenceStatus !== '');
  const withOurs = rows.filter((r) => r.oursStatus !== '');
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
  if (!parts.length) parts.push('No figure of the paper is compared here.');
  return parts.join(' ');
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
