// The boolean stage (§3.2) run as the engine runs it, on the paper's weights.
import { describe, expect, it } from 'vitest';
import boolean from '../../stages/boolean.ts';
import * as boolSection from '../../lib/report/sections/boolean.ts';
import { PAPER_WEIGHTS } from '../helpers/reference.ts';
import { asOutput, checkSection, paperUpstream, runStage } from '../helpers/stages.ts';

describe.skipIf(!PAPER_WEIGHTS)('boolean stage on the paper weights', () => {
  it('gives the margins and the sign readout, and its report section', async () => {
    const out = await runStage(boolean, paperUpstream());
    const j = out.json as any;
    expect(j.meanAbsZ).toBeCloseTo(1.3068, 4);
    expect(j.fracAbove).toBeCloseTo(0.4758, 4);
    expect(Math.abs(j.signReadoutBpc / 0.1294 - 1)).toBeLessThan(5e-4);
    expect(j.histogram.counts.reduce((a: number, b: number) => a + b, 0)).toBe(128 * 1023);
    const part = boolSection.build({ boolean: asOutput(out, 'kbool') });
    checkSection(part, ['boolean'], ['mean_abs_preactivation', 'frac_margin_gt_1', 'sign_readout_bpc', 'sign_dynamics_bpc']);
  });
});
