// The influence stage (§5.3, Table 3) run as the engine runs it: the cross-check figures (docs/definitions.md §V) on the paper's
// weights, shapes and bad params on a tiny model.
import { describe, expect, it } from 'vitest';
import influence from '../../stages/influence.ts';
import * as influenceSection from '../../lib/report/sections/influence.ts';
import { resolveTable, type PaperFigures } from '../../lib/report/compare.ts';
import { PAPER_WEIGHTS } from '../helpers/reference.ts';
import { asOutput, checkSection, close, figures, paperUpstream, refsOf, runStage } from '../helpers/stages.ts';
import { tinyInputs } from '../helpers/tiny.ts';
import { upstream } from '../helpers/stages.ts';
import { paramCount, weightsFrom } from '../../lib/rnn/weights.ts';
import { randomBytes, randomFill } from '../rnn/helpers.ts';

describe.skipIf(!PAPER_WEIGHTS)('influence stage on the shipped weights (the cross-check figures (docs/definitions.md §V))', () => {
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

describe('influence stage on long data: maxPositions samples blocks of T', () => {
  const H = 5;
  const inputs = upstream(weightsFrom(randomFill(new Float32Array(paramCount(H)), 91, 1.5), H), randomBytes(400, 92));
  const D = 6;
  const firstT = 10; // T = 10..397: 388 positions

  it('uses all positions when they fit (the definition), else the blocks, each row the same as in the full run', async () => {
    const full = await runStage(influence, inputs, { maxOffset: D, firstT });
    expect(full.json.sample).toEqual({ sampled: false, of: 388, blocks: 1, blockLength: 388, maxPositions: 65536 });
    expect([...(full.tensors!.positions.data as Int32Array)]).toEqual(Array.from({ length: 388 }, (_, i) => firstT + i));
    const part = await runStage(influence, inputs, { maxOffset: D, firstT, maxPositions: 100, blockLength: 25 });
    const j = part.json as any;
    expect([j.count, j.sample.sampled, j.sample.of, j.sample.blocks]).toEqual([100, true, 388, 4]);
    const Ts = [...(part.tensors!.positions.data as Int32Array)];
    expect(Ts.slice(0, 3)).toEqual([10, 11, 12]);
    expect(Ts.at(-1)).toBe(397);
    for (let i = 1; i < Ts.length; i++) expect(Ts[i]).toBeGreaterThan(Ts[i - 1]);
    // each sampled row is the full run's row for that T; the summary is their mean
    const fi = full.tensors!.influence.data as Float64Array;
    const pi = part.tensors!.influence.data as Float64Array;
    let signed0 = 0;
    Ts.forEach((T, r) => {
      for (let d = 0; d < D; d++) expect(pi[r * D + d]).toBe(fi[(T - firstT) * D + d]);
      signed0 += pi[r * D];
    });
    expect(j.rows[0].signed).toBeCloseTo(signed0 / 100, 14);
    const positions = influenceSection.build({ influence: asOutput(part) }).tables[0].positions;
    expect(positions).toMatch(/100 of the 388 output positions T = 10\.\.397, in 4 evenly spread blocks of 25/);
  });
});
