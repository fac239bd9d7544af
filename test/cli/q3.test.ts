// `report --q3` (docs/definitions.md §6.4): bad input is a usage error before anything
// trains (a size reaching into the held-out block, a data source too short for a size or
// for the block, a --sweep of anything but data.bytes), and a subset of sizes on tiny
// models runs the protocol: every point scored on the held-out block [960 KiB, 1 MiB), with
// Kneser–Ney there, the §6.3 figures (rebuild-score), its convergence and the
// training-length rule in the aggregate.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyProject, pipelineCli, type Run } from '../helpers/project.ts';
import { enwik1MiB } from '../helpers/reference.ts';

/** Exit 2 with one error: line (first) and one hint: line, and nothing built or trained before them. */
function expectUsageError(r: Run, pattern: RegExp) {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(/^error: /);
  expect(r.stderr).toMatch(pattern);
  const lines = r.stderr.split('\n').filter((l) => l.trim());
  expect(lines.filter((l) => l.startsWith('error: ')), r.stderr).toHaveLength(1);
  expect(lines.filter((l) => l.startsWith('hint: ')), r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\bran\b|train:|epoch/);
  expect(r.stdout).toBe('');
}

const TINY = ['--set', 'train.hidden=8', '--set', 'train.predictions=8000', '--set', 'train.minEpochs=4'];

describe('report --q3', () => {
  let dir: string;
  let short: string;
  beforeAll(() => {
    dir = copyProject();
    short = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'q3-short-')), 'enwik9-head');
    fs.writeFileSync(short, new Uint8Array(4096).fill(97));
  });

  it('refuses, before anything trains, a size above the source, a short source, an overlap and another sweep', async () => {
    const [above, shortSource, overlap, over960, other, targets, sgd, runSgd, noHeldout] = await Promise.all([
      pipelineCli(dir, ['report', '--q3', '--sweep', 'data.bytes=1024,8192', ...TINY], { ENWIK9: short }),
      pipelineCli(dir, ['report', '--q3', '--sweep', 'data.bytes=1024,2048', ...TINY], { ENWIK9: short }),
      pipelineCli(dir, ['report', '--q3', '--sweep', 'data.bytes=1024,1048576', ...TINY]),
      // over 960 KiB but within a 1 MiB source: the overlap is the reason, not the source's length
      pipelineCli(dir, ['report', '--q3', '--sweep', 'data.bytes=2048,990000', ...TINY], enwik1MiB() ? { ENWIK9: enwik1MiB()! } : {}),
      pipelineCli(dir, ['report', '--q3', '--sweep', 'train.hidden=8,16']),
      pipelineCli(dir, ['report', '--q3', '--targets', 'trace']),
      pipelineCli(dir, ['report', '--q3', '--sweep', 'data.bytes=1024', '--set', 'train.optimizer=sgd']),
      // outside --q3 too: the default optimizer is sgd; and a stop needs held-out text
      pipelineCli(dir, ['run', 'train', '--set', 'train.stopOnHeldout=true']),
      pipelineCli(dir, ['run', 'train', '--set', 'train.stopOnHeldout=true', '--set', 'train.optimizer=adam', '--set', 'data.heldoutBytes=0']),
    ]);
    expectUsageError(above, /--q3: data\.bytes = 8192 is more than the 4096 bytes of the data source enwik9-head/);
    expectUsageError(shortSource, /--q3: the data source enwik9-head has 4096 bytes, fewer than the held-out block \[983040, 1048576\) needs/);
    expectUsageError(overlap, /--q3: data\.bytes = 1048576 overlaps the held-out block \[983040, 1048576\)/);
    expect(overlap.stderr).toMatch(/hint: Q3 sizes go up to 983040 bytes \(960 KiB\)/);
    expectUsageError(over960, /--q3: data\.bytes = 990000 overlaps the held-out block \[983040, 1048576\)/);
    expectUsageError(other, /--q3 takes one --sweep, of data\.bytes/);
    expectUsageError(targets, /cannot be combined with --targets/);
    expectUsageError(sgd, /train\.stopOnHeldout stops each run on its held-out curve, which needs train\.optimizer=adam, train\.maxDoublings=0 and held-out text; got sgd, maxDoublings 0/);
    expect(sgd.stderr).toMatch(/hint: .*--set train\.stopOnHeldout=false/);
    expectUsageError(runSgd, /train\.stopOnHeldout .*; got sgd, maxDoublings 0$/m);
    expectUsageError(noHeldout, /train\.stopOnHeldout .*; got adam, maxDoublings 0, data\.heldoutBytes=0$/m);
    expect(fs.existsSync(path.join(dir, 'reports'))).toBe(false);
  }, 120_000);

  it.skipIf(!enwik1MiB())('runs a subset of sizes with its seeds: the held-out block, KN and convergence at every point', async () => {
    const r = await pipelineCli(dir, ['report', '--q3', '--sweep', 'data.bytes=1024,2048', '--seeds', '42', ...TINY, '--jobs', '2', '--json'], { ENWIK9: enwik1MiB()! });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.points.map((p: any) => [p.values['data.bytes'], p.seed])).toEqual([[1024, 42], [2048, 42]]);
    const agg = JSON.parse(fs.readFileSync(j.reportJson, 'utf8'));
    expect(agg.q3.rule).toMatch(/^at most epochs = max\(4, round\(8000 × \(\(N − 1\) \/ 1023\)\^0\.25 \/ \(N − 1\)\)\); adam at a constant rate of 0\.001, one run per model, stopped on the held-out curve/);
    // 8000/1023 → 8 and 8000 × (2047/1023)^0.25 / 2047 = 4.65 → 5: the budget grows with N, one run each
    expect(agg.rows.map((x: any) => x.epochs[0])).toEqual([8, 5]);
    for (const row of agg.rows) {
      expect(row.converged).toHaveLength(1);
      expect(typeof row.converged[0]).toBe('boolean');
      for (let k = 1; k <= 6; k++) expect(row.aggregate.metrics[`kn.k${k}.heldout_bpc`].spread.n, `k${k}`).toBe(1);
      expect(row.metrics.heldout_bpc.values[0]).toBeGreaterThan(0);
      // the §6.3 figures: rebuild-score is a Q3 target, so the text's bits are there at every point
      expect(row.metrics['rebuild.text_bits'].values[0]).toBeGreaterThan(0);
    }
    expect(j.stages.filter((s: any) => s.name === 'rebuild-score')).toHaveLength(2);
    expect(agg.metrics.map((x: any) => x.id)).toEqual(expect.arrayContaining(['rebuild.best_worth.gap', 'rebuild.best_worth.bits', 'rebuild.text_bits']));
    // every point was scored on the one block [960 KiB, 1 MiB)
    const stages = j.stages.filter((s: any) => s.name === 'data');
    expect(stages).toHaveLength(2);
    const md = fs.readFileSync(j.report, 'utf8');
    expect(md).toMatch(/Training length: at most epochs = max\(4, round\(8000 × /);
    expect(md).toMatch(/RNN (beats|does not beat) counting/);
    expect(fs.existsSync(path.join(path.dirname(j.report), 'plots', 'bpc.svg'))).toBe(true);
  }, 600_000);
});
