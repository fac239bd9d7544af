// The sweep's grid and its point runner, in process on the real stages: every combination
// of the swept values times every seed, typed by the schemas; a caller-supplied runner (as
// a queue's is) is started once with every point, then run once per point with its typed
// overrides and targets, and the aggregate is read back from the cache.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../lib/engine/pipeline.ts';
import { silentReporter } from '../../lib/engine/run/progress.ts';
import { buildOrder, sideBySideEnv, inProcessRunner, gridPoints, parseSweep, runSweep, type PointRunner } from '../../lib/cli/sweep.ts';
import { STAGES } from '../../pipeline.ts';
import { root } from '../helpers/reference.ts';

async function load() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-sweep-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'ENWIK9'));
  return Pipeline.load({ root, stageFiles: STAGES, env, cacheDir: path.join(tmp, 'cache'), reportsDir: path.join(tmp, 'reports'), reporter: silentReporter });
}

describe('sweep grid', () => {
  it('is every combination, first axis slowest, times every seed, typed by the schemas', async () => {
    const p = await load();
    const axes = parseSweep(p, ['data.bytes=256,512', 'train.optimizer=sgd,adam']);
    expect(axes.map((a) => a.values)).toEqual([[256, 512], ['sgd', 'adam']]);
    const pts = gridPoints(axes, [1, 2], { train: { hidden: 8 } });
    expect(pts.map((x) => x.name)).toEqual([
      'data.bytes=256 train.optimizer=sgd seed=1',
      'data.bytes=256 train.optimizer=sgd seed=2',
      'data.bytes=256 train.optimizer=adam seed=1',
      'data.bytes=256 train.optimizer=adam seed=2',
      'data.bytes=512 train.optimizer=sgd seed=1',
      'data.bytes=512 train.optimizer=sgd seed=2',
      'data.bytes=512 train.optimizer=adam seed=1',
      'data.bytes=512 train.optimizer=adam seed=2',
    ]);
    expect(pts[6].overrides).toEqual({ train: { hidden: 8, optimizer: 'adam', seed: 1 }, data: { bytes: 512 } });
    expect(JSON.parse(JSON.stringify(pts[6]))).toEqual(pts[6]); // a point is its typed values: it survives its one serialization
    expect(gridPoints(axes, null, {}).map((x) => x.seed)).toEqual([null, null, null, null]);
  });

  it('builds the largest data first, the seeds of one size alternating with the next size down', async () => {
    const p = await load();
    const pts = gridPoints(parseSweep(p, ['data.bytes=256,512,1024,2048,4096']), [1, 2], {});
    expect(buildOrder(pts).map((i) => pts[i].name)).toEqual([
      'data.bytes=4096 seed=1', 'data.bytes=2048 seed=1', 'data.bytes=4096 seed=2', 'data.bytes=2048 seed=2',
      'data.bytes=1024 seed=1', 'data.bytes=512 seed=1', 'data.bytes=1024 seed=2', 'data.bytes=512 seed=2',
      'data.bytes=256 seed=1', 'data.bytes=256 seed=2',
    ]);
    // every point once
    expect([...buildOrder(pts)].sort((a, b) => a - b)).toEqual(pts.map((_, i) => i));
    // no data.bytes axis: as given
    const opt = gridPoints(parseSweep(p, ['train.optimizer=sgd,adam']), [1, 2], {});
    expect(buildOrder(opt)).toEqual([0, 1, 2, 3]);
  });

  it('points built side by side train on one thread each, unless the user chose', () => {
    expect(sideBySideEnv({ PATH: '/bin' })).toEqual({ PATH: '/bin', TOTAL_INTERP_TRAIN_THREADS: '1' });
    expect(sideBySideEnv({ TOTAL_INTERP_TRAIN_THREADS: '2' }).TOTAL_INTERP_TRAIN_THREADS).toBe('2');
    expect(sideBySideEnv({ TOTAL_INTERP_TRAIN_THREADS: 'auto' }).TOTAL_INTERP_TRAIN_THREADS).toBe('auto');
  });

  it('two spellings of one typed value are an error, not two points called n = 2', async () => {
    const p = await load();
    expect(() => parseSweep(p, ['train.seed=01,1'])).toThrow(/^--sweep train\.seed=01,1: 01 and 1 are the same value \(1\) of train\.seed$/);
    expect(() => parseSweep(p, ['data.bytes=1024,2048,01024'])).toThrow(/1024 and 01024 are the same value \(1024\)/);
    expect(parseSweep(p, ['train.seed=01,2'])[0].values).toEqual([1, 2]);
  });

  it('a caller-supplied runner is started with every point, then builds each once; the aggregate is read from the cache', async () => {
    const p = await load();
    const inner = inProcessRunner(p, false);
    const calls: { overrides: unknown; targets: string[] }[] = [];
    let started: string[] = [];
    const runner: PointRunner = {
      start: async (points) => void (started = points.map((pt) => pt.name)),
      run: async (pt, targets) => {
        calls.push({ overrides: pt.overrides, targets });
        return inner.run(pt, targets);
      },
    };
    const r = await runSweep(p, {
      axes: parseSweep(p, ['data.bytes=64,128']),
      seeds: null,
      overrides: { train: { hidden: 4, epochs: 2 } },
      targets: ['carrier-pattern'],
      jobs: 2,
      force: false,
      runner,
    });
    // built largest first (buildOrder); the aggregate's rows stay in the grid's order
    expect(started).toEqual(['data.bytes=128', 'data.bytes=64']);
    expect(calls).toEqual([
      { overrides: { train: { hidden: 4, epochs: 2 }, data: { bytes: 128 } }, targets: ['carrier-pattern'] },
      { overrides: { train: { hidden: 4, epochs: 2 }, data: { bytes: 64 } }, targets: ['carrier-pattern'] },
    ]);
    expect(r.kind).toBe('sweep');
    const agg = JSON.parse(fs.readFileSync(r.reportJson, 'utf8'));
    expect(agg.rows.map((x: any) => x.values['data.bytes'])).toEqual([64, 128]);
    expect(agg.rows.map((x: any) => x.metrics.ps_per_position.spread.n)).toEqual([1, 1]);
    // a builder that builds nothing is caught: the aggregate never reads a missing point
    await expect(runSweep(p, { axes: parseSweep(p, ['data.bytes=96']), seeds: null, overrides: {}, targets: ['trace'], jobs: 1, force: false, runner: { run: async () => [] } })).rejects.toThrow(
      /stage trace is not in the cache after its build/,
    );
  }, 120_000);
});
