// `report --sweep` end to end on tiny models in a copy of the project: a report per point,
// the aggregate with one row per point and a plot per metric; a second run is all cached;
// --targets builds only the named stages (no report) and still aggregates; data beyond the
// shipped 1 KiB comes from ENWIK9 (skipped without the 1 MiB reference file); usage errors
// exit 2 with error:/hint: and build nothing.

import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyProject, pipelineCli, type Run } from '../helpers/project.ts';
import { enwik1MiB } from '../helpers/reference.ts';

const TINY = ['--set', 'train.hidden=8', '--set', 'train.epochs=5'];

function expectUsageError(r: Run, pattern: RegExp) {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(/^error: /);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.split('\n').filter((l) => l.startsWith('hint: '))).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\bran\b/);
}

describe('report --sweep (tiny models)', () => {
  let dir: string;
  let first: Run;
  let j: any;

  beforeAll(async () => {
    dir = copyProject();
    first = await pipelineCli(dir, ['report', '--sweep', 'data.bytes=256,512', '--seeds', '42,43', ...TINY, '--jobs', '2', '--json']);
    j = JSON.parse(first.stdout || '{}');
  }, 300_000);

  it('builds a report per point and an aggregate with one row per point', () => {
    expect(first.code, first.stderr).toBe(0);
    expect(j.points.map((p: any) => [p.values['data.bytes'], p.seed])).toEqual([[256, 42], [256, 43], [512, 42], [512, 43]]);
    for (const p of j.points) {
      expect(fs.existsSync(p.report), p.report).toBe(true);
      expect(JSON.parse(fs.readFileSync(p.reportJson, 'utf8')).data.bytes).toBe(p.values['data.bytes']);
    }
    expect(j.report).toMatch(/sweep-data\.bytes-256-512-seeds42-43-p[0-9a-f]{8}[/\\]report\.md$/);
    const agg = JSON.parse(fs.readFileSync(j.reportJson, 'utf8'));
    expect(agg.kind).toBe('sweep');
    expect(agg.rows.map((r: any) => r.values['data.bytes'])).toEqual([256, 512]);
    for (const r of agg.rows) {
      expect(r.seeds).toEqual([42, 43]);
      expect(r.metrics.trained_bpc.spread.n).toBe(2);
      expect(r.metrics.pattern_gain_bpc.values).toHaveLength(2);
      expect(r.aggregate.metrics.skip4_bpc.spread.n).toBe(2); // the usual per-point aggregate: every report metric
    }
    // trained_bpc at each point is the mean of its seeds' reports
    const seedBpc = j.points.filter((p: any) => p.values['data.bytes'] === 512).map((p: any) => JSON.parse(fs.readFileSync(p.reportJson, 'utf8')).metrics.trained_bpc.value);
    expect(agg.rows[1].metrics.trained_bpc.spread.mean).toBeCloseTo((seedBpc[0] + seedBpc[1]) / 2, 12);
    const md = fs.readFileSync(j.report, 'utf8');
    expect(md).toMatch(/^\| 256 \| 5 \| /m);
    expect(md).toMatch(/^\| 512 \| 5 \| /m);
    expect(md).toMatch(/## What the figures show\n\n- From data\.bytes = 256 to data\.bytes = 512/);
    for (const m of agg.metrics) expect(fs.existsSync(path.join(path.dirname(j.report), 'plots', `${m.id}.svg`)), m.id).toBe(true);
    // shared stages ran once per point, not once per child: data once per size
    expect(j.stages.filter((s: any) => s.name === 'data' && s.status === 'ran')).toHaveLength(2);
  });

  it('a second run is all cached', async () => {
    const again = await pipelineCli(dir, ['report', '--sweep', 'data.bytes=256,512', '--seeds', '42,43', ...TINY, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const stages = JSON.parse(again.stdout).stages;
    expect(stages.length).toBeGreaterThan(0);
    expect(stages.filter((s: any) => s.status !== 'cached')).toEqual([]);
  }, 120_000);

  it('--targets builds only those stages and upstream, and aggregates their figures', async () => {
    const r = await pipelineCli(dir, ['report', '--sweep', 'data.bytes=256,512', '--targets', 'carrier-pattern', ...TINY, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(new Set(out.stages.map((s: any) => s.name))).toEqual(new Set(['data', 'train', 'model', 'trace', 'carrier-pattern']));
    expect(out.points.every((p: any) => p.report === null)).toBe(true);
    const agg = JSON.parse(fs.readFileSync(out.reportJson, 'utf8'));
    expect(agg.metrics.map((m: any) => m.id)).toEqual(['trained_bpc', 'heldout_bpc', 'heldout_best_bpc', 'ps_per_position', 'carrier_only_bpc', 'pattern_gain_bpc', 'byte_identity_fraction']);
    expect(agg.rows).toHaveLength(2);
    expect(agg.rows[0].seeds).toEqual([null]);
    // --sweep train.seed=… is the same as --seeds: the seeds are each point's spread, and built already
    const s = await pipelineCli(dir, ['report', '--sweep', 'train.seed=42,43', '--sweep', 'data.bytes=256', '--targets', 'carrier-pattern', ...TINY, '--json']);
    expect(s.code, s.stderr).toBe(0);
    const so = JSON.parse(s.stdout);
    expect(so.stages.filter((x: any) => x.status !== 'cached')).toEqual([]);
    const sa = JSON.parse(fs.readFileSync(so.reportJson, 'utf8'));
    expect(sa.axes.map((a: any) => a.param)).toEqual(['data.bytes']);
    expect(sa.rows.map((r: any) => r.seeds)).toEqual([[42, 43]]);
  }, 120_000);

  it('usage errors exit 2 with error: and hint:, and build nothing', async () => {
    const sweep = (...a: string[]) => pipelineCli(dir, ['report', ...a, ...TINY]);
    const [unknownParam, unknownStage, badValue, empty, emptyItem, outOfRange, twice, targetsAlone, q3Mixed] = await Promise.all([
      sweep('--sweep', 'data.nope=1,2'),
      sweep('--sweep', 'nope.bytes=1,2'),
      sweep('--sweep', 'data.bytes=256,abc'),
      sweep('--sweep', 'data.bytes='),
      sweep('--sweep', 'data.bytes=256,,512'),
      sweep('--sweep', 'data.bytes=256,1'),
      sweep('--sweep', 'data.bytes=256', '--set', 'data.bytes=512'),
      sweep('--targets', 'trace'),
      sweep('--q3', '--targets', 'trace'),
    ]);
    expectUsageError(unknownParam, /unknown param "data\.nope"\nvalid params of data: bytes, path, url/);
    expectUsageError(unknownStage, /unknown stage "nope"/);
    expectUsageError(badValue, /--sweep data\.bytes=256,abc: param data\.bytes: expected an integer, got "abc"/);
    expectUsageError(empty, /empty value in the list of data\.bytes/);
    expectUsageError(emptyItem, /empty value in the list of data\.bytes/);
    expectUsageError(outOfRange, /data\.bytes/);
    expectUsageError(twice, /--sweep data\.bytes and --set data\.bytes cannot be combined/);
    expectUsageError(targetsAlone, /--targets applies to a sweep/);
    expectUsageError(q3Mixed, /--q3 is a preset of --sweep, --seeds and --targets; it cannot be combined with --targets/);
  }, 120_000);

  it.skipIf(!enwik1MiB())('data beyond 1 KiB comes from ENWIK9 in every point', async () => {
    const r = await pipelineCli(dir, ['report', '--sweep', 'data.bytes=1024,2048', '--targets', 'data', '--json'], { ENWIK9: enwik1MiB()! });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.points.map((p: any) => p.values['data.bytes'])).toEqual([1024, 2048]);
    expect(out.stages.filter((s: any) => s.name === 'data')).toHaveLength(2);
  }, 120_000);

  it('gc keeps what a --targets sweep built (recorded beside its aggregate), and drops it once the aggregate is gone', async () => {
    const only = ['--sweep', 'data.bytes=320,384', '--targets', 'trace', ...TINY];
    const r = await pipelineCli(dir, ['report', ...only, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const aggDir = path.dirname(JSON.parse(r.stdout).reportJson);
    const recorded: string[] = JSON.parse(fs.readFileSync(path.join(aggDir, 'built-from.json'), 'utf8')).entries;
    expect(recorded.filter((id) => id.startsWith('trace/'))).toHaveLength(2);
    const cached = async () => JSON.parse((await pipelineCli(dir, ['run', 'trace', '--set', 'data.bytes=320', ...TINY, '--dry-run', '--json'])).stdout).stages.map((x: any) => x.status);

    const gc = await pipelineCli(dir, ['gc', '--yes', '--json', '--keep-recent', '0']);
    expect(gc.code, gc.stderr).toBe(0);
    for (const id of recorded) expect(fs.existsSync(path.join(dir, 'cache/entries', `${id}.json`)), id).toBe(true);
    expect(await cached()).toEqual(['cached', 'cached', 'cached', 'cached']);

    fs.rmSync(aggDir, { recursive: true });
    const gc2 = await pipelineCli(dir, ['gc', '--yes', '--json', '--keep-recent', '0']);
    expect(gc2.code, gc2.stderr).toBe(0);
    expect(fs.existsSync(path.join(dir, 'cache/entries', `${recorded.find((id) => id.startsWith('trace/'))}.json`))).toBe(false);
    expect(await cached()).toContain('would-run');
  }, 120_000);
});
