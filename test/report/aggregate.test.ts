import { describe, expect, it } from 'vitest';
import { aggregate, renderAggregate } from '../../lib/report/aggregate.ts';
import { diffReports, renderDiff } from '../../lib/report/diff.ts';
import { auditRows, auditSummary, spread, type AuditRow, type ReportJson } from '../../lib/report/audit.ts';
import type { PaperFigures } from '../../lib/report/compare.ts';

const figures: PaperFigures = {
  trained_bpc: { value: '0.079', section: '§2', quote: 'q' },
  skip4_bpc: { value: '0.069', section: '§3.4', quote: 'q' },
  'table1.(1,7).neurons': { value: '52', section: '§3.3', quote: 'q' },
};

function report(label: string, seed: number | null, bpc: number, skip4: number, pairs: [string, number][]): ReportJson {
  return {
    label,
    model: seed === null ? { source: 'import', path: 'w.bin' } : { source: 'train', train: { seed } },
    data: { bytes: 1024, sha256: 'x' },
    metrics: {
      trained_bpc: { id: 'trained_bpc', value: bpc, section: '§2', positions: 'all', paper: '0.079', status: '' },
      skip4_bpc: { id: 'skip4_bpc', value: skip4, section: '§3.4', positions: 'all', paper: '0.069', status: '' },
    },
    tables: {
      table1_factor_map: {
        id: 'table1_factor_map',
        title: 'Table 1',
        section: '§3.3',
        positions: 't',
        columns: [
          { key: 'pair', label: 'Pair' },
          { key: 'neurons', label: 'Neurons' },
        ],
        rows: pairs.map(([pair, n]) => ({ pair, neurons: { ours: n, paper: pair === '(1, 7)' ? '52' : null, ref: pair === '(1, 7)' ? 'table1.(1,7).neurons' : null, status: '' } })),
        rowStatus: pairs.map(() => ''),
      },
    },
  } as unknown as ReportJson;
}

describe('aggregate over seeds', () => {
  const seeds = [
    report('s42', 42, 0.08, 0.0693, [['(1, 7)', 50], ['(1, 8)', 20]]),
    report('s43', 43, 0.10, 0.0693, [['(1, 7)', 54], ['(2, 7)', 9]]),
    report('s44', 44, 0.12, 0.0693, [['(1, 7)', 52]]),
  ];
  const ref = report('paper', null, 0.0792, 0.0693, [['(1, 7)', 52]]);

  it('gives mean, sample sd and min–max for metrics and for table cells matched by row label', () => {
    const a = aggregate('agg', seeds, ref, figures);
    expect(a.metrics.trained_bpc.spread!.mean).toBeCloseTo(0.1, 12);
    expect(a.metrics.trained_bpc.spread!.sd).toBeCloseTo(0.02, 12); // sample sd of .08 .10 .12
    expect(a.metrics.trained_bpc.spread).toMatchObject({ n: 3, min: 0.08, max: 0.12 });
    expect(a.metrics.trained_bpc.reference).toBe(0.0792);
    const rows = a.tables.table1_factor_map.rows;
    expect(rows.map((r) => r.label)).toEqual(['(1, 7)', '(1, 8)', '(2, 7)']);
    const c17 = rows[0].cells.neurons as any;
    expect(c17.spread).toMatchObject({ n: 3, mean: 52, sd: 2, min: 50, max: 54 });
    expect(c17.paper).toBe('52');
    expect(c17.reference).toBe(52);
    expect((rows[1].cells.neurons as any).spread).toMatchObject({ n: 1, mean: 20, sd: null });
    expect(spread([])).toBeNull();
  });

  it('audits every paper figure: reference status, seed spread, and whether the paper falls in the seed range', () => {
    const rows = auditRows(figures, seeds, ref);
    const bpc = rows.find((r) => r.ref === 'trained_bpc')!;
    expect(bpc.referenceStatus).toBe('✔');
    expect(bpc.oursStatus).toBe('✘'); // mean 0.1 vs 0.079
    expect(bpc.paperWithinSeeds).toBe(false);
    const t1 = rows.find((r) => r.ref === 'table1.(1,7).neurons')!;
    expect(t1.paperWithinSeeds).toBe(true);
    const md = renderAggregate(aggregate('agg', seeds, ref, figures), [{ title: 'curves', file: 'curves.svg' }]);
    expect(md).toContain('## Reproduction audit');
    expect(md).toContain('0.1000 ± 0.0200 [0.0800, 0.1200]');
    expect(md).toContain('![curves](curves.svg)');
  });

  it('diff lists changed metrics and cells and flags a change beyond 2 sd of the seeds', () => {
    const agg = aggregate('agg', seeds, null, figures);
    const d = diffReports(seeds[0], seeds[1], agg);
    expect(d.metrics.map((c) => c.metric)).toEqual(['trained_bpc']); // skip4 unchanged
    expect(d.metrics[0].delta).toBeCloseTo(0.02, 12);
    expect(d.metrics[0].flagged).toBe(false); // 0.02 < 2 * 0.02
    const t = d.tables.find((x) => x.id === 'table1_factor_map')!;
    expect(t.changes).toEqual([expect.objectContaining({ row: '(1, 7)', column: 'Neurons', a: 50, b: 54, delta: 4 })]);
    expect(t.onlyInA).toEqual(['(1, 8)']);
    expect(t.onlyInB).toEqual(['(2, 7)']);
    const far = report('far', 99, 0.3, 0.0693, [['(1, 7)', 52]]);
    const d2 = diffReports(seeds[0], far, agg);
    expect(d2.metrics[0].flagged).toBe(true); // 0.22 > 0.04
    expect(renderDiff(d2)).toMatch(/trained_bpc: 0\.0800000 -> 0\.300000 .*!! larger than the seed spread/);
    expect(diffReports(seeds[0], seeds[0]).metrics).toEqual([]);
  });

  it('diff leads with the params that differ (and from what), and leaves out float noise unless asked', () => {
    const a = { ...report('a', 1, 0.08, 0.0693, [['(1, 7)', 50]]), overrides: { train: { seed: 1, hidden: 16 } } } as ReportJson;
    const b = { ...report('b', 2, 0.08, 0.0693, [['(1, 7)', 50]]), overrides: { train: { seed: 2, hidden: 16, lr: 0.5 } } } as ReportJson;
    const noisy = (r: ReportJson, x: number, bpc: number) => ({
      ...r,
      metrics: { ...r.metrics, trained_bpc: { ...r.metrics.trained_bpc, value: bpc }, max_diff: { id: 'max_diff', value: x, section: '§3.1', positions: 'all', paper: null, status: '' } },
    }) as ReportJson;
    // 3.99e-8 -> 3.67e-8 prints as 0.0000 both times; 0.08 -> 0.08 + 1e-9 is below 1e-6 relative
    const d = diffReports(noisy(a, 3.99e-8, 0.08), noisy(b, 3.67e-8, 0.08 + 1e-9), null, { defaults: (k) => (k === 'train.lr' ? 0.01 : undefined) });
    expect(d.params).toEqual([
      { param: 'train.lr', a: null, b: 0.5, default: 0.01 },
      { param: 'train.seed', a: 1, b: 2, default: undefined },
    ]);
    expect(d.metrics).toEqual([]);
    const text = renderDiff(d);
    expect(text.split('\n').slice(0, 5)).toEqual(['diff a -> b', '', 'params (2 differ):', '  train.lr: 0.01 (default) -> 0.5', '  train.seed: 1 -> 2']);
    const all = diffReports(noisy(a, 3.99e-8, 0.08), noisy(b, 3.67e-8, 0.08 + 1e-9), null, { all: true });
    expect(all.metrics.map((c) => [c.metric, c.noise])).toEqual([['trained_bpc', true], ['max_diff', true]]);
    expect(renderDiff(all)).toMatch(/max_diff: 3\.99000e-8 -> 3\.67000e-8 .*\(noise/);
    // a change that shows at the printed precision is a change
    expect(diffReports(noisy(a, 0.5, 0.08), noisy(b, 0.5003, 0.08), null).metrics.map((c) => c.metric)).toEqual(['max_diff']);
  });

  it('the audit summary says which failures fall within the seed range and which do not', () => {
    const row = (ref: string, reference: number, referenceStatus: AuditRow['referenceStatus'], within: boolean): AuditRow => ({
      ref, section: '§', quote: '', paper: '1', reference, referenceStatus, ours: spread([0.5, 1.5]), oursStatus: '✔', paperWithinSeeds: within,
    });
    const text = auditSummary([row('a', 1, '✔', true), row('b', 3, '✘', true), row('c', 4, '✘', false)], { seeds: 2 });
    expect(text).toMatch(/^On the paper's own weights 1 of 3 figures reproduce \(✔ or ≈\); 2 do not: `b`, `c`\./);
    expect(text).toMatch(/Of these, 1 \(`b`\) fall within the range of our 2 seeds/);
    expect(text).toMatch(/The other 1 \(`c`\) lie outside our seeds' range as well/);
    expect(auditSummary([row('c', 4, '✘', false)], { seeds: 2 })).toMatch(/None of them falls within the range of our 2 seeds either/);
  });
});
