// report.reference: a report on a model trained here takes the "paper's
// weights" column of its audit from another report under reports/, named by label. That
// report.json is an external file of the report stage (its content, not its path, is in
// the key). Without it, the report says in one line how to add the column. End to end on
// a tiny model in a copy of the project; the reference report is written by hand here (a
// real one is a report built with --set model.source=FILE), so no H = 128 analysis runs.

import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { marked, type Tokens } from 'marked';
import { copyProject, pipelineCli } from '../helpers/project.ts';
import { REF_DATA } from '../helpers/reference.ts';

const TINY = ['--set', 'train.hidden=8', '--set', 'train.epochs=3', '--set', 'train.evalEvery=1'];
const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function fakeReference(label: string, source: 'import' | 'train', trainedBpc: number) {
  const metric = (id: string, value: number, paper: string) => ({ id, value, paper, status: '', section: '§x', positions: 'all' });
  return {
    label,
    model: { source, H: 128, paramCount: 82304 },
    data: { bytes: 1024, sha256: sha(REF_DATA) },
    tables: {},
    metrics: {
      trained_bpc: metric('trained_bpc', trainedBpc, '0.079'),
      mean_abs_preactivation: metric('mean_abs_preactivation', 1.3068, '60.5'),
    },
  };
}

function auditTable(md: string): Tokens.Table {
  const tokens = marked.lexer(md);
  const i = tokens.findIndex((t) => t.type === 'heading' && (t as Tokens.Heading).text === 'Reproduction audit');
  expect(i).toBeGreaterThanOrEqual(0);
  return tokens.slice(i).find((t) => t.type === 'table') as Tokens.Table;
}

describe('report.reference (tiny model, hand-written reference report)', () => {
  let dir: string;
  const write = (label: string, j: unknown) => {
    fs.mkdirSync(path.join(dir, 'reports', label), { recursive: true });
    fs.writeFileSync(path.join(dir, 'reports', label, 'report.json'), JSON.stringify(j));
  };
  const report = async (...extra: string[]) => {
    const r = await pipelineCli(dir, ['report', ...TINY, ...extra, '--json']);
    return { ...r, j: r.code === 0 ? JSON.parse(r.stdout) : null };
  };

  beforeAll(() => {
    dir = copyProject();
  });

  it('without it, says near the top how to add the column, and names the recipe', async () => {
    const r = await report();
    expect(r.code, r.stderr).toBe(0);
    const md = fs.readFileSync(r.j.report, 'utf8');
    const top = md.slice(0, md.indexOf('## '));
    expect(top).toMatch(/No paper's-weights column in the audit: add it with `TOTAL_INTERP_PAPER_WEIGHTS=FILE npx tsx pipeline.ts report`/);
    expect(top).toMatch(/the authors' released trainer \(sgd \+ glibc init\), 3 epochs \(3069 predictions\), seed 42, lr cosine/);
    expect(md).toMatch(/- Recipe: the authors' released trainer \(SGD, cosine lr, glibc srand\(seed\)\/rand\(\) init\)/);
    // a tiny model is not comparable with the paper's; the data-only figures it does score include a ✘, hence "why ✘"
    expect(auditTable(md).header.map((h) => h.text)).toEqual(['figure', 'section', 'the paper says', 'paper', 'our training', 'status', 'why ✘']);
    expect(JSON.parse(fs.readFileSync(r.j.reportJson, 'utf8')).reference).toBeNull();
  }, 240_000);

  it("with it, the audit shows paper | paper's weights | our training; the reference's content is in the key", async () => {
    write('paperw', fakeReference('paperw', 'import', 0.0792));
    const r = await report('--set', 'report.reference=paperw');
    expect(r.code, r.stderr).toBe(0);
    // no analysis re-ran: the reference adds a column, it is not a different analysis (same label);
    // the viewer sees every override (for the label), so it re-runs to the same output
    expect(r.j.stages.filter((s: any) => s.status === 'ran' && s.name !== 'viewer').map((s: any) => s.name)).toEqual(['report']);
    const md = fs.readFileSync(r.j.report, 'utf8');
    expect(md).toMatch(/Paper's weights column \(audit\): from the report `paperw`/);
    const t = auditTable(md);
    expect(t.header.map((h) => h.text)).toEqual(['figure', 'section', 'the paper says', 'paper', "paper's weights", 'status', 'our training', 'status', 'why ✘']);
    const row = (id: string) => t.rows.find((cells) => cells[0].text === `\`${id}\``)!.map((c) => c.text);
    expect(row('trained_bpc').slice(3, 6)).toEqual(['0.079', '0.0792', '✔']);
    expect(row('mean_abs_preactivation').slice(3, 6)).toEqual(['60.5', '1.3068', '✘']);
    // H = 8 against the paper's 128: our training is not comparable, and says why
    expect(row('mean_abs_preactivation')[7]).toMatch(/^not comparable: model\.H = 8, the paper's figure is for 128; train\.epochs = 3, the paper's figure is for 4000$/);
    expect(row('mean_abs_preactivation')[8]).toBe("the paper's own weights disagree (the printed figure is not reproducible from the released model)");
    const rj = JSON.parse(fs.readFileSync(r.j.reportJson, 'utf8'));
    expect(rj.reference).toMatchObject({ label: 'paperw', model: { source: 'import' } });
    expect(rj.audit.find((a: any) => a.ref === 'trained_bpc').reference).toBe(0.0792);
    // the key holds the label (a param) and the content hash, never the path
    const entry = fs.readdirSync(path.join(dir, 'cache/entries/report')).map((f) => fs.readFileSync(path.join(dir, 'cache/entries/report', f), 'utf8')).find((s) => s.includes('"paperw"'))!;
    expect(JSON.parse(entry).record.params.reference).toBe('paperw');
    expect(JSON.parse(entry).record.externals.paperw).toBe(`sha256:${sha(path.join(dir, 'reports/paperw/report.json'))}`);
    expect(entry).not.toContain(dir);
    // a new reference report re-runs the report, with its figure
    write('paperw', fakeReference('paperw', 'import', 0.0811));
    const st = await pipelineCli(dir, ['status', ...TINY, '--set', 'report.reference=paperw']);
    expect(st.stdout).toMatch(/stale\s+report\s+external file paperw changed/);
    const r2 = await report('--set', 'report.reference=paperw');
    expect(r2.j.stages.filter((s: any) => s.status === 'ran' && s.name !== 'viewer').map((s: any) => s.name)).toEqual(['report']);
    expect(fs.readFileSync(r2.j.report, 'utf8')).toMatch(/\| `trained_bpc` \| [^|]+ \| [^|]+ \| 0\.079 \| 0\.0811 \|/);
  }, 240_000);

  it('refuses a missing reference and one that is not on imported weights: error and hint, exit ≠ 0', async () => {
    const missing = await report('--set', 'report.reference=nope');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/^error: .*nope/m);
    expect(missing.stderr).toMatch(/^hint: .*model\.source=FILE --set report\.label=nope/m);
    write('trainedref', fakeReference('trainedref', 'train', 0.05));
    const trained = await report('--set', 'report.reference=trainedref');
    expect(trained.code).not.toBe(0);
    expect(trained.stderr).toMatch(/^error: .*trained here, not on imported weights/m);
    expect(trained.stderr).toMatch(/^hint: /m);
    const bad = await report('--set', 'report.reference=../x');
    expect(bad.code).toBe(2);
  }, 240_000);
});
