// The audit compares like with like (docs/definitions.md §R.2): a figure whose setting
// differs from the paper's is "not comparable" (neither ✔ nor ✘, counted apart, with its
// reason) in every section table, the Metrics table and the audit; a figure printed as
// 0 or ~0 follows one near-zero rule; and each ✘ says which of its two cases it is.
// Reports are built by the real report builder (buildReport) from small hand-made
// section parts and the real decomposition section on a tiny model.

import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildReport, type SectionBuilder } from '../../lib/report/build.ts';
import { judge, type PaperFigures } from '../../lib/report/compare.ts';
import { auditRows, auditSummary, type ReportJson } from '../../lib/report/audit.ts';
import { aggregate } from '../../lib/report/aggregate.ts';
import {
  CASE_REFERENCE,
  CASE_REFERENCE_TOO,
  CASE_TRAINING,
  NEAR_ZERO_FRACTION,
  columnScale,
  differences,
  nearZeroStatus,
} from '../../lib/report/comparable.ts';
import { ENWIK9_PREFIX_SHA256 } from '../../lib/data/known.ts';
import type { StageOutput } from '../../lib/engine/types.ts';
import type { SectionPart } from '../../lib/report/types.ts';
import decomposition from '../../stages/decomposition.ts';
import * as decompositionSection from '../../lib/report/sections/decomposition.ts';
import { asOutput, runStage, upstream } from '../helpers/stages.ts';
import { TINY_H } from '../helpers/tiny.ts';
import { paramCount, weightsFrom } from '../../lib/rnn/weights.ts';
import { randomBytes, randomFill } from '../rnn/helpers.ts';

const figures = JSON.parse(fs.readFileSync('lib/report/paper-figures.json', 'utf8')) as PaperFigures;
const out = (json: any): StageOutput => ({ json, tensors: {}, key: 'k0123456789a', outputHash: 'h' });
const ENWIK = ENWIK9_PREFIX_SHA256[1024];

const model = (H: number, epochs: number, source: 'train' | 'import' = 'train') =>
  out(source === 'import' ? { source, name: 'paper:sat_model.bin', H, paramCount: 82304 } : { source, H, paramCount: 1, train: { epochs, bptt: 50, seed: 42, optimizer: 'sgd', init: 'glibc', bestEvalBpc: 1, finalEvalBpc: 1, bestEpoch: 1 } });
const data = (sha = ENWIK) => out({ bytes: 1024, sha256: sha, source: 'embedded', name: 'enwik9-head-1024.txt' });

/** A section with one cell per figure kind: on the model (trained_bpc, table1.all.neurons), on the data only (skip4_bpc), and a figure the paper's own weights miss. */
const values = { trained_bpc: 0.3, 'table1.all.neurons': 16, skip4_bpc: 0.0693, mean_abs_preactivation: 1.3 };
const cells: SectionBuilder = (): SectionPart => ({
  tables: [
    {
      id: 'cells',
      title: 'cells',
      section: '§3.3',
      positions: 'all',
      columns: [
        { key: 'name', label: 'name' },
        { key: 'v', label: 'value' },
      ],
      rows: Object.entries(values).map(([ref, ours]) => ({ name: ref, v: { ours, ref } })),
    },
  ],
  metrics: [
    { id: 'trained_bpc', value: values.trained_bpc, section: '§2', positions: 'all' },
    { id: 'skip4_bpc', value: values.skip4_bpc, section: '§3.4', positions: 'all' },
    { id: 'mean_abs_preactivation', value: values.mean_abs_preactivation, section: '§3.2', positions: 'all' },
  ],
});

// A tiny random model on 160 bytes: long enough for the decomposition at position 100.
const tiny = upstream(weightsFrom(randomFill(new Float32Array(paramCount(TINY_H)), 81, 1), TINY_H), randomBytes(160, 82));
async function decompositionAt(position: number) {
  return asOutput(await runStage(decomposition, tiny, { position }));
}

function build(inputs: Record<string, StageOutput>, overrides: Record<string, Record<string, unknown>>, reference: ReportJson | null = null) {
  const builders = [
    { name: 'cells', needs: ['model'], build: cells },
    { name: 'decomposition', needs: ['decomposition'], build: decompositionSection.build },
  ];
  return buildReport(inputs, builders, figures, 'test', { overrides, reference });
}

/** Every compared cell of every table, with its table id. */
const cmpCells = (j: any) =>
  Object.values<any>(j.tables).flatMap((t) => t.rows.flatMap((r: any) => Object.values<any>(r).filter((c) => c && typeof c === 'object' && c.ref).map((c) => ({ table: t.id, ...c }))));

describe('paper-figures.json declares the setting of every figure', () => {
  const schema = (stage: string) => JSON.parse(fs.readFileSync(`schemas/${stage}.params.json`, 'utf8'));
  it('every result figure depends on the data; each key is data, model.H or a real stage param whose default is the paper\'s value', () => {
    for (const [id, f] of Object.entries(figures)) {
      if (f.kind !== 'config' && !id.startsWith('ladder.uniform.')) expect(f.depends?.data, id).toBe('enwik9:1024');
      for (const [key, paper] of Object.entries(f.depends ?? {})) {
        if (key === 'data') {
          expect(paper, id).toBe(`enwik9:${schema('data').properties.bytes.default}`);
          continue;
        }
        const [stage, param] = key === 'model.H' ? ['train', 'hidden'] : [key.slice(0, key.indexOf('.')), key.slice(key.indexOf('.') + 1)];
        const prop = schema(stage).properties[param];
        expect(prop, `${id}: ${key}`).toBeDefined();
        // a run at the defaults is comparable: the declared paper value is the default
        expect(prop.default, `${id}: ${key}`).toEqual(paper);
      }
    }
  });

  it('every figure printed as 0 or ~0 names a column with a nonzero figure (the near-zero scale)', () => {
    const zeros = Object.entries(figures).filter(([, f]) => Number(f.value) === 0);
    expect(zeros.map(([id]) => id)).toEqual(expect.arrayContaining(['table3.d5-9.signed', 'table3.d10-19.signed', 'table3.d20-49.signed', 'decisive_d4']));
    for (const [id, f] of zeros) expect(columnScale(f, figures), id).toBeGreaterThan(0);
  });

  it('a renamed figure keeps its old id as an alias', () => {
    expect(figures['decomposition.pos29.carrier_logit'].aliases).toEqual(['pos29_carrier_logit']);
    expect(figures.pos29_carrier_logit).toBeUndefined();
  });
});

describe('not comparable', () => {
  it('decomposition.position = 100: every §5.4 cell and metric is neither ✔ nor ✘, and the summary counts them with the reason', async () => {
    const r = build({ model: model(128, 4000), data: data(), decomposition: await decompositionAt(100) }, { decomposition: { position: 100 } });
    const why = "decomposition.position = 100, the paper's figure is for 29";
    const dec = cmpCells(r.json).filter((c) => c.ref.startsWith('decomposition.pos29.'));
    expect(dec.length).toBeGreaterThanOrEqual(6);
    for (const c of dec) expect(c).toMatchObject({ status: 'n/c', why: `not comparable: ${why}`, notComparable: [why] });
    // the metric says its position; the old id stays as an alias with the same status
    expect(r.json.metrics['decomposition.pos100.carrier_logit']).toMatchObject({ ref: 'decomposition.pos29.carrier_logit', paper: '16.23', status: 'n/c' });
    expect(r.json.metrics.pos29_carrier_logit).toMatchObject({ aliasOf: 'decomposition.pos100.carrier_logit', status: 'n/c' });
    // figures that do not depend on the position are still scored
    expect(r.json.metrics.trained_bpc.status).toBe('✘');
    expect(r.json.metrics.skip4_bpc.status).toBe('✔');
    const auditDec = r.json.audit.filter((a) => a.ref.startsWith('decomposition.'));
    expect(auditDec.length).toBe(dec.length);
    for (const a of auditDec) expect(a).toMatchObject({ oursStatus: 'n/c', oursNotComparable: [why] });
    expect(r.json.summary).toMatchObject({ notComparable: auditDec.length, notComparableWhy: { [why]: auditDec.length } });
    expect(r.json.summary.agree + r.json.summary.approx + r.json.summary.disagree).toBe(r.json.audit.length - auditDec.length);
    // Markdown: the cells, the Metrics table, the summary and the audit all say so
    expect(r.markdown).toContain(`| \`decomposition.pos100.carrier_logit\` | `);
    expect(r.markdown).toMatch(new RegExp(`\\*\\*${auditDec.length}\\*\\* of the paper's figures are not comparable and not counted.*${why.replace(/[.()]/g, '\\$&')} \\(${auditDec.length} figures\\)`));
    const decRows = r.markdown.split('\n').filter((l) => /^\| (Carrier|Pattern|Total|Top unit)/.test(l));
    expect(decRows.length).toBe(4);
    for (const l of decRows) {
      expect(l).toContain(`not comparable: ${why}`);
      expect(l).not.toMatch(/[✔✘≈]/);
    }
    expect(r.markdown).toMatch(/Older ids kept in report\.json for one release.*`pos29_carrier_logit` → `decomposition\.pos100\.carrier_logit`/);
  });

  it('H = 16, 50 epochs: every cell on the model is not comparable, the data-only ones are scored, and a seeds aggregate agrees', async () => {
    const r = build({ model: model(16, 50), data: data(), decomposition: await decompositionAt(29) }, { train: { hidden: 16, epochs: 50 } });
    const H = "model.H = 16, the paper's figure is for 128";
    const E = "train.epochs = 50, the paper's figure is for 4000";
    const all = cmpCells(r.json);
    const neurons = all.find((c) => c.ref === 'table1.all.neurons')!;
    expect(neurons).toMatchObject({ ours: 16, paper: '128', status: 'n/c', notComparable: [H, E] });
    for (const c of all.filter((x) => x.ref !== 'skip4_bpc')) expect(['n/c', ''], c.ref).toContain(c.status);
    expect(all.find((c) => c.ref === 'skip4_bpc')!.status).toBe('✔');
    const nc = r.json.audit.filter((a) => a.oursStatus === 'n/c').length;
    expect(nc).toBe(r.json.audit.length - 1);
    expect(r.json.summary).toMatchObject({ agree: 1, approx: 0, disagree: 0, notComparable: nc, notComparableWhy: { [H]: nc, [E]: nc } });
    // the aggregate over seeds (report.json documents) reads the same setting from each
    const doc = (seed: number) => ({ ...(r.json as unknown as ReportJson), label: `s${seed}`, model: { ...r.json.model, train: { ...(r.json.model as any).train, seed } } }) as ReportJson;
    const agg = aggregate('agg', [doc(1), doc(2)], null, figures);
    expect(agg.audit.find((a) => a.ref === 'table1.all.neurons')).toMatchObject({ oursStatus: 'n/c', oursNotComparable: [H, E] });
    expect(auditSummary(agg.audit, { seeds: 2 })).toContain(`figures are not comparable (not counted): ${H} (${nc} figures)`);
  });

  it('other data than enwik9\'s first 1024 bytes is not comparable; imported weights are not held to training settings', () => {
    const fig = figures.trained_bpc;
    expect(differences(fig, { model: { source: 'train', H: 128, train: { epochs: 4000, bptt: 50 } }, data: { bytes: 1024, sha256: 'ab'.repeat(32) } })).toEqual([
      "data = 1024 bytes with sha256 abababababab…, the paper's figure is for enwik9:1024",
    ]);
    expect(differences(fig, { model: { source: 'import', H: 128 }, data: { bytes: 1024, sha256: ENWIK }, overrides: { train: { epochs: 3 } } })).toEqual([]);
    // predictions set: the recorded epochs decide, not the param
    expect(differences(fig, { model: { source: 'train', H: 128, train: { epochs: 4000, bptt: 50 } }, data: { bytes: 1024, sha256: ENWIK }, overrides: { train: { predictions: 4092000 } } })).toEqual([]);
  });
});

describe('near zero', () => {
  const t = (ours: number, ref: string) => judge(ours, ref, figures).status;
  it("a figure printed as ~0 agrees when |ours| ≤ 10% of its column's largest printed figure, the same rule in every band and column", () => {
    const scale = 1.746; // Table 3's signed column: d = 0
    expect(columnScale(figures['table3.d10-19.signed'], figures)).toBe(scale);
    expect(NEAR_ZERO_FRACTION).toBe(0.1);
    for (const ref of ['table3.d5-9.signed', 'table3.d10-19.signed', 'table3.d20-49.signed']) {
      expect(t(0.17, ref)).toBe('✔');
      expect(t(-0.17, ref)).toBe('✔');
      expect(t(-0.259, ref)).toBe('✘'); // integer precision used to call this ✔
      expect(t(0.18, ref)).toBe('✘');
    }
    // decisive chains: zero at depth 4 against 67% at depth 1
    expect(t(0.06, 'decisive_d4')).toBe('✔');
    expect(t(0.07, 'decisive_d4')).toBe('✘');
    // a nonzero figure keeps the precision rule: 0.29 against −0.008 is ✘
    expect(t(0.29, 'table3.d4.signed')).toBe('✘');
    expect(t(-0.0081, 'table3.d4.signed')).toBe('✔');
  });
  it('a figure printed as 0 without a column to scale by is an error, not a silent ✔', () => {
    expect(() => nearZeroStatus(0, { value: '0', section: '§', quote: '' }, {})).toThrow(/needs a "column"/);
  });
});

describe('the two cases of a ✘', () => {
  it("says 'ours differ (training)' where the paper's weights agree, and 'disagree too' where they do not, in tables, metrics and the audit", async () => {
    const refDoc = build({ model: model(128, 0, 'import'), data: data(), decomposition: await decompositionAt(29) }, {});
    // on the paper's weights themselves a ✘ is the printed figure the released model does not give
    expect(refDoc.json.metrics.mean_abs_preactivation).toMatchObject({ status: '✘', why: CASE_REFERENCE });
    const reference = { ...refDoc.json, metrics: { ...refDoc.json.metrics, trained_bpc: { ...refDoc.json.metrics.trained_bpc, value: 0.0792 } } } as unknown as ReportJson;
    const r = build({ model: model(128, 4000), data: data(), decomposition: await decompositionAt(29) }, {}, reference);
    expect(r.json.metrics.trained_bpc).toMatchObject({ status: '✘', why: CASE_TRAINING });
    expect(r.json.metrics.mean_abs_preactivation).toMatchObject({ status: '✘', why: CASE_REFERENCE_TOO });
    const rows = auditRows(figures, [r.json as unknown as ReportJson], reference);
    expect(rows.find((a) => a.ref === 'trained_bpc')).toMatchObject({ referenceStatus: '✔', oursStatus: '✘', why: CASE_TRAINING });
    expect(rows.find((a) => a.ref === 'mean_abs_preactivation')).toMatchObject({ referenceStatus: '✘', oursStatus: '✘', why: CASE_REFERENCE_TOO });
    const notes = r.json.tables.cells.notes!.join('\n');
    expect(notes).toMatch(new RegExp(`trained_bpc value: ours 0\\.3000 vs paper 0\\.079\\): ${CASE_TRAINING.replace(/[()]/g, '\\$&')}`));
    expect(notes).toContain(`mean_abs_preactivation value: ours 1.30 vs paper 60.5): ${CASE_REFERENCE_TOO}`);
    expect(r.markdown).toContain(`| ✘: ${CASE_TRAINING} |`);
    expect(r.markdown).not.toContain('SPEC');
  });
});
