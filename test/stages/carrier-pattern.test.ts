// The carrier-pattern stage (§5.2, Table 2) run as the engine runs it: the cross-check figures (docs/definitions.md §V) on the
// paper's weights, invariants on a tiny model.
import { describe, expect, it } from 'vitest';
import carrierPattern from '../../stages/carrier-pattern.ts';
import * as carrierSection from '../../lib/report/sections/carrier-pattern.ts';
import { resolveTable, type PaperFigures } from '../../lib/report/compare.ts';
import { PAPER_WEIGHTS } from '../helpers/reference.ts';
import { asOutput, checkSection, close, figures, paperUpstream, refsOf, runStage } from '../helpers/stages.ts';
import { TINY_H, tinyInputs } from '../helpers/tiny.ts';

describe.skipIf(!PAPER_WEIGHTS)('carrier-pattern stage on the shipped weights (the cross-check figures (docs/definitions.md §V))', () => {
  it('gives Table 2: 17.838 PS units, carrier-only 0.33051 bpc, gain 0.25130, and its report section', async () => {
    const out = await runStage(carrierPattern, paperUpstream());
    const j = out.json as any;
    expect(j.positions).toEqual({ first: 0, last: 1022, count: 1023 });
    close(j.psPerPosition, 17.838, 3);
    expect(Math.abs(j.carrierOnlyBpc - 0.33051) / 0.33051).toBeLessThan(1e-4);
    expect(Math.abs(j.patternGain - 0.2513) / 0.2513).toBeLessThan(1e-4);
    expect(Math.abs(j.actualBpc - 0.079201) / 0.079201).toBeLessThan(1e-4);
    expect(j.byteIdentityFraction).toBeCloseTo(j.patternGain / j.carrierOnlyBpc, 14);
    expect(j.psCountPerUnit.reduce((a: number, b: number) => a + b, 0) / 1023).toBeCloseTo(j.psPerPosition, 12);
    expect(j.topUnits[0].unit).toBe(8);

    const part = carrierSection.build({ 'carrier-pattern': asOutput(out) });
    checkSection(part, ['table2_carrier_pattern'], ['ps_per_position', 'carrier_only_bpc', 'pattern_gain_bpc', 'byte_identity_fraction']);
    for (const t of part.tables) expect(resolveTable(t, figures as PaperFigures).rowStatus.some((s) => s !== '')).toBe(true);
    expect(refsOf(part)).toEqual(expect.arrayContaining(['ps_per_position', 'ps_top.h8', 'actual_bpc_5']));
  });
});

describe('carrier-pattern stage on a tiny model', () => {
  it('splits H units into PS and carrier, and gain = carrier-only - actual', async () => {
    const cp = (await runStage(carrierPattern, tinyInputs())).json as any;
    expect(cp.psPerPosition + cp.carrierPerPosition).toBeCloseTo(TINY_H, 12);
    expect(cp.patternGain).toBeCloseTo(cp.carrierOnlyBpc - cp.actualBpc, 14);
  });
});
