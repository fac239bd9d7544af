// The baselines stage (§5.1) run as the engine runs it: the cross-check figures (docs/definitions.md §V) on the paper's weights,
// shapes and bad params on a tiny model.
import { describe, expect, it } from 'vitest';
import baselines from '../../stages/baselines.ts';
import * as baselinesSection from '../../lib/report/sections/baselines.ts';
import { resolveMetric, resolveTable, type PaperFigures } from '../../lib/report/compare.ts';
import { PAPER_WEIGHTS } from '../helpers/reference.ts';
import { asOutput, checkSection, close, figures, paperUpstream, refsOf, runStage } from '../helpers/stages.ts';
import { tinyInputs } from '../helpers/tiny.ts';
import { upstream } from '../helpers/stages.ts';
import { paramCount, weightsFrom } from '../../lib/rnn/weights.ts';
import { randomBytes, randomFill } from '../rnn/helpers.ts';

describe.skipIf(!PAPER_WEIGHTS)('baselines stage on the shipped weights (the cross-check figures (docs/definitions.md §V))', () => {
  it('gives ablation d = 1 (0.2030, 0.2097) and decisive depth 1 / 3 (0.1623 / 0.0091), and its report section', async () => {
    const out = await runStage(baselines, paperUpstream());
    const j = out.json as any;
    close(j.ablation.mean[1], 0.203, 4);
    close(j.ablation.meanAbs[1], 0.2097, 4);
    close(j.decisive.reach[0], 0.1623, 4);
    close(j.decisive.reach[2], 0.0091, 4);
    expect(j.decisive.reach.length).toBe(8);
    const norm = j.gradient.normalized.reduce((a: number, b: number) => a + b, 0);
    expect(norm).toBeCloseTo(1, 12);

    const part = baselinesSection.build({ baselines: asOutput(out) });
    checkSection(part, ['baselines_5_1'], ['ablation_d1_bits', 'ablation_d28_bits', 'decisive_d1', 'decisive_d3']);
    for (const t of part.tables) {
      expect(t.convention).toBe('state offsets');
      expect(resolveTable(t, figures as PaperFigures).rowStatus.some((s) => s !== '')).toBe(true);
    }
    expect(refsOf(part)).toEqual(expect.arrayContaining(['ablation_d1_bits', 'ablation_d28_bits', 'decisive_d3']));
    const m = Object.fromEntries(part.metrics.map((x) => [x.id, resolveMetric(x, figures as PaperFigures)]));
    expect(m.decisive_d1.status).toBe('✘'); // 0.1623 against the paper's 67%
  }, 30_000);
});

describe('baselines stage on a tiny model', () => {
  const inputs = tinyInputs();
  it('runs with small offsets and depth', async () => {
    const bl = await runStage(baselines, inputs, { maxOffset: 6, firstT: 10, maxDepth: 3 });
    expect((bl.json as any).decisive.reach.length).toBe(3);
    expect(bl.tensors!.ablation.shape).toEqual([68, 6]);
  });
  it('refuses a first position past the data, saying which setting to change', async () => {
    await expect(runStage(baselines, inputs, { firstT: 90 })).rejects.toThrow(/hint: set baselines.firstT/);
  });
});

describe('baselines stage on long data: maxPositions samples blocks of T', () => {
  const H = 5;
  const inputs = upstream(weightsFrom(randomFill(new Float32Array(paramCount(H)), 91, 1.5), H), randomBytes(400, 92));
  const D = 6;
  const firstT = 10; // T = 10..397: 388 positions

  it('runs gradient and ablation on the blocks, decisive chains on every T, and says so in the table', async () => {
    const full = await runStage(baselines, inputs, { maxOffset: D, firstT, maxDepth: 3 });
    expect((full.json as any).sample.sampled).toBe(false);
    const part = await runStage(baselines, inputs, { maxOffset: D, firstT, maxDepth: 3, maxPositions: 60, blockLength: 20 });
    const j = part.json as any;
    expect([j.count, j.sample.sampled, j.sample.blocks, j.decisive.nodes]).toEqual([60, true, 3, 388 * H]);
    expect(j.decisive).toEqual(full.json.decisive);
    const Ts = [...(part.tensors!.positions.data as Int32Array)];
    for (const name of ['gradRaw', 'ablation']) {
      const f = full.tensors![name].data as Float64Array;
      const p = part.tensors![name].data as Float64Array;
      expect(part.tensors![name].shape).toEqual([60, D]);
      Ts.forEach((T, r) => {
        for (let d = 0; d < D; d++) expect(p[r * D + d], `${name} T=${T} d=${d}`).toBe(f[(T - firstT) * D + d]);
      });
    }
    const t = baselinesSection.build({ baselines: asOutput(part) });
    expect(t.tables[0].positions).toMatch(/60 of the 388 output positions .* 3 evenly spread blocks of 20 .*decisive chains: all 388/);
  });
});
