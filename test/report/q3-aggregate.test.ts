// Q3's aggregate (docs/definitions.md §6.4) on hand-made report documents: each seed's
// convergence read from the model's training summary, non-converged figures greyed and
// labelled in the table and the plots, the held-out / Kneser–Ney / §6.3 columns, and the
// answers computed from the numbers (they change when the numbers do).
import { describe, expect, it } from 'vitest';
import { bestWorthLevel, chooseMetrics, fmtCell, q3Sentences, sampledStages, sweepAggregate, sweepFiles, type SampledStage, type SweepPointInput } from '../../lib/report/sweep.ts';
import { heldoutCurvesSpec, sweepLinesSpec, sweepPlotSpec } from '../../lib/report/sweep-plots.ts';
import type { ReportJson } from '../../lib/report/audit.ts';

const m = (id: string, value: number) => ({ id, value, section: '§6', positions: 'all', paper: null, status: '' });

interface P { trained: number; heldout: number; kn: number; conv: boolean; gain?: number; ps?: number; worthBits?: number; textBits?: number; noneWorth?: boolean }

function doc(bytes: number, seed: number, p: P): ReportJson {
  const metrics: Record<string, unknown> = {
    trained_bpc: m('trained_bpc', p.trained),
    'kn.best.heldout_bpc': m('kn.best.heldout_bpc', p.kn),
    'kn.best.order': m('kn.best.order', 3),
    pattern_gain_bpc: m('pattern_gain_bpc', p.gain ?? 0.5),
    ps_per_position: m('ps_per_position', p.ps ?? 3),
  };
  if (p.worthBits !== undefined) {
    Object.assign(metrics, {
      'rebuild.rules.worth_bits': m('rebuild.rules.worth_bits', p.noneWorth ? 0 : 1),
      'rebuild.rules.bpc': m('rebuild.rules.bpc', p.trained + 0.4),
      'rebuild.rules.bits': m('rebuild.rules.bits', p.worthBits),
      'rebuild.full.worth_bits': m('rebuild.full.worth_bits', 1), // as in real runs: no reference reaches the trained bpc
      'rebuild.full.bpc': m('rebuild.full.bpc', p.trained),
      'rebuild.full.bits': m('rebuild.full.bits', 1e9),
      'rebuild.ref_reverse_iso.worth_bits': m('rebuild.ref_reverse_iso.worth_bits', 1),
      'rebuild.ref_reverse_iso.bpc': m('rebuild.ref_reverse_iso.bpc', 0.1),
      'rebuild.ref_reverse_iso.bits': m('rebuild.ref_reverse_iso.bits', p.textBits!),
    });
  }
  return {
    label: `n${bytes}-s${seed}`,
    model: { source: 'train', train: { seed, epochs: 10, converged: p.conv, heldout: { checkpointBpc: p.heldout, bestBpc: Math.min(8, p.heldout), curve: [{ epoch: 0, heldoutBpc: 8 }, { epoch: 5, heldoutBpc: p.heldout + 0.1 }, { epoch: 10, heldoutBpc: p.heldout }] } } },
    data: { bytes, sha256: String(bytes) },
    metrics,
    tables:
      bytes >= 65536
        ? { table3_influence: { title: 'Table 3: byte-to-output influence by offset', positions: `65536 of the ${bytes - 51} output positions T = 50..${bytes - 2}, in 64 evenly spread blocks of 1024 consecutive T (influence.maxPositions)`, rows: [] }, table2: { title: 'Table 2', positions: 't = 0..9', rows: [] } }
        : { table3_influence: { title: 'Table 3: byte-to-output influence by offset', positions: `T = 50..${bytes - 2}`, rows: [] } },
  } as unknown as ReportJson;
}

const sizes = [1024, 8192, 65536];
const seeds = [42, 43];
const rule = 'epochs = max(20, round(4092000 / (N − 1)))';
function aggregateOf(at: (bytes: number, seed: number) => P, sampled?: (bytes: number) => SampledStage[]) {
  const points: SweepPointInput[] = sizes.flatMap((bytes) => seeds.map((seed) => ({ values: { 'data.bytes': bytes }, seed, doc: doc(bytes, seed, at(bytes, seed)), report: null, ...(sampled ? { sampled: sampled(bytes) } : {}) })));
  const { metrics } = chooseMetrics(points.map((p) => p.doc), undefined, true);
  return sweepAggregate({ label: 'q3', axes: [{ param: 'data.bytes', values: sizes }], seeds, targets: ['kn'], fixed: [], q3: { rule } }, points, metrics, {});
}

// RNN worse than counting at 1 KiB (memorised), better from 8 KiB; seed 43 at 64 KiB not converged.
const base = (bytes: number, seed: number): P => ({
  trained: bytes === 1024 ? 0.1 : 2,
  heldout: bytes === 1024 ? 8 : bytes === 8192 ? 3 : seed === 43 ? 5 : 2.5,
  kn: bytes === 1024 ? 4 : 3.5,
  conv: !(bytes === 65536 && seed === 43),
  ps: bytes / 1024,
  gain: bytes === 1024 ? 0.25 : 0.5,
});

describe('Q3 aggregate', () => {
  it('reads each seed\'s convergence and the held-out, Kneser–Ney and §6.3 figures', () => {
    const s = aggregateOf(base);
    expect(s.rows.map((r) => r.converged)).toEqual([[true, true], [true, true], [true, false]]);
    expect(s.metrics.map((x) => x.id)).toEqual(expect.arrayContaining(['trained_bpc', 'heldout_bpc', 'kn.best.heldout_bpc', 'kn.best.order', 'rebuild.best_worth.gap', 'rebuild.best_worth.bits']));
    expect(s.rows[2].metrics.heldout_bpc.values).toEqual([2.5, 5]);
    // the curve's lowest point beside the checkpoint's: the init's 8 at 1 KiB, where the checkpoint is no better
    expect(s.rows[0].metrics.heldout_best_bpc.values).toEqual([8, 8]);
    expect(s.metrics.map((x) => x.id).slice(0, 3)).toEqual(['trained_bpc', 'heldout_bpc', 'heldout_best_bpc']);
    // no rebuild at any point: the §6.3 columns are there, empty
    expect(s.rows[0].metrics['rebuild.best_worth.bits'].values).toEqual([null, null]);
  });

  it('greys a non-converged figure and labels it, beside the spread over the converged ones', () => {
    const s = aggregateOf(base);
    expect(fmtCell(s.rows[2], 'heldout_bpc')).toBe('2.500; *5 (not converged)*');
    expect(fmtCell(s.rows[1], 'heldout_bpc')).toBe('3 ± 0 [3, 3]');
    const dots = (sweepPlotSpec(s, 'heldout_bpc', 't') as any).layer[2];
    expect(dots.data.values.filter((d: any) => d.status === 'not converged')).toEqual([expect.objectContaining({ x: 65536, value: 5, seed: '43' })]);
    expect(dots.encoding.color.scale.range[1]).toBe('#bbbbbb');
    const lines = sweepLinesSpec(s, [{ id: 'trained_bpc', label: 'in' }, { id: 'heldout_bpc', label: 'held' }, { id: 'kn.best.heldout_bpc', label: 'kn' }], 't') as any;
    // both of that model's lines are grey; Kneser–Ney has no training to converge
    expect(lines.layer[3].data.values).toEqual([expect.objectContaining({ line: 'in', value: 2, seed: '43' }), expect.objectContaining({ line: 'held', value: 5, seed: '43' })]);
    expect(lines.title.subtitle).toMatch(/not converged/);
    // every model converged: no grey layer at all (an empty one has no extent, and vega warns)
    const allConv = sweepLinesSpec(aggregateOf((b, sd) => ({ ...base(b, sd), conv: true })), [{ id: 'trained_bpc', label: 'in' }], 't') as any;
    expect(allConv.layer).toHaveLength(3);
    expect(allConv.title.subtitle).not.toMatch(/not converged/);
    // the curves: one line per model, x the fraction of its epochs, dashed where not converged
    const curves = (heldoutCurvesSpec(s, 't') as any).data.values;
    expect(curves).toHaveLength(3 * 6);
    expect(curves.filter((v: any) => v.model === '65536/43').map((v: any) => [v.t, v.bpc, v.status])).toEqual([[0, 8, 'not converged'], [0.5, 5.1, 'not converged'], [1, 5, 'not converged']]);
  });

  it('answers from the numbers: convergence, the decomposition, the pattern regime, RNN against counting', () => {
    const w = q3Sentences(aggregateOf(base));
    expect(w[0]).toBe(`Training length: ${rule}. 5 of 6 models converged (best held-out bpc improved by less than 0.01 over the last quarter of training); not converged: 1 of 2 at 64 KiB. Their figures are greyed in the tables and plots, and the sentences below leave them out.`);
    expect(w.join('\n')).toMatch(/The decomposition holds at every size with converged models \(1 KiB, 8 KiB, 64 KiB\)/);
    expect(w.join('\n')).toMatch(/The pattern regime grows with the data: PS units per position goes from 1 at 1 KiB to 64 at 64 KiB; the pattern gain goes from 0.2500 at 1 KiB to 0.5000 at 64 KiB/);
    // the non-converged 5.0 is left out: at 64 KiB the RNN's 2.5 beats KN's 3.5
    expect(w.join('\n')).toMatch(/The RNN beats counting on the held-out text from 8 KiB on: its held-out bpc against Kneser–Ney's best order \(1 KiB 8 vs 4, 8 KiB 3 vs 3.500, 64 KiB 2.500 vs 3.500\)/);
    expect(w.join('\n')).toMatch(/\(the rebuild stage was not built\), so from what size .* cannot be said here/); // no §6.3 figures
    // where positions were sampled, and how many: only the 64 KiB influence table
    expect(w[1]).toBe('Sampled positions (beyond a stated size these analyses average over a stated sample instead of every position): at 64 KiB, Table 3: 65536 of the 65485 output positions T = 50..65534, in 64 evenly spread blocks of 1024 consecutive T (influence.maxPositions).');
    // counting wins at the largest size: "does not beat"; a negative gain breaks the decomposition
    const worse = q3Sentences(aggregateOf((b, s) => ({ ...base(b, s), kn: b === 65536 ? 2 : 3.5, gain: b === 8192 ? -0.1 : 0.5 })));
    expect(worse.join('\n')).toMatch(/does not beat counting on the held-out text at the largest size/);
    expect(worse.join('\n')).toMatch(/The decomposition breaks at 8 KiB/);
  });

  it('finds the best level worth its bits and the size from which it is cheaper than the text', () => {
    const s = aggregateOf((b, seed) => ({ ...base(b, seed), worthBits: 50_000, textBits: b * 3 }));
    const d = doc(8192, 42, { ...base(8192, 42), worthBits: 50_000, textBits: 8192 * 3 });
    expect(bestWorthLevel(d)).toEqual({ level: 'rules', bpc: 2.4, bits: 50_000 });
    expect(s.rows[1].metrics['rebuild.best_worth.gap'].values[0]).toBeCloseTo(0.4, 12);
    // text bits 3 × N: 3072, 24576, 196608 against 50,000 → cheaper from 64 KiB
    expect(q3Sentences(s).join('\n')).toMatch(/From 64 KiB on, the best description of the model worth its bits takes fewer bits than the text it explains \(8 × gzip-9 bytes\), for every converged model: description bits against the text's \(1 KiB 50000 vs 3072, 8 KiB 50000 vs 24576, 64 KiB 50000 vs 196608\)/);
    // cheaper at 8 KiB, but at 64 KiB no level is worth its bits: that size has no cheaper description, so "from" is never
    const none = aggregateOf((b, seed) => ({ ...base(b, seed), worthBits: b === 65536 ? undefined : 1000, textBits: b * 3 }));
    // (a point without a worth level still has its text bits: the reference row is there)
    expect(none.rows[2].metrics['rebuild.text_bits'].values).toEqual([null, null]);
    const withRef = aggregateOf((b, seed) => ({ ...base(b, seed), worthBits: 1000, textBits: b * 3, noneWorth: b === 65536 }));
    expect(withRef.rows[2].metrics['rebuild.best_worth.bits'].values).toEqual([null, null]);
    expect(withRef.rows[2].metrics['rebuild.text_bits'].values).toEqual([196608, 196608]);
    expect(q3Sentences(withRef).join('\n')).toMatch(/At the largest size here a description of the model worth its bits does not take fewer bits than the text it explains .*64 KiB none worth its bits vs 196608/);
    // every size cheaper: "at every size here"; the non-converged seed (64 KiB, 43) with a dearer description does not count
    const all = aggregateOf((b, seed) => ({ ...base(b, seed), worthBits: b === 65536 && seed === 43 ? 1e9 : 1000, textBits: b * 3 + 2000 }));
    expect(q3Sentences(all).join('\n')).toMatch(/From 1 KiB on \(at every size here\), the best description/);
    // the figures are there but no model with them converged
    const unconv = aggregateOf((b, seed) => ({ ...base(b, seed), conv: false, worthBits: 1000, textBits: b * 3 }));
    expect(q3Sentences(unconv).join('\n')).toMatch(/No converged model has the §6.3 figures \(the models that have them did not converge\)/);
    // Q3's answers come before the figures' trends; each of the four is answered or said to be unanswerable
    expect(unconv.summary[0]).toMatch(/^Training length: /);
    const unanswered = unconv.summary.join('\n');
    expect(unanswered).toMatch(/whether the decomposition holds cannot be said here/);
    expect(unanswered).toMatch(/whether the pattern regime grows cannot be said here/);
    expect(unanswered).toMatch(/whether the RNN beats counting cannot be said/);
  });

  it('leaves a model that did not converge out of every sentence and every mean, and greys only the figures that depend on it', () => {
    // the non-converged model (64 KiB, seed 43) has figures no converged one has
    const s = aggregateOf((b, seed) => (b === 65536 && seed === 43 ? { ...base(b, seed), gain: -9.5, ps: 777, trained: 66.5 } : base(b, seed)));
    const words = s.summary.join('\n');
    for (const x of ['-9.5', '777', '66.5', '5.000', ' 5 vs']) expect(words).not.toContain(x);
    expect(words).toMatch(/Kneser–Ney best order stays at 3,/);
    expect(words).toMatch(/The decomposition holds at every size with converged models/);
    expect(words).toMatch(/pattern gain \(bpc\) rises from 0\.2500 to 0\.5000, monotonically/);
    expect(words).not.toMatch(/zero or negative/);
    // the spread (the plots' line and band) is over the converged models; the cell shows the other greyed
    expect(s.rows[2].metrics.pattern_gain_bpc.spread).toMatchObject({ n: 1, mean: 0.5 });
    expect(fmtCell(s.rows[2], 'pattern_gain_bpc')).toBe('0.5000; *-9.500 (not converged)*');
    const line = (sweepPlotSpec(s, 'pattern_gain_bpc', 't') as any).layer[1].data.values;
    expect(line[2]).toMatchObject({ x: 65536, mean: 0.5 });
    // Kneser–Ney counts the text: not greyed, every seed in its spread
    expect(fmtCell(s.rows[2], 'kn.best.heldout_bpc')).toBe('3.500 ± 0 [3.500, 3.500]');
    // the per-point aggregate is over the converged models, and says so
    expect(s.rows[2].aggregate.metrics.pattern_gain_bpc.spread).toMatchObject({ n: 1, mean: 0.5 });
    // a size where no model converged has no mean, and its sentence figures are left out
    const noneConv = aggregateOf((b, seed) => ({ ...base(b, seed), conv: b !== 65536, heldout: b === 65536 ? 1 : base(b, seed).heldout }));
    expect(noneConv.rows[2].metrics.heldout_bpc.spread).toBeNull();
    expect(fmtCell(noneConv.rows[2], 'heldout_bpc')).toBe('*1, 1 (not converged)*');
    expect(q3Sentences(noneConv).join('\n')).toMatch(/\(1 KiB 8 vs 4, 8 KiB 3 vs 3\.500\)/);
  });

  it('names the converged models whose held-out bpc rose after its best point (memorising their text)', () => {
    // the curve is 8 at the init, heldout + 0.1 halfway, heldout at the end: at 1 KiB (heldout 8) the best is the init, 0 above; none overfit
    expect(q3Sentences(aggregateOf(base)).join('\n')).not.toMatch(/rose after its best/);
    // 1 KiB's checkpoint at 14 against the init's 8: both seeds; 8 KiB at 3, below its curve's 8: none
    const s = aggregateOf((b, seed) => ({ ...base(b, seed), heldout: b === 1024 ? 14 : base(b, seed).heldout }));
    expect(q3Sentences(s)[1]).toBe(
      'Held-out bpc rose after its best point for 2 converged models (the checkpoint the analyses read is worse on the held-out text than the best of its curve by more than 0.1 bpc): 2 of 2 at 1 KiB (best 8, checkpoint 14). These models memorise their text: they count as converged because the held-out text stopped improving, not because they learned the language.',
    );
  });

  it('says where positions are sampled, from the stages\' output JSON', () => {
    const outputs = {
      influence: { json: { count: 65536, sample: { sampled: true, of: 524237, blocks: 64, blockLength: 1024, maxPositions: 65536 } } },
      baselines: { json: { sample: { sampled: false, of: 972, blocks: 1, blockLength: 972, maxPositions: 4096 } } },
      construction: { json: { gridSample: { sampled: true, count: 4096, of: 524287, blocks: 16, blockLength: 256, maxPositions: 4096 }, gdSample: { sampled: false, count: 50, of: 50, blocks: 1, blockLength: 50, maxPositions: 4096 } } },
      'rebuild-score': { json: { kl: { sample: { sampled: true, of: 524287, count: 65536 } }, levels: [{ sample: { sampled: true, of: 1 } }] } },
      trace: { json: { H: 128 } },
    };
    const found = sampledStages(outputs);
    expect(found).toEqual([
      { where: 'construction grid', count: 4096, of: 524287, blocks: 16, blockLength: 256, maxPositions: 4096 },
      { where: 'influence', count: 65536, of: 524237, blocks: 64, blockLength: 1024, maxPositions: 65536 },
      { where: 'rebuild-score kl', count: 65536, of: 524287, blocks: null, blockLength: null, maxPositions: null },
    ]);
    const s = aggregateOf(base, (b) => (b === 65536 ? found : []));
    expect(q3Sentences(s)[1]).toBe(
      'Sampled positions (beyond a stated size these analyses average over a stated sample instead of every position): at 64 KiB, construction grid: 4096 of 524287 positions, 16 evenly spread blocks of 256 (beyond maxPositions = 4096); influence: 65536 of 524237 positions, 64 evenly spread blocks of 1024 (beyond maxPositions = 65536); rebuild-score kl: 65536 of 524287 positions.',
    );
    expect(q3Sentences(aggregateOf(base, () => []))[1]).toBe('Every figure here is over every position: no analysis sampled positions at these sizes.');
  });

  it('writes the combined bpc plot and states the rule in report.md', async () => {
    const files = await sweepFiles(aggregateOf(base));
    expect(Object.keys(files)).toContain('plots/bpc.svg');
    expect(Object.keys(files)).toContain('plots/heldout-curves.svg');
    expect(files['report.md']).toContain('![held-out bpc along training');
    expect(files['report.md']).toContain(`Training length: ${rule}.`);
    expect(files['report.md']).toMatch(/\| 65536 \| 10 \| 1 of 2 \|/);
    expect(files['report.md']).toContain('(not converged)');
    expect(files['report.md']).toContain('Seeds 42, 43. *Not converged: seed 43, left out of the table below (its figures are in italics in the tables above).*');
  }, 60_000);
});
