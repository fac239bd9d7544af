// The default report audits our training against the paper's weights when they are on this
// machine: the CLI builds the report on them first, then ours with its
// label as the audit's "paper's weights" column; without them, one line says how to add it.
// Needs the paper's weights (TOTAL_INTERP_PAPER_WEIGHTS); skipped where there is no copy.

import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyProject, pipelineCli } from '../helpers/project.ts';
import { PAPER_WEIGHTS } from '../helpers/reference.ts';

const TINY = ['--set', 'train.hidden=8', '--set', 'train.epochs=3', '--set', 'train.evalEvery=1'];

describe.skipIf(!PAPER_WEIGHTS)('report with the paper\'s weights available', () => {
  let dir: string;
  beforeAll(() => {
    dir = copyProject();
  });

  it('builds the paper-weights report first and shows paper | paper\'s weights | our training', async () => {
    const r = await pipelineCli(dir, ['report', ...TINY, '--json'], { TOTAL_INTERP_PAPER_WEIGHTS: PAPER_WEIGHTS });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.reference.label).toBe('import-paper-sat_model-n1024');
    expect(fs.existsSync(j.reference.report)).toBe(true);
    // the reference build analysed the paper's weights, not a trained model
    expect(j.reference.stages.map((s: any) => s.name)).not.toContain('train');
    const md = fs.readFileSync(j.report, 'utf8');
    expect(md).toMatch(/Paper's weights column \(audit\): from the report `import-paper-sat_model-n1024`/);
    expect(md).toMatch(/\| figure \| section \| the paper says \| paper \| paper's weights \| status \| our training \| status \|/);
    expect(md).toMatch(/On the paper's own weights .*\*\*\d+ of \d+\*\*/);
    // §6.2 (no paper figures, so not in the audit): both models' answers and figures
    expect(md).toContain("The open questions of §6.2, answered on the paper's weights");
    expect(md).toMatch(/\| `rebuild\.full\.bpc` \| [0-9.]+ \| 0\.079\d* \|/);
    // a second run builds nothing, in either report
    const again = await pipelineCli(dir, ['report', ...TINY, '--json'], { TOTAL_INTERP_PAPER_WEIGHTS: PAPER_WEIGHTS });
    const j2 = JSON.parse(again.stdout);
    expect([...j2.stages, ...j2.reference.stages].filter((s: any) => s.status === 'ran')).toEqual([]);
  }, 300_000);

  it('leaves the reference out when the user chose the model', async () => {
    const r = await pipelineCli(dir, ['report', ...TINY, '--set', 'report.label=noref', '--set', 'model.source=train', '--json'], { TOTAL_INTERP_PAPER_WEIGHTS: PAPER_WEIGHTS });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).reference).toBeUndefined();
  }, 120_000);
});
