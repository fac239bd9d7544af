import { describe, expect, it } from 'vitest';
import type { AuditRow } from '../../lib/report/audit.ts';
import { biggestDisagreements, countFigures, summaryBlock, worstFirst } from '../../lib/report/summary.ts';

const row = (ref: string, paper: string, reference: number | null, status: AuditRow['referenceStatus'], quote = `the paper on ${ref}`): AuditRow => ({
  ref,
  section: '§9',
  quote,
  paper,
  reference,
  referenceStatus: status,
  ours: null,
  oursStatus: '',
  paperWithinSeeds: false,
});

const rows = [
  row('a', '1.0', 1.0, '✔'),
  row('b', '60.5', 1.3, '✘'),
  row('c', '0.80', 0.78, '≈'),
  row('d', '-0.008', -0.03, '✘'),
  row('e', '0.67', 0.16, '✘', 'shared sentence'),
  row('f', '0.026', 0.009, '✘', 'shared sentence'),
  row('g', '2', null, ''),
];

describe('the report summary', () => {
  it('counts each figure once, by its status on this model', () => {
    expect(countFigures(rows)).toEqual({ agree: 1, approx: 1, disagree: 4, notComparable: 0, notComparableWhy: {} });
  });

  it('orders the audit ✘ first, then ≈, ✔, no status; paper order within', () => {
    expect(worstFirst(rows).map((r) => r.ref)).toEqual(['b', 'd', 'e', 'f', 'c', 'a', 'g']);
  });

  it('ranks disagreements by symmetric relative distance, so a near-zero paper figure does not dominate', () => {
    expect(biggestDisagreements(rows, 2).map((r) => r.ref)).toEqual(['b', 'e']);
  });

  it('states the count, quotes the paper once per sentence, and links the viewer only when there is one', () => {
    const md = summaryBlock(rows, { weights: [{ column: 'reference', words: 'these weights' }], viewer: 'viewer.html', interactive: null });
    expect(md).toContain('**2 of 6**');
    expect(md.match(/shared sentence/g)).toHaveLength(1);
    expect(md).toContain('`e` = 0.16 where the paper has 0.67; `f` = 0.0090 where the paper has 0.026');
    expect(md).toContain('](viewer.html)');
    expect(summaryBlock(rows, { weights: [{ column: 'reference', words: 'w' }], viewer: null, interactive: null })).not.toContain('viewer.html');
  });

  it('counts each column it is asked for on its own line (paper\'s weights and our training)', () => {
    const both = rows.map((r, i) => ({ ...r, ours: { mean: 0, sd: 0, min: 0, max: 0, n: 1 }, oursStatus: (i % 2 ? '✔' : '✘') as AuditRow['oursStatus'] }));
    const md = summaryBlock(both as AuditRow[], { weights: [{ column: 'reference', words: 'the paper weights' }, { column: 'ours', words: 'our model' }], viewer: null, interactive: null });
    expect(md).toContain('On the paper weights, **2 of 6**');
    expect(md).toContain('On our model, **3 of 7**');
  });
});
