// End to end on the paper's weights (by name: model.source=paper, found through
// TOTAL_INTERP_PAPER_WEIGHTS; skipped where this machine has no copy) and the shipped data,
// through the real engine, in a temporary copy of the project (so a stage file can be
// edited without touching the repository):
// the report has every table and metric id of docs/definitions.md §R, its Markdown parses and every
// figure it links exists, a second build is all cached, and editing stages/influence.ts
// re-runs only influence and report.

import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { marked, type Token } from 'marked';
import { XMLValidator } from 'fast-xml-parser';
import { Pipeline } from '../../lib/engine/pipeline.ts';
import { wordReason } from '../../lib/cli/commands.ts';
import { STAGES } from '../../pipeline.ts';
import { copyProject } from '../helpers/project.ts';
import { PAPER_WEIGHTS } from '../helpers/reference.ts';

const env = { TOTAL_INTERP_PAPER_WEIGHTS: PAPER_WEIGHTS };

const METRICS = [
  'trained_bpc', 'um_bpc', 'um_rnn_max_state_diff', 'mean_abs_preactivation', 'frac_margin_gt_1', 'sign_readout_bpc',
  'sign_dynamics_bpc', 'factor_map_mean_r2', 'ladder_two_offset_bpc', 'ladder_word_len_bpc', 'ladder_in_tag_bpc',
  'bigram_bpc', 'skip4_bpc', 'skip4_patterns', 'skip8_bpc', 'skip8_patterns', 'analytic_wy_bpc', 'optimized_wy_bpc',
  'reverse_iso_bpc', 'ps_per_position', 'carrier_only_bpc', 'pattern_gain_bpc', 'byte_identity_fraction',
  'decomposition.pos29.carrier_logit', 'decomposition.pos29.pattern_logit', 'decomposition.pos29.total_logit',
  'pos29_carrier_logit', 'pos29_pattern_logit', 'pos29_total_logit', 'ablation_d1_bits', 'ablation_d28_bits',
  'decisive_d1', 'decisive_d3', 'kn.best.heldout_bpc', 'kn.best.order', 'kn.k1.heldout_bpc', 'kn.k6.heldout_bpc',
];
const TABLES = ['params', 'table1_factor_map', 'ladder', 'skipgram', 'construction', 'table2_carrier_pattern', 'table3_influence', 'pos29_decomposition', 'baselines_5_1', 'kn'];

function imageLinks(tokens: Token[]): string[] {
  const out: string[] = [];
  marked.walkTokens(tokens, (t) => {
    if (t.type === 'image') out.push((t as { href: string }).href);
  });
  return out;
}

describe.skipIf(!PAPER_WEIGHTS)('report on the paper weights (end to end)', () => {
  let dir: string;
  let p: Pipeline;
  let reportJson: any;
  let reportMd: string;
  let reportPath: string;
  const overrides = { model: { source: 'paper' } };

  beforeAll(async () => {
    dir = copyProject();
    p = await Pipeline.load({ root: dir, stageFiles: STAGES, env });
    const { entries } = await p.build(['report'], { overrides });
    const out = (await p.output(entries.report)).json;
    reportPath = path.join(p.reportsDir, out.report);
    reportMd = fs.readFileSync(reportPath, 'utf8');
    reportJson = JSON.parse(fs.readFileSync(path.join(p.reportsDir, out.reportJson), 'utf8'));
  }, 120_000);

  it('names the weights and the data by name and content, never by where they are', () => {
    expect(reportJson.model).toMatchObject({ source: 'import', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(reportJson.provenance).toEqual({ data: { source: 'embedded', name: 'enwik9-head-1024.txt', entry: null }, model: { name: 'paper:sat_model.bin' } });
    expect(reportJson.label).toBe('import-paper-sat_model-n1024');
    expect(reportMd).toContain('Provenance: data read from embedded `enwik9-head-1024.txt`; weights read from `paper:sat_model.bin`');
    for (const where of [dir, path.dirname(PAPER_WEIGHTS)]) {
      expect(reportMd).not.toContain(where);
      expect(JSON.stringify(reportJson)).not.toContain(where);
    }
  });

  it('has every metric and table id, with the paper figure and a status', () => {
    for (const id of METRICS) expect(reportJson.metrics[id], id).toBeDefined();
    for (const id of TABLES) expect(reportJson.tables[id], id).toBeDefined();
    expect(reportJson.metrics.trained_bpc.value).toBeCloseTo(0.079201, 5);
    expect(reportJson.metrics.trained_bpc).toMatchObject({ paper: '0.079', status: '✔' });
    // a figure that does not reproduce on the shipped weights is shown as such, with a note
    expect(reportJson.metrics.mean_abs_preactivation).toMatchObject({ paper: '60.5', status: '✘' });
    expect(reportJson.tables.boolean.notes.some((n: string) => n.startsWith('✘'))).toBe(true);
    // on the paper's weights a ✘ is the printed figure the released model does not give, and says so
    expect(reportJson.metrics.mean_abs_preactivation.why).toMatch(/^the paper's own weights disagree \(the printed figure is not reproducible from the released model\)$/);
    // the old §5.4 ids are aliases of the new ones
    expect(reportJson.metrics.pos29_carrier_logit).toMatchObject({ aliasOf: 'decomposition.pos29.carrier_logit', value: reportJson.metrics['decomposition.pos29.carrier_logit'].value });
    expect(reportJson.summary).toMatchObject({ notComparable: 0, notComparableWhy: {} });
    // the report cites the project's definitions, never the spec
    expect(reportMd).not.toMatch(/SPEC/);
    expect(reportMd).toContain('](../../docs/definitions.md#s5-4)');
    for (const t of Object.values<any>(reportJson.tables)) {
      expect(t.positions, t.id).toMatch(/\S/);
      expect(t.provenance.key, t.id).toMatch(/^[0-9a-f]{12}$/);
    }
  });

  it('Q4 (docs/definitions.md §6.3): every metric id, the full and marginal ends, the references, the words', () => {
    const m = reportJson.metrics;
    const levels = reportJson.tables.rebuild.rows.map((r: any) => String(r.level)).filter((l: string) => !l.includes('(reference)') && l !== 'trained model');
    expect(levels).toContain('rules_wl_tag_x1_linear');
    for (const l of levels) {
      for (const k of ['bpc', 'x', 'size_bytes', 'numbers', 'bits', 'kl_train', 'heldout_bpc', 'worth_bits']) expect(m[`rebuild.${l}.${k}`], `${l}.${k}`).toBeDefined();
      expect(m[`rebuild.${l}.sign_train`] !== undefined, l).toBe(l !== 'marginal');
    }
    for (const r of ['ref_construction', 'ref_reverse_iso']) for (const k of ['bpc', 'x', 'size_bytes', 'numbers', 'bits', 'kl_train', 'heldout_bpc']) expect(m[`rebuild.${r}.${k}`], `${r}.${k}`).toBeDefined();
    expect(m['rebuild.ref_kn.heldout_bpc'].value).toBe(m['kn.best.heldout_bpc'].value);
    expect(Math.abs(m['rebuild.full.bpc'].value - m.trained_bpc.value)).toBeLessThan(1e-6);
    expect(m['rebuild.full.kl_train'].value).toBeLessThanOrEqual(1e-6);
    // the marginal's bpc is the unigram entropy of the targets (4.7388 on the paper's data)
    expect(m['rebuild.marginal.bpc'].value).toBeCloseTo(4.738808, 5);
    // the shipped weights have memorised their KiB: worse than a uniform guess on the next one
    expect(m['rebuild.trained.heldout_bpc'].value).toBeGreaterThan(8);
    expect(reportJson.tables.rebuild.notes[0]).toMatch(/Worth their bits \(no reference has both no more bits and no higher bpc\): marginal, full\./);
    expect(reportMd).toContain('plots/rebuild-bits.svg');
  });

  it('report.md parses as Markdown, opens with the summary, ends with the audit, and every figure it links to exists and is SVG', () => {
    const tokens = marked.lexer(reportMd);
    const headings = tokens.filter((t) => t.type === 'heading').map((t) => (t as { text: string }).text);
    expect(headings[1]).toBe('Summary');
    const h2 = tokens.filter((t) => t.type === 'heading' && (t as { depth: number }).depth === 2).map((t) => (t as { text: string }).text);
    expect(h2[h2.length - 1]).toBe('Reproduction audit');
    // a plot sits beside its table: Table 3's plot right after Table 3, before the next table
    const t3 = reportMd.indexOf('<!-- table:table3_influence -->');
    expect(t3).toBeGreaterThan(0);
    expect(reportMd.indexOf('](plots/influence.svg)', t3)).toBeLessThan(reportMd.indexOf('<!-- table:', t3 + 10));
    // the viewer is linked from the top and exists
    expect(reportMd.indexOf('](viewer.html)')).toBeLessThan(reportMd.indexOf('## §2'));
    expect(fs.existsSync(path.join(path.dirname(reportPath), 'viewer.html'))).toBe(true);
    const tables = tokens.filter((t) => t.type === 'table');
    expect(tables.length).toBeGreaterThanOrEqual(TABLES.length + 2);
    const links = imageLinks(tokens);
    expect(links.length).toBeGreaterThanOrEqual(4);
    for (const href of links) {
      const file = path.join(path.dirname(reportPath), href);
      expect(fs.existsSync(file), href).toBe(true);
      expect(XMLValidator.validate(fs.readFileSync(file, 'utf8')), href).toBe(true);
    }
  });

  it('a second build is all cached, and editing stages/influence.ts re-runs only influence and report', async () => {
    const again = await (await Pipeline.load({ root: dir, stageFiles: STAGES, env })).build(['report'], { overrides });
    expect(again.runs.filter((r) => r.status !== 'cached').map((r) => r.name)).toEqual([]);
    fs.appendFileSync(path.join(dir, 'stages/influence.ts'), '\n// an edit that changes nothing computed\n');
    const p2 = await Pipeline.load({ root: dir, stageFiles: STAGES, env });
    const st = (await p2.status({ overrides })).map((s) => ({ ...s, reasons: s.reasons.map(wordReason) }));
    expect(st.find((s) => s.name === 'influence')).toMatchObject({ state: 'stale', reasons: ['code changed: stages/influence.ts'] });
    const edited = await p2.build(['report'], { overrides });
    expect(edited.runs.filter((r) => r.status === 'ran').map((r) => r.name)).toEqual(['influence']);
    // influence's output is unchanged, so report stays cached (early cutoff); a real change re-runs it:
    fs.appendFileSync(path.join(dir, 'lib/report/sections/influence.ts'), '\n// edit\n');
    const p3 = await Pipeline.load({ root: dir, stageFiles: STAGES, env });
    const r3 = await p3.build(['report'], { overrides });
    expect(r3.runs.filter((r) => r.status === 'ran').map((r) => r.name)).toEqual(['report']);
  }, 60_000);
});
