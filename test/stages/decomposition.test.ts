// The decomposition stage (§5.4) run as the engine runs it: SPEC §V on the paper's
// weights, invariants and bad params on a tiny model.
import { describe, expect, it } from 'vitest';
import decomposition from '../../stages/decomposition.ts';
import * as decompositionSection from '../../lib/report/sections/decomposition.ts';
import { resolveMetric, resolveTable, type PaperFigures } from '../../lib/report/compare.ts';
import { PAPER_WEIGHTS } from '../helpers/reference.ts';
import { asOutput, checkSection, close, figures, output, paperUpstream, refsOf, runStage } from '../helpers/stages.ts';
import { tinyInputs } from '../helpers/tiny.ts';

describe.skipIf(!PAPER_WEIGHTS)('decomposition stage on the shipped weights (SPEC §V)', () => {
  it("at t = 29 gives 16.459 + 2.3804 = 18.839, top unit h8 at +1.749, 'm' -> 'e', and its report section", async () => {
    const out = await runStage(decomposition, paperUpstream());
    const j = out.json as any;
    expect([j.byte.char, j.target.char]).toEqual(['m', 'e']);
    close(j.carrierLogit, 16.459, 3);
    close(j.patternLogit, 2.3804, 4);
    close(j.totalLogit, 18.839, 3);
    expect(Math.abs(j.totalLogit - j.actualLogit)).toBeLessThan(1e-12);
    expect(j.topUnits[0].unit).toBe(8);
    close(j.topUnits[0].contribution, 1.749, 3);

    const part = decompositionSection.build({ decomposition: asOutput(out) });
    checkSection(part, ['pos29_decomposition'], ['pos29_carrier_logit', 'pos29_pattern_logit', 'pos29_total_logit']);
    for (const t of part.tables) {
      expect(t.convention).toBe('state offsets');
      expect(resolveTable(t, figures as PaperFigures).rowStatus.some((s) => s !== '')).toBe(true);
    }
    expect(refsOf(part)).toEqual(expect.arrayContaining(['pos29_carrier_fraction', 'pos29_top_unit']));
    const m = Object.fromEntries(part.metrics.map((x) => [x.id, resolveMetric(x, figures as PaperFigures)]));
    expect(m.pos29_total_logit.value).toBeCloseTo(j.totalLogit, 14);
  });
});

describe('decomposition stage on a tiny model', () => {
  const inputs = tinyInputs();
  it('adds carrier and pattern logits up to the model logit, and compares nothing with the paper off its position', async () => {
    const dec = (await runStage(decomposition, inputs, { position: 40 })).json as any;
    expect(dec.position).toBe(40);
    expect(Math.abs(dec.carrierLogit + dec.patternLogit - dec.actualLogit)).toBeLessThan(1e-12);
    const t = decompositionSection.build({ decomposition: output(dec) }).tables[0];
    expect(t.rows.flatMap((r) => Object.values(r)).some((c) => c && typeof c === 'object' && (c as any).ref)).toBe(false);
  });
  it('refuses a position with no next byte, saying which setting to change', async () => {
    await expect(runStage(decomposition, inputs, { position: 79 })).rejects.toThrow(/position must be ≤ N - 2 = 78.*\n.*hint: set decomposition.position/s);
  });
});
