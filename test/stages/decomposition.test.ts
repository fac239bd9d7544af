// The decomposition stage (§5.4) run as the engine runs it: the independent figures on the
// paper's weights, invariants and bad params on a tiny model.
import { describe, expect, it } from 'vitest';
import decomposition from '../../stages/decomposition.ts';
import * as decompositionSection from '../../lib/report/sections/decomposition.ts';
import { resolveMetric, resolveTable, type PaperFigures } from '../../lib/report/compare.ts';
import { PAPER_WEIGHTS } from '../helpers/reference.ts';
import { ENWIK9_PREFIX_SHA256 } from '../../lib/data/known.ts';
import { asOutput, checkSection, close, figures, output, paperUpstream, refsOf, runStage } from '../helpers/stages.ts';
import { tinyInputs } from '../helpers/tiny.ts';

describe.skipIf(!PAPER_WEIGHTS)('decomposition stage on the shipped weights (the independent figures)', () => {
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
    const ids = ['carrier_logit', 'pattern_logit', 'total_logit'];
    checkSection(part, ['pos29_decomposition'], [...ids.map((k) => `decomposition.pos29.${k}`), ...ids.map((k) => `pos29_${k}`)]);
    for (const t of part.tables) {
      expect(t.convention).toBe('state offsets');
      expect(resolveTable(t, figures as PaperFigures).rowStatus.some((s) => s !== '')).toBe(true);
    }
    expect(refsOf(part)).toEqual(expect.arrayContaining(['decomposition.pos29.carrier_fraction', 'decomposition.pos29.top_unit']));
    const m = Object.fromEntries(part.metrics.map((x) => [x.id, resolveMetric(x, figures as PaperFigures)]));
    expect(m['decomposition.pos29.total_logit'].value).toBeCloseTo(j.totalLogit, 14);
    // the id before the rename stays, marked as an alias, with the same value and paper figure
    expect(m.pos29_total_logit).toMatchObject({ value: m['decomposition.pos29.total_logit'].value, aliasOf: 'decomposition.pos29.total_logit', paper: '18.76' });
  });
});

describe('decomposition stage on a tiny model', () => {
  const inputs = tinyInputs();
  it('adds carrier and pattern logits up to the model logit; off the paper\'s position its ids say the position and every paper cell is not comparable', async () => {
    const dec = (await runStage(decomposition, inputs, { position: 40 })).json as any;
    expect(dec.position).toBe(40);
    expect(Math.abs(dec.carrierLogit + dec.patternLogit - dec.actualLogit)).toBeLessThan(1e-12);
    const part = decompositionSection.build({ decomposition: output(dec) });
    expect(part.metrics.filter((m) => !m.aliasOf).map((m) => m.id)).toEqual(['decomposition.pos40.carrier_logit', 'decomposition.pos40.pattern_logit', 'decomposition.pos40.total_logit']);
    const ctx = { setting: { model: { source: 'import', H: 128 }, data: { bytes: 1024, sha256: ENWIK9_PREFIX_SHA256[1024] }, overrides: { decomposition: { position: 40 } } } };
    const t = resolveTable(part.tables[0], figures as PaperFigures, ctx);
    const cmps = t.rows.flatMap((r) => Object.values(r)).filter((c): c is any => !!c && typeof c === 'object' && (c as any).ref);
    expect(cmps.length).toBeGreaterThan(3);
    for (const c of cmps) expect(c.status).toBe('n/c');
    expect(cmps[0].why).toBe("not comparable: decomposition.position = 40, the paper's figure is for 29");
    expect(resolveMetric(part.metrics[0], figures as PaperFigures, ctx).status).toBe('n/c');
  });
  it('refuses a position with no next byte, saying which setting to change', async () => {
    await expect(runStage(decomposition, inputs, { position: 79 })).rejects.toThrow(/position must be ≤ N - 2 = 78.*\n.*hint: set decomposition.position/s);
  });
});
