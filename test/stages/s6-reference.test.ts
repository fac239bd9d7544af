// The §6.2 stages on the shipped weights: what docs/definitions.md §6.2 and §6.3 say they must give there.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import timingCarrier from '../../stages/timing-carrier.ts';
import patternTables from '../../stages/pattern-tables.ts';
import { describeFull, sizeOf } from '../../lib/analysis/describe.ts';
import { rebuildFull } from '../../lib/analysis/rebuild.ts';
import { evalBpc } from '../../lib/rnn/train.ts';
import { checkOutput, loadSchemas, resolveParams } from '../../lib/engine/params.ts';
import type { StageDef, StageOutput } from '../../lib/engine/types.ts';
import { forwardTrace, mean } from '../../lib/rnn/forward.ts';
import { parseWeightsFile } from '../../lib/rnn/weights.ts';
import { REF_WEIGHTS, refBytes } from '../rnn/helpers.ts';
import { ctx } from '../rnn/stage-ctx.ts';
import { upstream } from '../helpers/stages.ts';

// Skipped where this machine has no copy of the paper's weights (test/helpers/reference.ts).
const w = REF_WEIGHTS ? parseWeightsFile(new Uint8Array(readFileSync(REF_WEIGHTS))) : null!;
const xs = refBytes();

async function run(def: StageDef, inputs: Record<string, StageOutput>): Promise<any> {
  const schemas = loadSchemas('schemas', def.name);
  const res = await def.run(ctx(resolveParams(def.name, schemas.params, {}), inputs));
  expect(checkOutput(def.name, schemas.output, res.json, 'write')).toBeNull();
  return res.json;
}

describe.skipIf(!REF_WEIGHTS)('§6.2 on the shipped weights', () => {
  const out: Record<string, any> = {};
  beforeAll(async () => {
    const tr = forwardTrace(w, xs);
    const inputs = upstream(w, xs);
    out.tc = await run(timingCarrier, inputs);
    out.pt = await run(patternTables, inputs);
    out.trained = mean(tr.bits);
  }, 30_000);

  it('the pattern tables are for the units the paper names: h8, h68, h16, h52, h112 (docs/definitions.md §6.2)', () => {
    expect(out.pt.units.map((u: any) => u.unit)).toEqual([8, 68, 16, 52, 112]);
  });

  it('finer cells never lower the in-sample carrier R² (nested feature sets)', () => {
    const r2 = Object.fromEntries(out.tc.rows.map((r: any) => [r.set, r.carrierR2]));
    for (const [a, b] of [['none', 'wl'], ['wl', 'wl+tag'], ['wl+tag', 'wl+tag+x1'], ['none', 'x1'], ['x1', 'x1+x2'], ['x1', 'wl+tag+x1']]) {
      expect(r2[b], `${a} ⊂ ${b}`).toBeGreaterThanOrEqual(r2[a] - 1e-12);
    }
    // the wl+tag table accuracy is the wl+tag sign agreement, by definition (S' = tanh(ĉ + Wx))
    expect(out.pt.meanAccuracy).toBeCloseTo(out.tc.rows[2].signAgreement, 12);
  });

  it('the full description written back gives trained_bpc 0.079201 (the cross-check figures (docs/definitions.md §V)) to 1e-6', () => {
    const back = rebuildFull(JSON.parse(sizeOf(describeFull(w)).text));
    expect(Math.abs(evalBpc(back.params, back.H, xs, 1e-8) - out.trained)).toBeLessThan(1e-6);
    expect(Math.abs(out.trained - 0.079201)).toBeLessThan(5e-7);
  });
});
