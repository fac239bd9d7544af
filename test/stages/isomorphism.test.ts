// The isomorphism stage (§3.1) run as the engine runs it, on the paper's weights.
import { describe, expect, it } from 'vitest';
import isomorphism from '../../stages/isomorphism.ts';
import * as isoSection from '../../lib/report/sections/isomorphism.ts';
import { PAPER_WEIGHTS } from '../helpers/reference.ts';
import { asOutput, checkSection, paperUpstream, runStage } from '../helpers/stages.ts';

describe.skipIf(!PAPER_WEIGHTS)('isomorphism stage on the paper weights', () => {
  it('the UM gives the RNN bpc, and the report section has its table and metrics', async () => {
    const out = await runStage(isomorphism, paperUpstream());
    const j = out.json as any;
    expect(Math.abs(j.umBpc / 0.079201 - 1)).toBeLessThan(1e-4);
    expect(Math.abs(j.rnnBpc / 0.079201 - 1)).toBeLessThan(1e-4);
    expect(j.maxStateDiff).toBeLessThan(2e-3);
    const part = isoSection.build({ isomorphism: asOutput(out, 'kiso') });
    checkSection(part, ['isomorphism'], ['trained_bpc', 'um_bpc', 'um_rnn_max_state_diff']);
  });
});
