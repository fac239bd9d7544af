// The aggregate of a sweep: chosen metrics against the swept params, one row
// per point (a combination of the swept values), each cell the mean ± sd [min, max] over
// that point's seeds; a plot per metric with the seed spread (mean line, min–max band,
// every seed as a dot); a few sentences generated from the numbers; and, per point, the
// usual aggregate over its seeds (every metric of lib/report/aggregate.ts).
//
// Input: per built point (one combination × one seed) a report-shaped document (metrics
// and tables as in report.json), made by the command line from the point's stage outputs
// (lib/cli/sweep.ts). Nothing here knows a stage; metrics are read from those documents.

import { createHash } from 'node:crypto';
import { aggregate, fitLabel, num, rowLabel } from './aggregate.ts';
export { fitLabel, MAX_LABEL } from './aggregate.ts';
import { spread, type ReportJson, type Spread } from './audit.ts';
import { noHtml } from './markdown.ts';
import type { PaperFigures } from './compare.ts';
import { renderSvg } from './plots.ts';
import { heldoutCurvesSpec, sweepLinesSpec, sweepPlotSpec } from './sweep-plots.ts';
import type { Q3Info, SweepAxis, SweepCell, SweepJson, SweepRow } from './sweep-types.ts';
export type { SweepAxis, SweepCell, SweepJson, SweepRow, Q3Info } from './sweep-types.ts';

export interface SweepMetric {
  id: string;
  label: string;
  group: string;
  pick: (r: ReportJson) => number | null;
}

const metric = (id: string) => (r: ReportJson) => {
  const v = r.metrics[id]?.value;
  return typeof v === 'number' ? v : null;
};

/** `d = 2` names the row "d = 2" and "d = 2 (…)", never "d = 20–49 (mean)". */
const labelIs = (label: string, row: string) => label.startsWith(row) && !/\d/.test(label.charAt(row.length));

/** A numeric cell of a report table: the row whose label is `row` (or starts with it, then no digit), column `col`. */
const cell = (table: string, row: string, col: string) => (r: ReportJson) => {
  const t = r.tables[table];
  const hit = t?.rows.find((x, i) => labelIs(rowLabel(x, i), row));
  return hit ? num(hit[col]) : null;
};

/**
 * trained_bpc: the isomorphism stage's figure when it was built; otherwise the model's
 * best-checkpoint eval bpc (the same quantity: all N-1 positions, the checkpoint kept).
 */
const trainedBpc = (r: ReportJson) => metric('trained_bpc')(r) ?? cell('training', 'Best-checkpoint eval bpc', 'value')(r);

/** The model's held-out bpc: its best checkpoint scored on the data stage's held-out text during training. */
const trainOf = (r: ReportJson) => (r.model.train ?? {}) as { heldout?: { checkpointBpc?: number; bestBpc?: number } | null; converged?: boolean | null };
const heldoutBpc = (r: ReportJson) => {
  const v = trainOf(r).heldout?.checkpointBpc;
  return typeof v === 'number' ? v : null;
};
/** The lowest point of the model's held-out curve (the init included): below the checkpoint's when the model memorises its text. */
const heldoutBestBpc = (r: ReportJson) => {
  const v = trainOf(r).heldout?.bestBpc;
  return typeof v === 'number' ? v : null;
};

/**
 * The §6.3 description level worth its bits with the lowest bpc (levels whose
 * rebuild.<level>.worth_bits is 1), not `full` and not a reference: `full` writes every weight
 * out, so its bpc is the trained model's by construction and it is worth its bits whenever no
 * reference reaches the trained bpc; taking it would make the gap 0 and the bits the weights'
 * at every size. Null when the point has no Q4 figures or no description level is worth them.
 */
export function bestWorthLevel(r: ReportJson): { level: string; bpc: number; bits: number } | null {
  let best: { level: string; bpc: number; bits: number } | null = null;
  for (const [id, m] of Object.entries(r.metrics)) {
    const hit = /^rebuild\.([^.]+)\.worth_bits$/.exec(id);
    if (!hit || hit[1] === 'full' || hit[1].startsWith('ref_') || m.value !== 1) continue;
    const bpc = metric(`rebuild.${hit[1]}.bpc`)(r);
    const bits = metric(`rebuild.${hit[1]}.bits`)(r);
    if (bpc === null || bits === null) continue;
    if (!best || bpc < best.bpc) best = { level: hit[1], bpc, bits };
  }
  return best;
}

/** The text as its own description (docs/definitions.md §6.3): 8 × gzip-9 bytes of the training text, from a reference row. */
const textBits = (r: ReportJson) => metric('rebuild.ref_reverse_iso.bits')(r) ?? metric('rebuild.ref_construction.bits')(r);

const BPC = 'bpc: in-sample, held-out and counting (§6.4, §6.5)';
const Q4 = 'The best description worth its bits (§6.3)';
const T2 = 'Table 2: carrier/pattern (§5.2)';
const T3 = 'Table 3: signed influence (§5.3)';
const Q1 = 'Timing rules build the carrier (§6.1)';

/** The docs/definitions.md §6.4 figures (Q3), in the order the aggregate shows them. */
export const Q3_METRICS: SweepMetric[] = [
  { id: 'trained_bpc', label: 'in-sample bpc', group: BPC, pick: trainedBpc },
  { id: 'heldout_bpc', label: 'held-out bpc', group: BPC, pick: heldoutBpc },
  { id: 'heldout_best_bpc', label: 'best held-out bpc along training', group: BPC, pick: heldoutBestBpc },
  { id: 'kn.best.heldout_bpc', label: 'Kneser–Ney held-out bpc (best order)', group: BPC, pick: metric('kn.best.heldout_bpc') },
  { id: 'kn.best.order', label: 'Kneser–Ney best order', group: BPC, pick: metric('kn.best.order') },
  { id: 'ps_per_position', label: 'PS units per position', group: T2, pick: metric('ps_per_position') },
  { id: 'carrier_only_bpc', label: 'carrier-only bpc', group: T2, pick: metric('carrier_only_bpc') },
  { id: 'pattern_gain_bpc', label: 'pattern gain (bpc)', group: T2, pick: metric('pattern_gain_bpc') },
  { id: 'byte_identity_fraction', label: 'byte-identity fraction', group: T2, pick: metric('byte_identity_fraction') },
  { id: 'influence.d0.signed', label: 'signed influence d = 0', group: T3, pick: cell('table3_influence', 'd = 0', 'signed') },
  { id: 'influence.d1.signed', label: 'signed influence d = 1', group: T3, pick: cell('table3_influence', 'd = 1', 'signed') },
  { id: 'influence.d2.signed', label: 'signed influence d = 2', group: T3, pick: cell('table3_influence', 'd = 2', 'signed') },
  { id: 'influence.d20-49.signed', label: 'signed influence d = 20–49 (mean)', group: T3, pick: cell('table3_influence', 'd = 20', 'signed') },
  ...(['wl_tag', 'x1_x2'] as const).flatMap((set) => {
    const name = set.replace('_', '+');
    return [
      { id: `timing_carrier.${set}.carrier_r2`, label: `${name} carrier R²`, group: Q1, pick: metric(`timing_carrier.${set}.carrier_r2`) },
      { id: `timing_carrier.${set}.bpc`, label: `${name} bpc`, group: Q1, pick: metric(`timing_carrier.${set}.bpc`) },
      { id: `timing_carrier.${set}.heldout_bpc`, label: `${name} held-out bpc`, group: Q1, pick: metric(`timing_carrier.${set}.heldout_bpc`) },
    ];
  }),
  {
    id: 'rebuild.best_worth.gap',
    label: 'bpc gap of the best level worth its bits',
    group: Q4,
    pick: (r) => {
      const b = bestWorthLevel(r);
      const t = trainedBpc(r);
      return b && t !== null ? b.bpc - t : null;
    },
  },
  { id: 'rebuild.best_worth.bits', label: 'its description bits', group: Q4, pick: (r) => bestWorthLevel(r)?.bits ?? null },
  { id: 'rebuild.text_bits', label: 'the text as its own description (bits)', group: Q4, pick: textBits },
];

/** The Q3 metrics its report shows as a column even where no point has them ("—"): the §6.3 ones, built on another branch's stages. */
const Q3_ALWAYS = new Set(['rebuild.best_worth.gap', 'rebuild.best_worth.bits']);

/**
 * The metrics a sweep shows. `wanted`: ids (of Q3_METRICS or of report metrics), in that
 * order; unknown ids are returned in `unknown`. Default: the Q3 figures the documents
 * have, else every metric they have.
 */
export function chooseMetrics(docs: ReportJson[], wanted?: string[], q3 = false): { metrics: SweepMetric[]; unknown: string[]; available: string[] } {
  const has = (m: SweepMetric) => docs.some((d) => m.pick(d) !== null);
  const reportIds = [...new Set(docs.flatMap((d) => Object.keys(d.metrics)))];
  const byId = new Map<string, SweepMetric>(Q3_METRICS.map((m) => [m.id, m]));
  for (const id of reportIds) if (!byId.has(id)) byId.set(id, { id, label: id, group: docs.find((d) => d.metrics[id])!.metrics[id].section, pick: metric(id) });
  const available = [...byId.values()].filter(has).map((m) => m.id);
  if (wanted?.length) {
    const unknown = wanted.filter((w) => !available.includes(w));
    return { metrics: wanted.filter((w) => available.includes(w)).map((w) => byId.get(w)!), unknown, available };
  }
  const shown = Q3_METRICS.filter((m) => has(m) || (q3 && Q3_ALWAYS.has(m.id)));
  return { metrics: shown.some(has) ? shown : [...byId.values()].filter(has), unknown: [], available };
}

/** One built point: the swept values (seed apart), its seed, and its document. */
export interface SweepPointInput {
  values: Record<string, unknown>;
  seed: number | null;
  doc: ReportJson;
  /** The point's report.md, when the report stage was a target. */
  report: string | null;
  /** Where the point's stages averaged over a sample of positions (sampledStages of their output JSON); absent: read from the tables' positions lines. */
  sampled?: SampledStage[];
}

/**
 * Figures that do not depend on the trained model (Kneser–Ney counts the training text; the
 * text's own description is its gzip size): a model that did not converge does not grey them.
 */
export const modelFree = (id: string) => id.startsWith('kn.') || id === 'rebuild.text_bits';

/** Per seed, whether its figures count: Q3 leaves a model that did not converge out of every spread and sentence (model-free figures apart). */
const counts = (q3: boolean, id: string, converged: (boolean | null)[]) => (i: number) => !q3 || modelFree(id) || converged[i] !== false;

// ---------------------------------------------------------------- sampled positions

/** A stage that averaged over a sample of positions instead of every one, as its output JSON says. */
export interface SampledStage {
  /** The stage, and the sample's path in its JSON when not at the top ("construction grid" for its `gridSample`). */
  where: string;
  /** Positions visited, and of how many. */
  count: number | null;
  of: number;
  blocks: number | null;
  blockLength: number | null;
  /** The stated size beyond which the stage samples (its maxPositions param), when it says. */
  maxPositions: number | null;
}

const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);
const numOr = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/**
 * The samples the stages' output JSON records: an object under a key `sample` (or ending in
 * `Sample`), at the top or up to two objects down, with `sampled: true` and the number of
 * positions it is `of`; the count is its `count`, else blocks × blockLength, else the
 * enclosing object's `count`. Arrays are not searched (per-level lists are not samples).
 */
export function sampledStages(outputs: Record<string, { json: unknown }>): SampledStage[] {
  const out: SampledStage[] = [];
  const walk = (stage: string, o: Record<string, unknown>, at: string[], depth: number) => {
    for (const [k, v] of Object.entries(o)) {
      if (!isObj(v)) continue;
      if ((k === 'sample' || k.endsWith('Sample')) && v.sampled === true && numOr(v.of) !== null) {
        const blocks = numOr(v.blocks);
        const blockLength = numOr(v.blockLength);
        const count = numOr(v.count) ?? (blocks !== null && blockLength !== null ? blocks * blockLength : numOr(o.count));
        const path = [...at, ...(k === 'sample' ? [] : [k.slice(0, -'Sample'.length)])];
        out.push({ where: [stage, ...path].join(' '), count, of: numOr(v.of)!, blocks, blockLength, maxPositions: numOr(v.maxPositions) });
      } else if (depth < 2) walk(stage, v, [...at, k], depth + 1);
    }
  };
  for (const [stage, o] of Object.entries(outputs)) if (isObj(o.json)) walk(stage, o.json, [], 0);
  return out.sort((a, b) => a.where.localeCompare(b.where));
}

/** A sample in words: "65536 of 458701 positions, 64 evenly spread blocks of 1024 (beyond maxPositions = 65536)". */
export function sampleWords(x: SampledStage): string {
  return (
    `${x.count ?? '?'} of ${x.of} positions` +
    (x.blocks !== null && x.blockLength !== null ? `, ${x.blocks} evenly spread block${x.blocks === 1 ? '' : 's'} of ${x.blockLength}` : '') +
    (x.maxPositions !== null ? ` (beyond maxPositions = ${x.maxPositions})` : '')
  );
}

const pointKey = (values: Record<string, unknown>) => JSON.stringify(values);

/** The label reports/<label>/ gets: the swept params and values, the seeds, and a hash of the rest (at most MAX_LABEL characters). */
export function sweepLabel(axes: SweepAxis[], seeds: (number | null)[], fixed: string[], targets: string[]): string {
  const parts = axes.map((a) => `${a.param}-${a.values.map((v) => String(v)).join('-')}`);
  if (seeds.some((s) => s !== null)) parts.push(`seeds${seeds.join('-')}`);
  const extra = [...fixed, ...(targets.length === 1 && targets[0] === 'report' ? [] : [`targets=${targets.join(',')}`])];
  const hash = extra.length ? `-p${createHash('sha256').update(extra.join('\n')).digest('hex').slice(0, 8)}` : '';
  return fitLabel(`sweep-${parts.join('-')}${hash}`.replace(/[^A-Za-z0-9._-]+/g, '_'));
}

export function sweepAggregate(
  o: { label: string; axes: SweepAxis[]; seeds: (number | null)[]; targets: string[]; fixed: string[]; q3?: Q3Info },
  points: SweepPointInput[],
  metrics: SweepMetric[],
  figures: PaperFigures,
): SweepJson {
  const groups = new Map<string, SweepPointInput[]>();
  for (const pt of points) (groups.get(pointKey(pt.values)) ?? groups.set(pointKey(pt.values), []).get(pointKey(pt.values))!).push(pt);
  const q3 = !!o.q3;
  const rows: SweepRow[] = [...groups.values()].map((pts) => {
    const converged = pts.map((pt) => (typeof trainOf(pt.doc).converged === 'boolean' ? trainOf(pt.doc).converged! : null));
    const cells: Record<string, SweepCell> = {};
    for (const m of metrics) {
      const values = pts.map((pt) => m.pick(pt.doc));
      const ok = counts(q3, m.id, converged);
      cells[m.id] = { values, spread: spread(values.filter((v, i): v is number => v !== null && ok(i))) };
    }
    // Q3: the per-point aggregate over the converged models (over all when none converged; renderSweep says which)
    const kept = q3 && converged.some((c) => c !== false) ? pts.filter((_, i) => converged[i] !== false) : pts;
    const { audit: _audit, ...agg } = aggregate(`${o.label}:${pointKey(pts[0].values)}`, kept.map((pt) => pt.doc), null, figures);
    return {
      values: pts[0].values,
      seeds: pts.map((pt) => pt.seed),
      reports: pts.map((pt) => pt.report),
      epochs: pts.map((pt) => (typeof pt.doc.model.train?.epochs === 'number' ? (pt.doc.model.train.epochs as number) : null)),
      converged,
      ...(o.q3
        ? {
            heldoutCurves: pts.map((pt) => (trainOf(pt.doc).heldout as { curve?: { epoch: number; heldoutBpc: number }[] } | null | undefined)?.curve ?? null),
            sampled: pts[0].sampled ? pts[0].sampled.map((x) => ({ title: x.where, positions: sampleWords(x) })) : sampledTables(pts[0].doc),
          }
        : {}),
      metrics: cells,
      aggregate: agg,
    };
  });
  const s: SweepJson = {
    label: o.label,
    kind: 'sweep',
    axes: o.axes,
    seeds: o.seeds,
    targets: o.targets,
    fixed: o.fixed,
    metrics: metrics.map(({ id, label, group }) => ({ id, label, group })),
    rows,
    summary: [],
    ...(o.q3 ? { q3: o.q3 } : {}),
  };
  // Q3's answers first, then the trends of every figure
  s.summary = o.q3 ? [...q3Sentences(s), ...sweepSentences(s)] : sweepSentences(s);
  return s;
}

// ---------------------------------------------------------------- the sentences

/** Four significant digits (integers as they are), so that small figures do not print as 0.0000. */
const f = (x: number) => (Number.isInteger(x) ? String(x) : Math.abs(x) >= 1000 ? x.toFixed(1) : x === 0 ? '0' : x.toPrecision(4));
const fmtSpread = (s: Spread | null | undefined) => (!s ? '—' : s.n === 1 ? f(s.mean) : `${f(s.mean)} ± ${s.sd === null ? '—' : f(s.sd)} [${f(s.min)}, ${f(s.max)}]`);
/** A non-converged figure in Markdown (which carries no HTML, so no colour): in italics, labelled. */
const grey = (x: string) => `*${x}*`;

/**
 * A row's cell: the spread over its models, and when some did not converge the spread over
 * those that did, then theirs greyed and labelled "not converged" (never mixed in silently).
 */
export function fmtCell(r: SweepRow, id: string): string {
  const c = r.metrics[id];
  if (!c) return '—';
  const conv = r.converged ?? [];
  if (modelFree(id) || !conv.some((x) => x === false)) return fmtSpread(c.spread);
  const ok = c.values.filter((v, i): v is number => v !== null && conv[i] !== false);
  const bad = c.values.filter((v, i): v is number => v !== null && conv[i] === false);
  if (!ok.length && !bad.length) return '—';
  const badWords = bad.length ? grey(`${bad.map(f).join(', ')} (not converged)`) : '';
  return ok.length ? `${fmtSpread(spread(ok))}${badWords ? `; ${badWords}` : ''}` : badWords;
}

const pointName = (s: SweepJson, r: SweepRow) => s.axes.map((a) => `${a.param} = ${String(r.values[a.param])}`).join(', ');

/** How a metric moves along the rows: first and last mean, steps up and down, and against the seed spread. */
export function trend(s: SweepJson, id: string): { first: number; last: number; ups: number; downs: number; beyondSpread: boolean } | null {
  const means = s.rows.map((r) => r.metrics[id]?.spread?.mean).filter((x): x is number => typeof x === 'number');
  if (means.length < 2) return null;
  let ups = 0;
  let downs = 0;
  for (let i = 1; i < means.length; i++) {
    if (means[i] > means[i - 1]) ups++;
    else if (means[i] < means[i - 1]) downs++;
  }
  const widths = s.rows.map((r) => r.metrics[id]?.spread).filter((x): x is Spread => !!x).map((x) => x.max - x.min);
  const width = Math.max(0, ...widths);
  const first = means[0];
  const last = means[means.length - 1];
  return { first, last, ups, downs, beyondSpread: Math.abs(last - first) > width };
}

function trendWords(s: SweepJson, id: string, label: string): string | null {
  const t = trend(s, id);
  if (!t) return null;
  const steps = t.ups + t.downs;
  const dir = t.last > t.first ? 'rises' : t.last < t.first ? 'falls' : 'stays';
  const shape = steps === 0 ? '' : t.ups === 0 || t.downs === 0 ? ', monotonically' : ` (up ${t.ups}, down ${t.downs} of ${s.rows.length - 1} steps)`;
  const spreadWords = s.rows.some((r) => (r.metrics[id]?.spread?.n ?? 0) > 1)
    ? t.beyondSpread
      ? ', more than the widest seed spread'
      : ', within the widest seed spread'
    : '';
  return t.last === t.first && steps === 0 ? `${label} stays at ${f(t.first)}${spreadWords}` : `${label} ${dir} from ${f(t.first)} to ${f(t.last)}${shape}${spreadWords}`;
}

/** A few sentences on what the figures show, computed from the rows (never written in). */
export function sweepSentences(s: SweepJson): string[] {
  if (!s.rows.length) return [];
  const out: string[] = [];
  const first = s.rows[0];
  const last = s.rows[s.rows.length - 1];
  const nSeeds = Math.max(...s.rows.map((r) => r.seeds.length));
  const epochs = (r: SweepRow) => [...new Set(r.epochs.filter((e): e is number => e !== null))].join('/');
  out.push(
    `From ${pointName(s, first)} to ${pointName(s, last)} (${s.rows.length} points, ${nSeeds} seed${nSeeds === 1 ? '' : 's'} each` +
      (epochs(first) && epochs(last) ? `; ${epochs(first)} → ${epochs(last)} epochs` : '') +
      ').',
  );
  const has = (id: string) => s.metrics.some((m) => m.id === id);
  const byGroup = new Map<string, string[]>();
  for (const m of s.metrics) {
    const w = trendWords(s, m.id, m.label);
    if (w) (byGroup.get(m.group) ?? byGroup.set(m.group, []).get(m.group)!).push(w);
  }
  for (const [g, ws] of byGroup) out.push(`${g}: ${ws.join('; ')}.`);
  // Q3: a model that did not converge is left out of every sentence
  const seedValues = (id: string, r: SweepRow) => r.metrics[id]?.values.filter((v, i): v is number => v !== null && counts(!!s.q3, id, r.converged ?? [])(i)) ?? [];
  if (has('pattern_gain_bpc')) {
    const bad = s.rows.filter((r) => seedValues('pattern_gain_bpc', r).some((v) => v <= 0));
    const all = s.rows.flatMap((r) => seedValues('pattern_gain_bpc', r));
    if (all.length) {
      out.push(
        bad.length
          ? `The pattern gain is zero or negative for some seed at ${bad.map((r) => pointName(s, r)).join('; ')}: there the byte identity adds nothing beyond the carrier.`
          : `The pattern gain stays positive for every seed at every point (smallest ${f(Math.min(...all))} bpc): the carrier alone never matches the model, so the decomposition's pattern part keeps a role as the data grows.`,
      );
    }
  }
  if (has('influence.d0.signed') && has('influence.d20-49.signed')) {
    const m0 = (r: SweepRow) => r.metrics['influence.d0.signed']?.spread?.mean;
    const mb = (r: SweepRow) => r.metrics['influence.d20-49.signed']?.spread?.mean;
    const rows = s.rows.filter((r) => typeof m0(r) === 'number' && typeof mb(r) === 'number');
    const recent = rows.filter((r) => Math.abs(m0(r)!) > Math.abs(mb(r)!));
    if (rows.length) {
      out.push(
        recent.length === rows.length
          ? `At every point the mean signed influence of the byte just read (d = 0) exceeds in size the d = 20–49 band's (${rows.map((r) => `${f(m0(r)!)} vs ${f(mb(r)!)}`).join(', ')}): influence stays concentrated on recent bytes.`
          : `The d = 0 signed influence exceeds the d = 20–49 band's in size at ${recent.length} of ${rows.length} points only${recent.length ? ` (${recent.map((r) => pointName(s, r)).join('; ')})` : ''}.`,
      );
    }
  }
  return out;
}

// ---------------------------------------------------------------- Q3's answers

const sizeName = (n: number) => (n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`);
/** A metric's values at a row from the models that converged (or whose convergence is unknown). */
const convergedValues = (r: SweepRow, id: string) => (r.metrics[id]?.values ?? []).filter((v, i): v is number => v !== null && r.converged[i] !== false);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** The smallest size from which `holds` is true at that row and every larger one (rows in size order); null if never. */
function fromSize(rows: SweepRow[], holds: (r: SweepRow) => boolean | null): { from: number | null; rows: SweepRow[] } {
  const known = rows.filter((r) => holds(r) !== null);
  let from: number | null = null;
  for (let i = known.length - 1; i >= 0 && holds(known[i]); i--) from = Number(known[i].values['data.bytes']);
  return { from, rows: known };
}

/**
 * The tables of a report that average over a sample of positions rather than all of them
 * (an analysis whose exact form grows faster than N samples beyond a stated size; its
 * table's positions line then says how many, in "evenly spread blocks").
 */
function sampledTables(doc: ReportJson): { title: string; positions: string }[] {
  const tables = Object.values((doc as { tables?: Record<string, { title?: unknown; positions?: unknown }> }).tables ?? {});
  return tables
    .filter((t) => typeof t.positions === 'string' && /evenly spread/.test(t.positions))
    .map((t) => ({ title: String(t.title ?? ''), positions: t.positions as string }));
}

/**
 * The sentences that answer Q3 (docs/definitions.md §6.4), from the numbers: how many
 * models converged under the stated rule, whether the decomposition holds, whether the
 * pattern regime grows, from what size the RNN beats counting on held-out text, and from
 * what size a description of the model is cheaper than the text. Only converged models
 * (and those without a curve) count; the others are named.
 */
export function q3Sentences(s: SweepJson): string[] {
  const out: string[] = [];
  const rows = [...s.rows].filter((r) => typeof r.values['data.bytes'] === 'number').sort((a, b) => Number(a.values['data.bytes']) - Number(b.values['data.bytes']));
  if (!rows.length) return out;
  const size = (r: SweepRow) => sizeName(Number(r.values['data.bytes']));
  const all = rows.flatMap((r) => r.converged);
  const yes = all.filter((c) => c === true).length;
  const no = rows.filter((r) => r.converged.some((c) => c === false));
  out.push(
    `Training length: ${s.q3?.rule ?? 'as the fixed params say'}. ${yes} of ${all.length} models converged (best held-out bpc improved by less than 0.01 over the last quarter of training)` +
      (no.length
        ? `; not converged: ${no.map((r) => `${r.converged.filter((c) => c === false).length} of ${r.converged.length} at ${size(r)}`).join(', ')}. Their figures are greyed in the tables and plots, and the sentences below leave them out.`
        : '.'),
  );
  // Overfitting: a converged model whose reported checkpoint is worse on the held-out text
  // than the best point of its held-out curve (by more than 0.1 bpc) stopped improving there
  // because it memorises its text, not because it learned the language.
  const OVERFIT = 0.1;
  const over = rows
    .map((r) => {
      const ms = r.converged.flatMap((c, i) => {
        const curve = r.heldoutCurves?.[i];
        const ck = r.metrics.heldout_bpc?.values[i];
        if (c !== true || !curve?.length || typeof ck !== 'number') return [];
        const best = curve.reduce((a, b) => (b.heldoutBpc < a.heldoutBpc ? b : a));
        return ck - best.heldoutBpc > OVERFIT ? [{ best: best.heldoutBpc, ck }] : [];
      });
      return { r, ms, of: r.converged.filter((c) => c === true).length };
    })
    .filter((x) => x.ms.length);
  if (over.length) {
    out.push(
      `Held-out bpc rose after its best point for ${over.reduce((a, x) => a + x.ms.length, 0)} converged models (the checkpoint the analyses read is worse on the held-out text than the best of its curve by more than ${OVERFIT} bpc): ` +
        over.map((x) => `${x.ms.length} of ${x.of} at ${size(x.r)} (best ${f(mean(x.ms.map((m) => m.best))!)}, checkpoint ${f(mean(x.ms.map((m) => m.ck))!)})`).join(', ') +
        '. These models memorise their text: they count as converged because the held-out text stopped improving, not because they learned the language.',
    );
  }
  // Where positions are sampled, and how many.
  const sampled = rows.filter((r) => r.sampled?.length);
  out.push(
    sampled.length
      ? `Sampled positions (beyond a stated size these analyses average over a stated sample instead of every position): ${sampled.map((r) => `at ${size(r)}, ${r.sampled!.map((t) => `${t.title.split(':')[0]}: ${t.positions}`).join('; ')}`).join('; ')}.`
      : 'Every figure here is over every position: no analysis sampled positions at these sizes.',
  );
  const at = (id: string) => (r: SweepRow) => mean(convergedValues(r, id));
  // Does the decomposition hold: a positive pattern gain for every converged model.
  const gain = rows.filter((r) => convergedValues(r, 'pattern_gain_bpc').length);
  if (gain.length) {
    const fails = gain.filter((r) => convergedValues(r, 'pattern_gain_bpc').some((v) => v <= 0));
    out.push(
      fails.length
        ? `The decomposition breaks at ${fails.map(size).join(', ')}: there the carrier alone predicts as well as the model for some converged model (pattern gain ≤ 0).`
        : `The decomposition holds at every size with converged models (${gain.map(size).join(', ')}): the carrier alone is worse than the model for every one of them (pattern gain ${f(Math.min(...gain.flatMap((r) => convergedValues(r, 'pattern_gain_bpc'))))} bpc or more).`,
    );
  } else out.push('No converged model has a pattern gain (Table 2), so whether the decomposition holds cannot be said here.');
  // Does the pattern regime grow: PS units per position and the pattern gain, first to last size.
  const grow = (['ps_per_position', 'pattern_gain_bpc'] as const).map((id) => {
    const pts = rows.map((r) => ({ r, m: at(id)(r) })).filter((x): x is { r: SweepRow; m: number } => x.m !== null);
    return pts.length >= 2 ? { id, first: pts[0], last: pts[pts.length - 1] } : null;
  });
  if (grow[0] || grow[1]) {
    const words = grow.filter((g) => g !== null).map((g) => `${g!.id === 'ps_per_position' ? 'PS units per position' : 'the pattern gain'} goes from ${f(g!.first.m)} at ${size(g!.first.r)} to ${f(g!.last.m)} at ${size(g!.last.r)}`);
    const up = grow.filter((g) => g !== null && g.last.m > g.first.m).length;
    const n = grow.filter((g) => g !== null).length;
    out.push(`The pattern regime ${up === n ? 'grows' : up === 0 ? 'does not grow' : 'grows by one measure only'} with the data: ${words.join('; ')} (means over converged models).`);
  } else out.push('Fewer than two sizes have converged models with Table 2, so whether the pattern regime grows cannot be said here.');
  // From what size the RNN beats counting on held-out text.
  const beat = fromSize(rows, (r) => {
    const m = at('heldout_bpc')(r);
    const k = mean((r.metrics['kn.best.heldout_bpc']?.values ?? []).filter((v): v is number => v !== null));
    return m === null || k === null ? null : m < k;
  });
  if (beat.rows.length) {
    const pairs = beat.rows.map((r) => `${size(r)} ${f(at('heldout_bpc')(r)!)} vs ${f(mean((r.metrics['kn.best.heldout_bpc']?.values ?? []).filter((v): v is number => v !== null))!)}`).join(', ');
    out.push(
      beat.from === null
        ? `The RNN does not beat counting on the held-out text at the largest size here: its held-out bpc against Kneser–Ney's best order (${pairs}).`
        : `The RNN beats counting on the held-out text from ${sizeName(beat.from)} on${beat.from === Number(beat.rows[0].values['data.bytes']) ? ' (at every size here)' : ''}: its held-out bpc against Kneser–Ney's best order (${pairs}).`,
    );
  } else out.push('No size here has both a held-out bpc of a converged model and a Kneser–Ney figure, so whether the RNN beats counting cannot be said.');
  // From what size a description of the model is cheaper than the text it explains: per
  // converged model with the §6.3 figures, its best level worth its bits against its text's
  // bits; a model with the figures but no level worth its bits has no cheaper description.
  const cheapest = (r: SweepRow) => {
    const text = r.metrics['rebuild.text_bits']?.values ?? [];
    const bits = r.metrics['rebuild.best_worth.bits']?.values ?? [];
    return text.flatMap((t, i) => (t === null || r.converged[i] === false ? [] : [{ text: t, bits: bits[i] ?? null }]));
  };
  const cheaper = fromSize(rows, (r) => {
    const ms = cheapest(r);
    return ms.length ? ms.every((x) => x.bits !== null && x.bits < x.text) : null;
  });
  if (!cheaper.rows.length) {
    const built = rows.some((r) => r.metrics['rebuild.text_bits']?.values.some((v) => v !== null));
    out.push(`No converged model has the §6.3 figures (${built ? 'the models that have them did not converge' : 'the rebuild stage was not built'}), so from what size a description of the model is cheaper than the text cannot be said here.`);
  } else {
    const pairs = cheaper.rows
      .map((r) => {
        const ms = cheapest(r);
        const worth = ms.filter((x) => x.bits !== null);
        return `${size(r)} ${worth.length ? f(mean(worth.map((x) => x.bits!))!) : 'none worth its bits'}${worth.length && worth.length < ms.length ? ` (${ms.length - worth.length} of ${ms.length} none)` : ''} vs ${f(mean(ms.map((x) => x.text))!)}`;
      })
      .join(', ');
    const all = cheaper.from === Number(cheaper.rows[0].values['data.bytes']);
    out.push(
      cheaper.from === null
        ? `At the largest size here a description of the model worth its bits does not take fewer bits than the text it explains (8 × gzip-9 bytes) for every converged model: description bits against the text's (${pairs}).`
        : `From ${sizeName(cheaper.from)} on${all ? ' (at every size here)' : ''}, the best description of the model worth its bits takes fewer bits than the text it explains (8 × gzip-9 bytes), for every converged model: description bits against the text's (${pairs}).`,
    );
  }
  return out;
}

// ---------------------------------------------------------------- the files

export function renderSweep(s: SweepJson, plots: { title: string; file: string }[]): string {
  const out: string[] = [`# total-interp sweep: ${s.label}`, ''];
  out.push(
    `Swept: ${s.axes.map((a) => `\`${a.param}\` = ${a.values.map(String).join(', ')}`).join('; ')}` +
      (s.seeds.some((x) => x !== null) ? `; seeds ${s.seeds.join(', ')}` : '') +
      `. Built: ${s.targets.join(', ')} and their upstream stages. Fixed: ${s.fixed.map((x) => `\`${x}\``).join(', ') || 'defaults'}.`,
    'Cells are mean ± sd [min, max] over seeds; plots show the mean, the min–max band and each seed.',
    ...(s.q3
      ? [
          `Training length: ${s.q3.rule}. A model is converged when its best held-out bpc improved by less than 0.01 over the last quarter of its training (docs/definitions.md §6.4); a figure from one that is not is set apart and labelled: in the tables in italics with "(not converged)", beside the spread over the converged ones, and in the plots as grey dots.`,
          'held-out bpc: the best checkpoint (the weights every analysis reads) scored on the held-out block; Kneser–Ney: the same block, counted on the same training prefix (docs/definitions.md §6.5). The §6.3 columns read the rebuild stage\'s figures where a point has them, else "—".',
        ]
      : []),
    ...(s.metrics.some((m) => m.id === 'trained_bpc')
      ? ["trained bpc: the model's eval bpc over all N − 1 positions (`trained_bpc` of the isomorphism stage where it was built, else the training's best-checkpoint eval bpc, the same quantity)."]
      : []),
    '',
    '## What the figures show',
    '',
    ...s.summary.map((x) => `- ${x}`),
    '',
  );
  const groups = [...new Set(s.metrics.map((m) => m.group))];
  for (const g of groups) {
    const ms = s.metrics.filter((m) => m.group === g);
    out.push(`## ${g}`, '');
    const withConv = s.rows.some((r) => (r.converged ?? []).some((c) => c !== null));
    const head = [...s.axes.map((a) => `\`${a.param}\``), 'epochs', ...(withConv ? ['converged'] : []), ...ms.map((m) => m.label)];
    out.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
    for (const r of s.rows) {
      const ep = [...new Set(r.epochs.filter((e) => e !== null))].join('/') || '—';
      const conv = `${r.converged.filter((c) => c === true).length} of ${r.converged.length}`;
      out.push(`| ${[...s.axes.map((a) => String(r.values[a.param])), ep, ...(withConv ? [conv] : []), ...ms.map((m) => fmtCell(r, m.id))].join(' | ')} |`);
    }
    out.push('');
    if (g === BPC) for (const p of plots.filter((x) => x.file === BPC_PLOT || x.file === CURVES_PLOT)) out.push(`![${p.title}](${p.file})`, '');
    for (const m of ms) {
      const p = plots.find((x) => x.file === plotFile(m.id));
      if (p) out.push(`![${p.title}](${p.file})`, '');
    }
  }
  out.push('## Every metric at each point (mean ± sd [min, max] over seeds)', '');
  for (const r of s.rows) {
    const notConv = r.seeds.filter((_, i) => r.converged?.[i] === false);
    const convWords = !s.q3 || !notConv.length
      ? ''
      : notConv.length === r.seeds.length
        ? ` ${grey(`None of these models converged: the table below is over all of them (not converged).`)}`
        : ` ${grey(`Not converged: seed${notConv.length > 1 ? 's' : ''} ${notConv.join(', ')}, left out of the table below (its figures are in italics in the tables above).`)}`;
    out.push(`### ${pointName(s, r)}`, '', `Seeds ${r.seeds.join(', ')}${r.reports.some((x) => x) ? `; reports: ${r.reports.filter((x) => x).map((x) => `[${x}](../${x})`).join(', ')}` : ''}.${convWords}`, '');
    const ids = Object.keys(r.aggregate.metrics);
    if (!ids.length) {
      out.push('(no report metrics at this point)', '');
      continue;
    }
    out.push('| metric | section | mean ± sd [min, max] |', '|---|---|---|');
    for (const id of ids) out.push(`| \`${id}\` | ${r.aggregate.metrics[id].section} | ${fmtSpread(r.aggregate.metrics[id].spread)} |`);
    out.push('');
  }
  return noHtml(out.join('\n')); // no HTML from the data, as in report.md (markdown.ts)
}

const BPC_PLOT = 'plots/bpc.svg';
const CURVES_PLOT = 'plots/heldout-curves.svg';
const plotFile = (id: string) => `plots/${id.replace(/[^A-Za-z0-9._-]+/g, '_')}.svg`;

/** The sweep's files (relative to reports/<label>/): report.json, report.md and a plot per metric. */
export async function sweepFiles(s: SweepJson): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const plots: { title: string; file: string }[] = [];
  for (const m of s.metrics) {
    const title = `${m.label} against ${s.axes[0]?.param ?? 'point'}`;
    files[plotFile(m.id)] = await renderSvg(sweepPlotSpec(s, m.id, title));
    plots.push({ title, file: plotFile(m.id) });
  }
  // Q3's bpc plot: in-sample, held-out (the checkpoint's and the curve's best) and Kneser–Ney on one axis.
  const lines = ['trained_bpc', 'heldout_bpc', 'heldout_best_bpc', 'kn.best.heldout_bpc'].filter((id) => s.metrics.some((m) => m.id === id));
  if (s.q3 && lines.length > 1) {
    const title = `bpc against ${s.axes[0]?.param ?? 'point'}: in-sample, held-out and Kneser–Ney`;
    files[BPC_PLOT] = await renderSvg(sweepLinesSpec(s, lines.map((id) => ({ id, label: s.metrics.find((m) => m.id === id)!.label })), title));
    plots.unshift({ title, file: BPC_PLOT });
  }
  if (s.q3 && s.rows.some((r) => r.heldoutCurves?.some((c) => c?.length))) {
    const title = 'held-out bpc along training (x: fraction of the epochs run), one line per model';
    files[CURVES_PLOT] = await renderSvg(heldoutCurvesSpec(s, title));
    plots.unshift({ title, file: CURVES_PLOT });
  }
  files['report.json'] = JSON.stringify(s, null, 1) + '\n';
  files['report.md'] = renderSweep(s, plots);
  return files;
}
