// `report --seeds` end to end on tiny models (H = 8, 3 epochs) in a copy of the project:
// two seed reports and an aggregate with the audit and five plots; a second run is all
// cached; `diff` between the seeds prints the changed metrics.

import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { marked } from 'marked';
import { copyProject, pipelineCli, type Run } from '../helpers/project.ts';

const TINY = ['--set', 'train.hidden=8', '--set', 'train.epochs=3', '--set', 'train.evalEvery=1'];

describe('report --seeds (tiny models)', () => {
  let dir: string;
  let first: Run;
  let j: any;

  beforeAll(async () => {
    dir = copyProject();
    first = await pipelineCli(dir, ['report', '--seeds', '1,2', '--jobs', '2', ...TINY, '--json']);
    j = JSON.parse(first.stdout || '{}');
  }, 240_000);

  it('writes one report per seed and an aggregate with the audit and five plots', () => {
    expect(first.code, first.stderr).toBe(0);
    expect(j.seeds.map((s: any) => s.seed)).toEqual([1, 2]);
    for (const s of j.seeds) expect(fs.existsSync(s.reportJson)).toBe(true);
    // evalEvery is not part of the model's words, so it follows them
    expect(j.report).toMatch(/aggregate-train-h8-sgd-e3-n1024-evalEvery=1-seeds1-2[/\\]report\.md$/);
    const md = fs.readFileSync(j.report, 'utf8');
    const tokens = marked.lexer(md);
    expect(tokens.find((t) => t.type === 'heading' && (t as any).text === 'Reproduction audit')).toBeDefined();
    const images: string[] = [];
    marked.walkTokens(tokens, (t) => void (t.type === 'image' && images.push((t as any).href)));
    expect(images.length).toBe(5);
    for (const img of images) expect(fs.existsSync(path.join(path.dirname(j.report), img)), img).toBe(true);
    const agg = JSON.parse(fs.readFileSync(j.reportJson, 'utf8'));
    expect(agg.metrics.trained_bpc.spread.n).toBe(2);
    expect(j.stages.filter((s: any) => s.name === 'train').map((s: any) => [s.seed, s.status])).toEqual([[1, 'ran'], [2, 'ran']]);
  });

  it('a second run is all cached', async () => {
    const again = await pipelineCli(dir, ['report', '--seeds', '1,2', ...TINY, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const stages = JSON.parse(again.stdout).stages;
    expect(stages.filter((s: any) => s.status !== 'cached')).toEqual([]);
  }, 60_000);

  it('diff between the two seeds prints the changed metrics, flagged against the aggregate', async () => {
    const [a, b] = j.seeds.map((s: any) => path.basename(path.dirname(s.reportJson)));
    const d = await pipelineCli(dir, ['diff', a, b]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/^diff train-h8-sgd-e3-seed1-n1024-evalEvery=1 -> train-h8-sgd-e3-seed2-n1024-evalEvery=1/);
    expect(d.stdout).toMatch(/^\nparams \(1 differ\):\n  train\.seed: 1 -> 2\n\nmetrics/m); // params first
    expect(d.stdout).toMatch(/trained_bpc: \S+ -> \S+/);
    expect(d.stdout).not.toMatch(/noise/);
    expect(d.stdout).toMatch(/seed spread from aggregate-/);
    const dj = JSON.parse((await pipelineCli(dir, ['diff', a, b, '--json'])).stdout);
    expect(dj.metrics.some((m: any) => m.metric === 'trained_bpc' && m.band !== null)).toBe(true);
    const self = await pipelineCli(dir, ['diff', a, a]);
    expect(self.code).toBe(2);
    expect(self.stderr).toMatch(/^error: diff: .* are the same report .*\nhint: /m);
    const bad = await pipelineCli(dir, ['diff', a, 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no report "nope"/);
  }, 60_000);

  it('ls lists the two seeds and their aggregate, with the params in words and their state', async () => {
    const ls = await pipelineCli(dir, ['ls']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/^label +params +trained bpc/);
    expect(ls.stdout).toMatch(/^train-h8-sgd-e3-seed1-n1024-evalEvery=1 +epochs=3 evalEvery=1 hidden=8 seed=1 .* fresh$/m);
    expect(ls.stdout).toMatch(/^aggregate-train-h8-sgd-e3-n1024-evalEvery=1-seeds1-2 +aggregate: reports=2 seeds=1,2 /m);
    const lj = JSON.parse((await pipelineCli(dir, ['ls', '--json', '--metrics', 'trained_bpc'])).stdout);
    const seed1 = lj.reports.find((r: any) => r.label.includes('seed1'));
    expect(seed1.metrics.trained_bpc).toBe(JSON.parse(fs.readFileSync(j.seeds[0].reportJson, 'utf8')).metrics.trained_bpc.value);
    const csv = (await pipelineCli(dir, ['ls', '--csv'])).stdout.split('\n');
    expect(csv[0]).toBe('label,kind,params,trained_bpc,heldout_bpc,figures,ps_per_position,q4_best_gap,q4_level,built,state');
    expect(csv.length).toBe(3 + 2); // header, three rows, and the final newline
  }, 60_000);
});
