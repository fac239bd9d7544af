// Assemble the report from the section builders: resolve every paper figure, compute
// statuses, render Markdown from the same data that goes to report.json.

import { createHash } from 'node:crypto';
import type { StageOutput } from '../engine/types.ts';
import { mergeParts, resolveMetric, resolveTable, type PaperFigures, type ResolvedMetric, type ResolvedTable } from './compare.ts';
import { renderReport, type ReportDoc } from './markdown.ts';
import type { SectionPart, TableSpec } from './types.ts';
import type { PlotData } from './plot-data.ts';
import { auditRows, recipeLine, referenceInfo, referenceLine, renderAudit, type AuditRow, type ReportJson } from './audit.ts';
import { countFigures, summaryBlock, worstFirst } from './summary.ts';

export type SectionBuilder = (inputs: Record<string, StageOutput>) => SectionPart;

export interface BuiltReport {
  label: string;
  json: {
    label: string;
    model: Record<string, unknown>;
    data: Record<string, unknown>;
    tables: Record<string, ResolvedTable>;
    metrics: Record<string, ResolvedMetric>;
    summary: { agree: number; approx: number; disagree: number };
    overrides: Record<string, Record<string, unknown>>;
    plots: PlotData | null;
    /** The report whose figures fill the audit's "paper's weights" column (null: none). */
    reference: ReturnType<typeof referenceInfo> | null;
    audit: AuditRow[];
  };
  markdown: string;
}

// Params the default label already spells out (model, training, data size), and where the
// data comes from (a path or URL names a source, not a different analysis).
const IN_LABEL: Record<string, string[] | '*'> = { model: '*', train: ['hidden', 'optimizer', 'epochs', 'seed'], data: ['bytes', 'path', 'url'], report: ['label', 'reference'] };

/** The overrides the label does not spell out (they get a short hash suffix). */
export function unlabelledOverrides(overrides: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [stage, ps] of Object.entries(overrides)) {
    const skip = IN_LABEL[stage];
    for (const [k, v] of Object.entries(ps)) if (skip !== '*' && !skip?.includes(k)) (out[stage] ??= {})[k] = v;
  }
  return out;
}

/** `stage.param=value` for every override, sorted. */
export function overrideList(overrides: Record<string, Record<string, unknown>>): string[] {
  return Object.entries(overrides)
    .flatMap(([s, ps]) => Object.entries(ps).map(([k, v]) => `${s}.${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`))
    .sort();
}

/**
 * Label for reports/<label>/: which model on which data, plus the other params that differ
 * from their defaults in words (`-evalEvery=5`, `-influence.maxOffset=40`: train's params
 * bare, other stages' with the stage), so runs with different params never overwrite each
 * other's report. The words are lossless (names never hold "=" or "-"; values are numbers or
 * plain words), so two param sets never share a label; where they would not be (a value
 * with other characters, or words past 60 characters) a `-p<hash>` of the params stands
 * in for them.
 */
export function reportLabel(inputs: Record<string, StageOutput>, overrides: Record<string, Record<string, unknown>>): string {
  const extra = unlabelledOverrides(overrides);
  const list = overrideList(extra);
  const base = defaultLabel(inputs);
  if (!list.length) return base;
  const words = labelWords(extra);
  return words !== null ? `${base}-${words}` : `${base}-p${createHash('sha256').update(list.join('\n')).digest('hex').slice(0, 8)}`;
}

/** The params in words for a label, or null when words would be ambiguous or too long. */
export function labelWords(overrides: Record<string, Record<string, unknown>>): string | null {
  const parts: string[] = [];
  for (const [stage, ps] of Object.entries(overrides)) {
    for (const [k, v] of Object.entries(ps)) {
      const value = typeof v === 'number' ? String(v) : typeof v === 'string' && /^[A-Za-z0-9._+]+$/.test(v) ? v : typeof v === 'boolean' ? String(v) : null;
      if (value === null || !/^[A-Za-z0-9_]+$/.test(k) || !/^[A-Za-z0-9_]+$/.test(stage)) return null;
      parts.push(`${stage === 'train' ? '' : `${stage}.`}${k}=${value}`);
    }
  }
  const words = parts.sort().join('-');
  return words.length <= 60 ? words : null;
}

/** Label for reports/<label>/: which model on which data. */
export function defaultLabel(inputs: Record<string, StageOutput>): string {
  const m = inputs.model.json;
  const d = inputs.data.json;
  const clean = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');
  if (m.source === 'import') {
    // m.name is a display name, never a path: "paper:sat_model.bin" or the file's basename.
    const base = String(m.name ?? 'weights').replace(/^paper:/, 'paper-').replace(/\.[^.]*$/, '');
    return clean(`import-${base}-n${d.bytes}`);
  }
  const t = m.train ?? {};
  return clean(`train-h${m.H}-${t.optimizer}-e${t.epochs}-seed${t.seed}-n${d.bytes}`);
}

/**
 * A §5 or §6 table with a note linking its rows to the viewer: the §5.4 decomposition to
 * its position and each of its top units (viewer.html#t=29&unit=8), a §6.2 pattern table
 * to its unit, Tables 2 and 3 to the text at the paper's position. Other tables unchanged.
 */
export function withViewerLink(t: ResolvedTable, viewer: string, position: number | null): ResolvedTable {
  const link = (words: string, hash: string) => `[${words}](${viewer}#${hash})`;
  let note: string | null = null;
  const unitOf = /^pattern_table_h(\d+)$/.exec(t.id);
  if (unitOf) note = `In the viewer: ${link(`h${unitOf[1]}`, `unit=${unitOf[1]}`)}: its state along the text, its top contexts and this table.`;
  else if (t.id === 'pos29_decomposition' && position !== null) {
    const units = t.rows.map((r) => Object.values(r).find((v) => typeof v === 'string') as string | undefined).map((l) => /^h(\d+):/.exec(l ?? '')?.[1]).filter((u): u is string => u !== undefined);
    note = `In the viewer: ${link(`t = ${position}`, `t=${position}`)}${units.length ? `; its top units ${units.map((u) => link(`h${u}`, `t=${position}&unit=${u}`)).join(', ')}` : ''}.`;
  } else if ((t.id === 'table2_carrier_pattern' || t.id === 'table3_influence') && position !== null) {
    note = `In the viewer: ${link('the text position by position', `t=${position}`)} (colour it by pattern gain or PS units; the heat map shows every unit).`;
  }
  return note ? { ...t, notes: [...(t.notes ?? []), note] } : t;
}

export function buildReport(
  inputs: Record<string, StageOutput>,
  builders: { name: string; needs: string[]; build: SectionBuilder }[],
  figures: PaperFigures,
  label: string,
  extra: {
    plots?: PlotData;
    /** Rendered plots; each goes beside its table (`table`), or at the end without one. */
    plotLinks?: { name?: string; title: string; file: string; table?: string | null }[];
    /** plots/interactive.html, when written. */
    interactive?: string | null;
    /** viewer.html, when the viewer stage ran (same folder). */
    viewer?: string | null;
    overrides?: Record<string, Record<string, unknown>>;
    /** A report on the paper's weights: fills the audit's "paper's weights" column. */
    reference?: ReportJson | null;
  } = {},
): BuiltReport {
  const parts: SectionPart[] = [];
  for (const b of builders) {
    const missing = b.needs.filter((n) => !inputs[n]);
    if (missing.length) continue; // a section whose stages are not in this pipeline
    try {
      parts.push(b.build(inputs));
    } catch (e) {
      throw new Error(`report section ${b.name}: ${(e as Error).message}`);
    }
  }
  const merged = mergeParts(parts);
  const position = typeof inputs.decomposition?.json.position === 'number' ? (inputs.decomposition.json.position as number) : null;
  const tables = merged.tables.map((t) => resolveTable(t, figures)).map((t) => (extra.viewer ? withViewerLink(t, extra.viewer, position) : t));
  const metrics = merged.metrics.map((m) => resolveMetric(m, figures));
  const m = inputs.model.json;
  const d = inputs.data.json;
  // One counting of the paper's figures everywhere: the audit's rows (see summary.ts).
  const imported = m.source === 'import';
  const draft = { label, model: m, data: d, tables: Object.fromEntries(tables.map((t) => [t.id, t])), metrics: Object.fromEntries(metrics.map((x) => [x.id, x])) };
  // On imported weights its values fill the "paper's weights" column; on a model trained
  // here the "our training" column, and a reference report on the paper's weights fills the
  // other one.
  const reference = imported ? null : (extra.reference ?? null);
  const audit = auditRows(figures, imported ? [] : [draft as unknown as ReportJson], imported ? (draft as unknown as ReportJson) : reference);
  const summary = countFigures(audit);
  if (reference) tables.push(...sideBySide6(tables, metrics, reference, figures));
  const json = {
    label,
    model: m,
    data: d,
    tables: Object.fromEntries(tables.map((t) => [t.id, t])),
    metrics: Object.fromEntries(metrics.map((x) => [x.id, x])),
    summary,
    overrides: extra.overrides ?? {},
    plots: extra.plots ?? null,
  };
  const weights: { column: 'reference' | 'ours'; words: string }[] = imported
    ? [{ column: 'reference', words: "the paper's own weights (imported)" }]
    : [
        ...(reference ? [{ column: 'reference' as const, words: `the paper's own weights (report \`${reference.label}\`)` }] : []),
        { column: 'ours', words: `the model trained here (seed ${m.train?.seed}, ${m.train?.epochs} epochs)` },
      ];
  const preface = [summaryBlock(audit, { weights, viewer: extra.viewer ?? null, interactive: extra.interactive ?? null })];
  const plotsAfter = plotBlocks(extra.plotLinks ?? [], extra.interactive ?? null, new Set(tables.map((t) => t.id)));
  const appendix = [...(plotsAfter[''] ? [`## Plots\n\n${plotsAfter['']}`] : []), renderAudit(worstFirst(audit), { seeds: 1 })];
  const doc: ReportDoc = {
    label,
    title: `total-interp report: ${label}`,
    intro: [
      'Every table of *Toward Total Interpretability of a Tiny Elman RNN*, recomputed from raw bytes by this pipeline,',
      "with the paper's printed figure beside ours. Definitions follow SPEC.md; nothing is tuned toward the paper.",
      '',
      `- Model: ${m.source === 'import' ? `imported weights \`${m.name}\`` : `trained here: ${recipeLine(m.train)}`}, H = ${m.H}, ${m.paramCount} parameters.`,
      ...(imported ? [] : [referenceLine(extra.reference ?? null)]),
      `- Data: ${d.bytes} bytes from ${d.source} \`${d.name}\` (sha256 ${String(d.sha256).slice(0, 16)}…).`,
      `- Params changed from their defaults: ${overrideList(extra.overrides ?? {}).map((o) => `\`${o}\``).join(', ') || 'none'}.`,
    ],
    tables,
    metrics,
    summary,
    preface,
    plotsAfter,
    appendix,
  };
  return { label, json: { ...json, reference: reference ? referenceInfo(reference) : null, audit }, markdown: renderReport(doc) };
}

/** Markdown for each table's plots (image, then a link to its interactive version), by table id; '' for plots with no table here. */
export function plotBlocks(plots: { name?: string; title: string; file: string; table?: string | null }[], interactive: string | null, tableIds: Set<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of plots) {
    const at = p.table && tableIds.has(p.table) ? p.table : '';
    const link = interactive && p.name ? `\n\n[interactive version](${interactive}#${p.name})` : '';
    out[at] = (out[at] ? `${out[at]}\n\n` : '') + `![${p.title}](${p.file})${link}`;
  }
  return out;
}

/**
 * §6.2 on both models (issue 13): the answers on the paper's weights, from the reference
 * report, beside this model's, and the key §6 metrics of both side by side. The paper has
 * no §6.2 figures, so these are not in the audit.
 */
function sideBySide6(tables: ResolvedTable[], metrics: ResolvedMetric[], ref: ReportJson, figures: PaperFigures): ResolvedTable[] {
  const out: ResolvedTable[] = [];
  const answers = ref.tables.answers_6_2;
  if (answers && tables.some((t) => t.id === 'answers_6_2')) {
    out.push({ ...answers, id: 'answers_6_2_paper_weights', title: `The open questions of §6.2, answered on the paper's weights (report ${ref.label})` });
  }
  const wanted = /^(timing_carrier\.(wl_tag|wl_tag_x1|x1_x2)\.(carrier_r2|bpc|heldout_bpc)|pattern_table\.mean_accuracy|rebuild\.[a-z0-9_]+\.(bpc|x))$/;
  const rows = metrics
    .filter((m) => wanted.test(m.id) && ref.metrics[m.id])
    .map((m) => ({ metric: `\`${m.id}\``, ours: fmt(m.value), paper_weights: fmt(ref.metrics[m.id].value) }));
  if (rows.length) {
    const spec: TableSpec = {
      id: 'answers_6_2_side_by_side',
      title: "§6.2 figures on this model and on the paper's weights",
      section: '§6.2',
      positions: 'as in the tables above (each model on its own positions)',
      columns: [
        { key: 'metric', label: 'metric' },
        { key: 'ours', label: 'this model' },
        { key: 'paper_weights', label: "paper's weights" },
      ],
      rows,
      notes: [`Paper's weights: report \`${ref.label}\` (the audit's paper's-weights column).`],
    };
    out.push(resolveTable(spec, figures));
  }
  return out;
}

const fmt = (x: unknown) => (typeof x === 'number' ? (Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(4)) : String(x ?? '—'));
