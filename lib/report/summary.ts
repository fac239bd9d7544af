// The report's opening: one counting of the paper's figures, used at the top and in
// report.json's summary, the biggest disagreements in words, and the links to the viewer,
// the interactive plots and the audit. A "figure" is one entry of paper-figures.json that
// this report recomputes, settings (kind "config") left out: the rows of the audit, each
// counted once however many tables show it. A figure that is not comparable (the run's
// setting differs from the paper's) is counted apart, with its reasons
// (docs/definitions.md §R.2).

import { reasonCounts, type AuditRow } from './audit.ts';
import type { Status } from './compare.ts';

export interface FigureCount {
  agree: number;
  approx: number;
  disagree: number;
  /** Figures not compared because the run's setting differs from the paper's (not in the three counts above). */
  notComparable: number;
  /** Each reason ("model.H = 16, the paper's figure is for 128") with how many figures it holds back. */
  notComparableWhy: Record<string, number>;
}

/** A row's status on this report's model: the paper's weights when imported, else ours. */
export const rowStatus = (r: AuditRow): Status => r.referenceStatus || r.oursStatus;
const rowValue = (r: AuditRow): number | null => (r.reference !== null ? r.reference : (r.ours?.mean ?? null));

/** Which column's statuses to count: the paper's weights, our training, or the row's own (rowStatus). */
export type Column = 'reference' | 'ours';

export function countFigures(rows: AuditRow[], column?: Column): FigureCount {
  const c: FigureCount = { agree: 0, approx: 0, disagree: 0, notComparable: 0, notComparableWhy: {} };
  for (const r of rows) {
    const col = column ?? (r.referenceStatus ? 'reference' : 'ours');
    const s = col === 'reference' ? r.referenceStatus : r.oursStatus;
    if (s === '✔') c.agree++;
    else if (s === '≈') c.approx++;
    else if (s === '✘') c.disagree++;
    else if (s === 'n/c') {
      c.notComparable++;
      for (const why of (col === 'reference' ? r.referenceNotComparable : r.oursNotComparable) ?? []) c.notComparableWhy[why] = (c.notComparableWhy[why] ?? 0) + 1;
    }
  }
  return c;
}

/** The audit's order: ✘ first, then ≈, then ✔, then rows without a status; paper order within. */
export function worstFirst(rows: AuditRow[]): AuditRow[] {
  const rank: Record<Status, number> = { '✘': 0, '≈': 1, '✔': 2, 'n/c': 3, '': 4 };
  return rows.map((r, i) => ({ r, i })).sort((a, b) => rank[rowStatus(a.r)] - rank[rowStatus(b.r)] || a.i - b.i).map((x) => x.r);
}

/**
 * The ✘ figures furthest from the paper, worst first, by |ours − paper| / max(|ours|, |paper|)
 * (symmetric, so a figure the paper prints as nearly 0 does not dominate).
 */
export function biggestDisagreements(rows: AuditRow[], n: number): AuditRow[] {
  const rel = (r: AuditRow) => {
    const p = Number(r.paper);
    const v = rowValue(r)!;
    return Math.abs(v - p) / Math.max(Math.abs(p), Math.abs(v), 1e-12);
  };
  return rows.filter((r) => rowStatus(r) === '✘' && rowValue(r) !== null && Number.isFinite(Number(r.paper))).sort((a, b) => rel(b) - rel(a)).slice(0, n);
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : Math.abs(x) >= 100 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(2));

/** The opening section of report.md. `weights`: which model, in words ("the paper's own weights"). */
export function summaryBlock(
  rows: AuditRow[],
  o: { weights: { column: Column; words: string }[]; viewer: string | null; interactive: string | null },
): string {
  const lines = ['## Summary', ''];
  const all = o.weights.map((w) => ({ ...w, c: countFigures(rows, w.column) }));
  const counted = all.filter((w) => w.c.agree + w.c.approx + w.c.disagree > 0);
  if (!counted.length) lines.push('No figure of the paper is compared here.');
  for (const { words, c } of counted) {
    const total = c.agree + c.approx + c.disagree;
    lines.push(`- On ${words}, **${c.agree + c.approx} of ${total}** of the paper's figures reproduce: ${c.agree} ✔ (to the paper's printed precision), ${c.approx} ≈ (within 10%); ${c.disagree} ✘ do not.`);
  }
  for (const { words, c } of all) {
    if (!c.notComparable) continue;
    const why = reasonCounts(Object.entries(c.notComparableWhy).flatMap(([r, k]) => Array.from({ length: k }, () => [r])));
    lines.push(`- On ${words}, **${c.notComparable}** of the paper's figures are not comparable and not counted, because this run's setting differs from the paper's: ${why}.`);
  }
  if (counted.length || all.some((w) => w.c.notComparable)) {
    lines.push('', 'A figure is one number the paper prints that this report recomputes, counted once however many tables show it; the audit at the end lists them all.');
  }
  const worst = biggestDisagreements(rows, 5);
  if (worst.length) {
    // Figures quoted from the same sentence are said together.
    const byQuote = new Map<string, AuditRow[]>();
    for (const r of worst) byQuote.set(r.quote, [...(byQuote.get(r.quote) ?? []), r]);
    lines.push('', `The biggest disagreements (on ${counted[0]?.words ?? 'this model'}):`, '');
    for (const [quote, rs] of byQuote) {
      const here = rs.map((r) => `\`${r.ref}\` = ${fmt(rowValue(r)!)} where the paper has ${r.paper}`).join('; ');
      lines.push(`- ${rs[0].section}: the paper says “${quote}” Here: ${here}.`);
    }
  }
  lines.push('');
  if (o.viewer) {
    lines.push(
      `- **[The per-position viewer](${o.viewer})**: the text byte by byte, coloured by bits, carrier-only bits, pattern gain or PS units; click a byte for its §5.4 decomposition, PS units and eq. 7 influence; pick a unit to see its state. One file, opens from disk. ` +
        '`npm run screenshot` writes [viewer.png](viewer.png) beside it.',
    );
  }
  if (o.interactive) lines.push(`- [Interactive plots](${o.interactive}) (tooltips, zoom): the same charts as the SVGs beside the tables.`);
  lines.push('- [The full audit](#reproduction-audit) is at the end, ✘ rows first, each with the paper\'s sentence.');
  return lines.join('\n');
}
