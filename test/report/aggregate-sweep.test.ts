// The sweep's aggregate on hand-made report documents: rows per point with the seed
// spread, the Q3 figures read from metrics and table cells, trained_bpc's fallback, the
// sentences following the numbers, the label, and the plot spec.

import { describe, expect, it } from 'vitest';
import { chooseMetrics, fitLabel, MAX_LABEL, sweepAggregate, sweepFiles, sweepLabel, trend, type SweepPointInput } from '../../lib/report/sweep.ts';
import { sweepPlotSpec } from '../../lib/report/sweep-plots.ts';
import type { ReportJson } from '../../lib/report/audit.ts';

const m = (id: string, value: number) => ({ id, value, section: '§5.2', positions: 'all', paper: null, status: '' });

/** A report document with Table 2 metrics, a Table 3 table, and (optionally) trained_bpc. */
function doc(bytes: number, seed: number, gain: number, opts: { trained?: boolean; d0?: number } = {}): ReportJson {
  return {
    label: `n${bytes}-s${seed}`,
    model: { source: 'train', train: { seed, epochs: Math.round(4000 * 1023 / (bytes - 1)) } },
    data: { bytes, sha256: String(bytes) },
    metrics: {
      ...(opts.trained ? { trained_bpc: m('trained_bpc', 2 + bytes / 1000) } : {}),
      pattern_gain_bpc: m('pattern_gain_bpc', gain),
      carrier_only_bpc: m('carrier_only_bpc', 1),
    },
    tables: {
      training: { id: 'training', title: 'T', section: '§2', positions: '', columns: [], rows: [{ quantity: 'Best-checkpoint eval bpc', value: { ours: 9, paper: null, status: '' } }] },
      table3_influence: {
        id: 'table3_influence',
        title: 'Table 3',
        section: '§5.3',
        positions: '',
        columns: [{ key: 'd', label: 'd' }, { key: 'signed', label: 's' }],
        rows: [
          { d: 'd = 0', signed: { ours: opts.d0 ?? 1.5, paper: null, status: '' } },
          { d: 'd = 1', signed: { ours: 0.5, paper: null, status: '' } },
          { d: 'd = 20–49 (mean)', signed: { ours: 0.01, paper: null, status: '' } },
        ],
      },
    },
  } as unknown as ReportJson;
}

const axes = [{ param: 'data.bytes', values: [1024, 4096] }];
const base = { label: 'sweep-x', axes, seeds: [42, 43], targets: ['influence'], fixed: [] };
const pts = (gains: number[][], opts: { trained?: boolean } = {}): SweepPointInput[] =>
  [1024, 4096].flatMap((bytes, i) => [42, 43].map((seed, k) => ({ values: { 'data.bytes': bytes }, seed, doc: doc(bytes, seed, gains[i][k], opts), report: null })));

describe('sweep aggregate', () => {
  it('one row per point, each metric the spread over that point\'s seeds, and the per-point aggregate', () => {
    const points = pts([[0.2, 0.4], [0.1, 0.3]], { trained: true });
    const { metrics } = chooseMetrics(points.map((p) => p.doc));
    const s = sweepAggregate(base, points, metrics, {});
    expect(s.rows.map((r) => r.values['data.bytes'])).toEqual([1024, 4096]);
    expect(s.rows[0].seeds).toEqual([42, 43]);
    expect(s.rows[0].epochs).toEqual([4000, 4000]);
    expect(s.rows[1].epochs).toEqual([999, 999]);
    const g = s.rows[1].metrics.pattern_gain_bpc;
    expect(g.values).toEqual([0.1, 0.3]);
    expect(g.spread!.mean).toBeCloseTo(0.2, 12);
    expect(g.spread!.min).toBe(0.1);
    expect(g.spread!.max).toBe(0.3);
    expect(g.spread!.sd).toBeCloseTo(Math.SQRT2 * 0.1, 12);
    expect(s.rows[0].metrics['influence.d0.signed'].spread!.mean).toBe(1.5);
    expect(s.rows[0].metrics['influence.d20-49.signed'].spread!.mean).toBe(0.01);
    expect(s.rows[0].aggregate.metrics.pattern_gain_bpc.spread!.n).toBe(2);
    // the chosen metrics are the Q3 ones present, in the Q3 order
    expect(s.metrics.map((x) => x.id)).toEqual(['trained_bpc', 'carrier_only_bpc', 'pattern_gain_bpc', 'influence.d0.signed', 'influence.d1.signed', 'influence.d20-49.signed']);
  });

  it('trained_bpc falls back to the best-checkpoint eval bpc when no isomorphism stage was built', () => {
    const points = pts([[0.2, 0.4], [0.1, 0.3]]);
    const s = sweepAggregate(base, points, chooseMetrics(points.map((p) => p.doc)).metrics, {});
    expect(s.rows[0].metrics.trained_bpc.values).toEqual([9, 9]);
  });

  it('the sentences follow the numbers', () => {
    const up = pts([[0.1, 0.1], [0.5, 0.5]], { trained: true });
    const s = sweepAggregate(base, up, chooseMetrics(up.map((p) => p.doc)).metrics, {});
    expect(trend(s, 'pattern_gain_bpc')).toMatchObject({ first: 0.1, last: 0.5, ups: 1, downs: 0, beyondSpread: true });
    expect(s.summary.join('\n')).toMatch(/pattern gain \(bpc\) rises from 0\.1000 to 0\.5000, monotonically, more than the widest seed spread/);
    expect(s.summary.join('\n')).toMatch(/4000 → 999 epochs/);
    expect(s.summary.join('\n')).toMatch(/pattern gain stays positive for every seed/);
    expect(s.summary.join('\n')).toMatch(/influence stays concentrated on recent bytes/);
    const down = pts([[0.5, 0.4], [0.1, -0.2]]);
    const t = sweepAggregate(base, down, chooseMetrics(down.map((p) => p.doc)).metrics, {});
    expect(t.summary.join('\n')).toMatch(/pattern gain \(bpc\) falls from 0\.4500 to -0\.05000/);
    expect(t.summary.join('\n')).toMatch(/zero or negative for some seed at data\.bytes = 4096/);
  });

  it('--metrics: chosen ids in the given order; unknown ids reported with the available ones', () => {
    const docs = pts([[0.1, 0.1], [0.5, 0.5]]).map((p) => p.doc);
    expect(chooseMetrics(docs, ['carrier_only_bpc', 'influence.d1.signed']).metrics.map((x) => x.id)).toEqual(['carrier_only_bpc', 'influence.d1.signed']);
    const bad = chooseMetrics(docs, ['nope', 'carrier_only_bpc']);
    expect(bad.unknown).toEqual(['nope']);
    expect(bad.available).toContain('pattern_gain_bpc');
    expect(bad.available).not.toContain('ps_per_position');
  });

  it('labels name the swept values and seeds, and hash the fixed params and targets', () => {
    expect(sweepLabel(axes, [42, 43], [], ['report'])).toBe('sweep-data.bytes-1024-4096-seeds42-43');
    const a = sweepLabel(axes, [42, 43], ['train.hidden=16'], ['report']);
    expect(a).toMatch(/^sweep-data\.bytes-1024-4096-seeds42-43-p[0-9a-f]{8}$/);
    expect(sweepLabel(axes, [42, 43], ['train.hidden=16'], ['trace'])).not.toBe(a);
    expect(sweepLabel(axes, [null], [], ['report'])).toBe('sweep-data.bytes-1024-4096');
  });

  it('a label past 100 characters keeps its start and ends in a hash of the whole (60 values once made ENAMETOOLONG)', () => {
    const many = [{ param: 'train.seed', values: Array.from({ length: 60 }, (_, i) => 1000 + i) }];
    const long = sweepLabel(many, [null], [], ['report']);
    expect(long.length).toBeLessThanOrEqual(MAX_LABEL);
    expect(long).toMatch(/^sweep-train\.seed-1000-1001-.*-h[0-9a-f]{12}$/);
    const other = sweepLabel([{ param: 'train.seed', values: [...many[0].values.slice(0, 59), 2000] }], [null], [], ['report']);
    expect(other).not.toBe(long); // the last value differs only past the cut: the hash tells them apart
    expect(other.length).toBe(long.length);
    expect(fitLabel('short')).toBe('short');
  });

  it('plots: log2 x for a span of 8× or more, mean line, min–max band, a dot per seed; files per metric', async () => {
    const wide = { ...base, axes: [{ param: 'data.bytes', values: [1024, 8192] }] };
    const points = pts([[0.2, 0.4], [0.1, 0.3]]).map((p) => ({ ...p, values: { 'data.bytes': p.values['data.bytes'] === 4096 ? 8192 : 1024 } }));
    const s = sweepAggregate(wide, points, chooseMetrics(points.map((p) => p.doc), ['pattern_gain_bpc']).metrics, {});
    const spec = sweepPlotSpec(s, 'pattern_gain_bpc', 't') as any;
    expect(spec.layer[0].encoding.x.scale).toEqual({ type: 'log', base: 2 });
    expect(spec.layer[0].mark.type).toBe('area');
    expect(spec.layer[0].data.values).toEqual([
      { x: 1024, series: 'mean', mean: expect.closeTo(0.3, 12), min: 0.2, max: 0.4 },
      { x: 8192, series: 'mean', mean: expect.closeTo(0.2, 12), min: 0.1, max: 0.3 },
    ]);
    expect(spec.layer[2].data.values).toHaveLength(4);
    const narrow = sweepAggregate(base, pts([[0.2, 0.4], [0.1, 0.3]]), chooseMetrics([doc(1024, 1, 1)], ['pattern_gain_bpc']).metrics, {});
    expect((sweepPlotSpec(narrow, 'pattern_gain_bpc', 't') as any).layer[0].encoding.x.scale).toBeUndefined();
    const files = await sweepFiles(s);
    expect(Object.keys(files).sort()).toEqual(['plots/pattern_gain_bpc.svg', 'report.json', 'report.md']);
    expect(files['plots/pattern_gain_bpc.svg']).toMatch(/^<svg/);
    expect(files['report.md']).toMatch(/\| 8192 \| 999 \| 0\.2000 ± 0\.1414 \[0\.1000, 0\.3000\] \|/);
  }, 30_000);
});
