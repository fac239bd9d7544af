// The influence stage (§5.3, Table 3) run as the engine runs it: SPEC §V on the paper's
// weights, shapes and bad params on a tiny model.
import { describe, expect, it } from 'vitest';
import influence from '../../stages/influence.ts';
import * as influenceSection from '../../lib/report/sections/influence.ts';
import { resolveTable, type PaperFigures } from '../../lib/report/compare.ts';
import { PAPER_WEIGHTS } from '../helpers/reference.ts';
import { asOutput, checkSection, close, figures, paperUpstream, refsOf, runStage } from '../helpers/stages.ts';
import { tinyInputs } from '../helpers/tiny.ts';

describe.skipIf(!PAPER_WEIGHTS)('influence stage on the shipped weights (SPEC §V)', () => {
  it('gives Table 3 rows d = 0 (1.7497, 1.8205, 4.854) and d = 1 (0.7814, 1.1898, 5.916) over 972 positions, and its report section', async () => {
    const out = await runStage(influence, paperUpstream());
    const j = out.json as any;
    expect([j.firstT, j.lastT, j.count, j.rows.length]).toEqual([50, 1021, 972, 50]);
    const [d0, d1] = j.rows;
    close(d0.signed, 1.7497, 4);
    close(d0.unsigned, 1.8205, 4);
    close(d0.grad, 4.854, 3);
    close(d1.signed, 0.7814, 4);
    close(d1.unsigned, 1.1898, 4);
    close(d1.grad, 5.916, 3);
    expect(d0.decay).toBe(1);
    expect(j.bands.map((b: any) => [b.from, b.to])).toEqual([[5, 9], [10, 19], [20, 49]]);
    expect(out.tensors!.influence.shape).toEqual([972, 50]);

    const part = influenceSection.build({ influence: asOutput(out) });
    checkSection(part, ['table3_influence'], []);
    for (const t of part.tables) {
      expect(t.convention).toBe('state offsets');
      expect(resolveTable(t, figures as PaperFigures).rowStatus.some((s) => s !== '')).toBe(true);
    }
    expect(refsOf(part)).toEqual(expect.arrayContaining(['table3.d0.signed', 'table3.d20-49.unsigned']));
  });
});

describe('influence stage on a tiny model', () => {
  const inputs = tinyInputs();
  it('runs with small offsets', async () => {
    const inf = (await runStage(influence, inputs, { maxOffset: 6, firstT: 10 })).json as any;
    expect([inf.firstT, inf.lastT, inf.count, inf.rows.length, inf.bands.length]).toEqual([10, 77, 68, 6, 1]);
    expect(inf.bands[0]).toMatchObject({ from: 5, to: 5 });
  });
  it('refuses an offset reaching before the first position', async () => {
    await expect(runStage(influence, inputs, { maxOffset: 20, firstT: 10 })).rejects.toThrow(/maxOffset - 1 ≤ firstT/);
  });
});
