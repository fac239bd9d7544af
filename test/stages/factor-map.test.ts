// The factor-map stage (§3.3, Table 1 and the ladder) run as the engine runs it, on the
// paper's weights: the skipgrams -> factor-map edge carries the offsets.
import { describe, expect, it } from 'vitest';
import skipgrams from '../../stages/skipgrams.ts';
import factorMap from '../../stages/factor-map.ts';
import * as fmSection from '../../lib/report/sections/factor-map.ts';
import { isCmp } from '../../lib/report/types.ts';
import { PAPER_WEIGHTS } from '../helpers/reference.ts';
import { asOutput, checkSection, output, paperUpstream, runStage } from '../helpers/stages.ts';

describe.skipIf(!PAPER_WEIGHTS)('factor-map stage on the paper weights', () => {
  it('reads the offsets from skipgrams and gives Table 1, the ladder and its report section', async () => {
    const inputs = paperUpstream();
    const sg = await runStage(skipgrams, inputs);
    const s = sg.json as any;
    const skip = asOutput(sg, 'kskip');
    const fm = await runStage(factorMap, { ...inputs, skipgrams: skip });
    const f = fm.json as any;
    expect(f.offsets).toEqual(s.offsets);
    expect(f.positions).toEqual({ from: 27, to: 1023 });
    expect(f.top.map((g: any) => [g.pair, g.neurons])).toEqual([[[1, 7], 52], [[1, 8], 20], [[8, 2], 18], [[1, 12], 9], [[2, 7], 8]]);
    expect(f.other.neurons).toBe(21);
    expect(f.all.meanR2).toBeCloseTo(0.83693, 5);
    expect(Math.abs(f.ladder.wordLen.bpc / 0.499 - 1)).toBeLessThan(1e-4);
    expect(Math.abs(f.ladder.inTag.bpc / 0.4298 - 1)).toBeLessThan(1e-4);
    expect(Math.abs(f.ladder.twoOffset.bpc / 0.8529 - 1)).toBeLessThan(1e-4); // default ladderFit "scored" gives the cross-check figures (docs/definitions.md §V)
    expect(f.ladder.hTrained).toBeCloseTo(0.079201, 6);

    const part = fmSection.build({ 'factor-map': asOutput(fm, 'kfm') });
    checkSection(part, ['table1_factor_map', 'ladder'], ['factor_map_mean_r2', 'ladder_two_offset_bpc', 'ladder_word_len_bpc', 'ladder_in_tag_bpc']);
    for (const t of part.tables) expect(t.convention).toBe('state offsets');
    // our five groups are the paper's rows here, so every group row carries a paper ref
    const t1 = part.tables.find((t) => t.id === 'table1_factor_map')!;
    expect(t1.rows.slice(0, 5).map((r) => (isCmp(r.neurons) ? r.neurons.ref : null))).toEqual(['(1,7)', '(1,8)', '(8,2)', '(1,12)', '(2,7)'].map((l) => `table1.${l}.neurons`));

    // another offset list from upstream changes the factor map: nothing is a constant
    const other = output({ ...s, offsets: [1, 2, 3] });
    const fm2 = (await runStage(factorMap, { ...inputs, skipgrams: other })).json as any;
    expect(fm2.offsets).toEqual([1, 2, 3]);
    expect(fm2.pairs).toEqual([[1, 2], [1, 3], [2, 3]]);
    expect(fm2.positions.from).toBe(3);
    const t1b = fmSection.build({ 'factor-map': output(fm2) }).tables[0];
    expect(t1b.rows.filter((r) => isCmp(r.neurons) && r.neurons.ref?.startsWith('table1.('))).toEqual([]);
    expect(t1b.notes?.join(' ')).toMatch(/not in the paper's Table 1/);
  });
});
