// Assemble the report from the section builders: resolve every paper figure, compute
// statuses (docs/definitions.md §R), render Markdown from the same data that goes to
// report.json.

import { createHash } from 'node:crypto';
import type { StageOutput } from '../engine/types.ts';
import { judge, mergeParts, resolveMetric, resolveTable, type PaperFigures, type ResolveContext, type ResolvedMetric, type ResolvedTable, type Status } from './compare.ts';
import { mdCode, mdText, renderReport, type ReportDoc } from './markdown.ts';
import type { SectionPart, TableSpec } from './types.ts';
import type { PlotData } from './plot-data.ts';
import { auditRows, recipeLine, referenceInfo, referenceLine, renderAudit, settingOf, valuesByRef, type AuditRow, type ReportJson } from './audit.ts';
import { countFigures, summaryBlock, worstFirst, type FigureCount } from './summary.ts';
import { DEFINITIONS_HREF } from './definitions-link.ts';

export type SectionBuilder = (inputs: Record<string, StageOutput>) => SectionPart;

export interface BuiltReport {
  label: string;
  json: {
    label: string;
    model: Record<string, unknown>;
    data: Record<string, unknown>;
    tables: Record<string, ResolvedTable>;
    metrics: Record<string, ResolvedMetric>;
    summary: FigureCount;
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
    // The name is the model's provenance, never a path: "paper:sat_model.bin" or the file's
    // basename, as the run that built the model named it.
    const base = String(inputs.model.provenance?.name ?? 'weights').replace(/^paper:/, 'paper-').replace(/\.[^.]*$/, '');
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
  const m = inputs.model.json;
  const d = inputs.data.json;
  const prov = provenanceOf(inputs);
  const imported = m.source === 'import';
  // On imported weights its values fill the "paper's weights" column; on a model trained
  // here the "our training" column, and a reference report on the paper's weights fills the
  // other one (and tells the two cases of a ✘ apart).
  const reference = imported ? null : (extra.reference ?? null);
  const ctx: ResolveContext = {
    setting: { model: m, data: d, overrides: extra.overrides ?? {} },
    reference: reference ? referenceStatuses(reference, figures) : null,
    imported,
  };
  const tables = merged.tables.map((t) => resolveTable(t, figures, ctx)).map((t) => (extra.viewer ? withViewerLink(t, extra.viewer, position) : t));
  const metrics = merged.metrics.map((x) => resolveMetric(x, figures, ctx));
  // One counting of the paper's figures everywhere: the audit's rows (see summary.ts).
  const draft = { label, model: m, data: d, overrides: extra.overrides ?? {}, tables: Object.fromEntries(tables.map((t) => [t.id, t])), metrics: Object.fromEntries(metrics.map((x) => [x.id, x])) };
  const audit = auditRows(figures, imported ? [] : [draft as unknown as ReportJson], imported ? (draft as unknown as ReportJson) : reference);
  const summary = countFigures(audit, imported ? 'reference' : 'ours');
  if (reference) tables.push(...sideBySide6(tables, metrics, reference, figures, ctx));
  const json = {
    label,
    model: m,
    data: d,
    provenance: prov,
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
      `with the paper's printed figure beside ours. Every figure is defined in the project's [docs/definitions.md](${DEFINITIONS_HREF}) (each table links its section); nothing is tuned toward the paper.`,
      '',
      `- Model: ${m.source === 'import' ? `imported weights (sha256 ${String(m.sha256).slice(0, 16)}…)` : `trained here: ${recipeLine(m.train)}`}, H = ${m.H}, ${m.paramCount} parameters.`,
      ...(imported ? [] : [referenceLine(extra.reference ?? null)]),
      `- Data: ${d.bytes} bytes (sha256 ${String(d.sha256).slice(0, 16)}…).`,
      `- ${provenanceLine(prov)}`,
      `- Params changed from their defaults: ${overrideList(extra.overrides ?? {}).map(mdCode).join(', ') || 'none'}.`,
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

/** Where the report's data and weights came from: the provenance of the runs that built them (never part of a key). */
export interface ReportProvenance {
  data: { source?: string; name?: string; entry?: string | null };
  model: { name?: string } | null;
}

export function provenanceOf(inputs: Record<string, StageOutput>): ReportProvenance {
  const d = (inputs.data.provenance ?? {}) as ReportProvenance['data'];
  const m = inputs.model.json.source === 'import' ? ((inputs.model.provenance ?? {}) as { name?: string }) : null;
  return { data: { source: d.source, name: d.name, entry: d.entry ?? null }, model: m ? { name: m.name } : null };
}

/**
 * The report's one provenance line. The cache is keyed by content, so these are the names
 * under which the bytes were read by the run that built them; the same bytes under another
 * name (ENWIK9 vs the shipped copy, a renamed weights file) reuse every result.
 */
export function provenanceLine(p: ReportProvenance): string {
  const d = p.data;
  const data = d.name ? `${mdText(d.source ?? 'file')} ${mdCode(d.name)}${d.entry ? ` (entry ${mdCode(d.entry)})` : ''}` : 'unknown';
  const weights = p.model ? `; weights read from ${mdCode(p.model.name ?? 'unknown')}` : '';
  return `Provenance: data read from ${data}${weights} (results are keyed by content: the same bytes under another name reuse them).`;
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

/** The paper's weights' status on each figure, judged on that report's own setting. */
export function referenceStatuses(ref: ReportJson, figures: PaperFigures): Map<string, Status> {
  const setting = settingOf(ref);
  const out = new Map<string, Status>();
  for (const [id, v] of valuesByRef(ref, figures)) out.set(id, judge(v, id, figures, setting).status);
  return out;
}

/**
 * §6.2 on both models: the answers on the paper's weights, from the reference
 * report, beside this model's, and the key §6 metrics of both side by side. The paper has
 * no §6.2 figures, so these are not in the audit.
 */
function sideBySide6(tables: ResolvedTable[], metrics: ResolvedMetric[], ref: ReportJson, figures: PaperFigures, ctx: ResolveContext): ResolvedTable[] {
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
    out.push(resolveTable(spec, figures, ctx));
  }
  return out;
}

const fmt = (x: unknown) => (typeof x === 'number' ? (Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(4)) : String(x ?? '—'));
