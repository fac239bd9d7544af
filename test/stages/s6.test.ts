// The §6.2 stages end to end on a tiny synthetic model and data, run as the engine runs
// them (schema defaults, output schemas checked), and their report sections and plots.
import { beforeAll, describe, expect, it } from 'vitest';
import timingCarrier from '../../stages/timing-carrier.ts';
import patternTables from '../../stages/pattern-tables.ts';
import describeStage from '../../stages/describe.ts';
import rebuild from '../../stages/rebuild.ts';
import * as tcSection from '../../lib/report/sections/timing-carrier.ts';
import * as ptSection from '../../lib/report/sections/pattern-tables.ts';
import * as rbSection from '../../lib/report/sections/rebuild.ts';
import { rebuildSizeSpec, renderS6Plots, unitR2Spec } from '../../lib/report/plots-s6.ts';
import { checkOutput, loadSchemas, resolveParams } from '../../lib/engine/params.ts';
import type { StageDef, StageOutput } from '../../lib/engine/types.ts';
import { forwardTrace, mean } from '../../lib/rnn/forward.ts';
import { paramCount, weightsFrom, type Weights } from '../../lib/rnn/weights.ts';
import { randomFill } from '../rnn/helpers.ts';
import { ctx, dataOutput, output } from '../rnn/stage-ctx.ts';

function upstream(w: Weights, xs: Uint8Array): Record<string, StageOutput> {
  const tr = forwardTrace(w, xs);
  return {
    model: output({ H: w.H }, { params: { dtype: 'float32', shape: [w.params.length], data: w.params } }),
    data: dataOutput(xs),
    trace: output({ H: w.H, bpc: mean(tr.bits) }, {
      z: { dtype: 'float32', shape: [tr.T, w.H], data: tr.z },
      S: { dtype: 'float32', shape: [tr.T, w.H], data: tr.S },
      logp: { dtype: 'float64', shape: [tr.T, 256], data: tr.logp },
      bits: { dtype: 'float64', shape: [tr.T - 1], data: tr.bits },
    }),
  };
}

async function run(def: StageDef, inputs: Record<string, StageOutput>, overrides: Record<string, unknown> = {}): Promise<StageOutput> {
  const schemas = loadSchemas('schemas', def.name);
  const res = await def.run(ctx(resolveParams(def.name, schemas.params, overrides), inputs));
  expect(checkOutput(def.name, schemas.output, res.json, 'write')).toBeNull();
  return output(res.json, res.tensors ?? {});
}

const SETS = ['none', 'wl', 'wl_tag', 'wl_tag_x1', 'x1', 'x1_x2'];

describe('§6.2 stages on a tiny model (H = 24)', () => {
  const H = 24;
  const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 31, 0.6), H);
  const xs = new TextEncoder().encode('<page>\n  <title>A tiny page</title>\n  <id>7</id>\n  <text>some words, some more words</text>\n</page>\n'.repeat(2));
  const inputs = upstream(w, xs);
  beforeAll(async () => {
    inputs['timing-carrier'] = await run(timingCarrier, inputs);
    inputs['pattern-tables'] = await run(patternTables, inputs);
    inputs.describe = await run(describeStage, inputs, { classes: 4 });
    inputs.rebuild = await run(rebuild, { describe: inputs.describe, data: inputs.data }, { readoutSteps: 20 });
  }, 30_000);

  it('rebuild of full gives the trained bpc to 1e-6, marginal the unigram entropy', () => {
    const lv = Object.fromEntries(inputs.rebuild.json.levels.map((l: any) => [l.level, l]));
    expect(Math.abs(lv.full.bpc - inputs.trace.json.bpc)).toBeLessThan(1e-6);
    expect(Math.abs(lv.marginal.bpc - inputs.rebuild.json.unigramEntropy)).toBeLessThan(1e-6);
    expect(lv.full.numbers).toBe(paramCount(H));
    expect(lv.marginal.numbers).toBe(0);
  });

  it('describe writes one rule level per feature set that fits in H, and skips the ones that do not', async () => {
    expect(inputs.describe.json.levels.map((l: any) => l.level)).toEqual(['marginal', ...SETS.map((s) => `rules_${s}`), 'full']);
    const big = await run(describeStage, inputs, { classes: 9 }); // wl+tag+x1 needs 15 + 1 + 9 = 25 > 24 units, x1+x2 18
    expect(big.json.levels.map((l: any) => l.level)).not.toContain('rules_wl_tag_x1');
    expect(big.json.levels.map((l: any) => l.level)).toContain('rules_x1_x2');
  });

  it('the report sections give every SPEC §6.1-6.3 metric id and the tables', () => {
    const parts = [tcSection.build(inputs), ptSection.build(inputs), rbSection.build(inputs)];
    const ids = new Set(parts.flatMap((p) => p.metrics.map((m) => m.id)));
    for (const s of SETS) for (const k of ['cells', 'carrier_r2', 'sign_agreement', 'bpc', 'x', 'heldout_bpc', 'heldout_sign_agreement']) expect(ids).toContain(`timing_carrier.${s}.${k}`);
    const units = inputs['pattern-tables'].json.units.map((u: any) => u.unit);
    expect(units).toHaveLength(5);
    for (const u of units) expect(ids).toContain(`pattern_table.h${u}.accuracy`);
    expect(ids).toContain('pattern_table.mean_accuracy');
    for (const l of inputs.rebuild.json.levels) for (const k of ['bpc', 'x', 'size_bytes', 'numbers']) expect(ids).toContain(`rebuild.${l.level}.${k}`);
    for (const t of parts.flatMap((p) => p.tables)) expect(t.provenance?.stage, t.id).toBeDefined();
    const tables = parts.flatMap((p) => p.tables.map((t) => t.id));
    expect(tables).toEqual(['timing_carrier', ...units.map((u: number) => `pattern_table_h${u}`), 'rebuild', 'answers_6_2']);
    // the answers are sentences with this model's numbers in them
    const answers = parts[2].tables[1].rows.map((r) => String(r.a));
    expect(answers[0]).toContain(inputs['timing-carrier'].json.rows[2].carrierR2.toFixed(3));
    expect(answers[2]).toContain(inputs.rebuild.json.unigramEntropy.toFixed(4));
  });

  it('bad input: describe on analyses of another model, rebuild without a description, too little data', async () => {
    const other = weightsFrom(randomFill(new Float32Array(paramCount(8)), 1, 0.5), 8);
    const mixed = { ...inputs, model: upstream(other, xs).model };
    await expect(run(describeStage, mixed)).rejects.toThrow(/do not match the model \(H=8\)[\s\S]*hint: re-run them on the same model and data/);
    const noTensor = output(inputs.describe.json, {});
    await expect(run(rebuild, { describe: noTensor, data: inputs.data })).rejects.toThrow(/describe has no tensor desc_marginal/);
    await expect(run(timingCarrier, upstream(w, xs.subarray(0, 2)))).rejects.toThrow(/need at least 3 bytes, got 2/);
  });

  it('plots: bpc against size and per-unit R² render; empty input says no data', async () => {
    const plots = await renderS6Plots(inputs);
    expect(plots.map((p) => p.file)).toEqual(['plots/rebuild-size.svg', 'plots/carrier-r2-per-unit.svg']);
    for (const p of plots) expect(p.svg).toMatch(/^<svg/);
    expect(JSON.stringify(rebuildSizeSpec([], 1, 4))).toContain('no data');
    expect(JSON.stringify(unitR2Spec('wl', [NaN]))).toContain('1 non-finite entries dropped');
  }, 30_000);
});
