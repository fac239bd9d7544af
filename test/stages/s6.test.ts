// The §6.2 stages end to end on a tiny synthetic model and data, run as the engine runs
// them (schema defaults, output schemas checked), and their report sections and plots.
import { beforeAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import timingCarrier from '../../stages/timing-carrier.ts';
import patternTables from '../../stages/pattern-tables.ts';
import describeStage from '../../stages/describe.ts';
import rebuild from '../../stages/rebuild.ts';
import rebuildScore from '../../stages/rebuild-score.ts';
import skipgrams from '../../stages/skipgrams.ts';
import construction from '../../stages/construction.ts';
import reverseIso from '../../stages/reverse-iso.ts';
import kn from '../../stages/kn.ts';
import * as tcSection from '../../lib/report/sections/timing-carrier.ts';
import * as ptSection from '../../lib/report/sections/pattern-tables.ts';
import * as rbSection from '../../lib/report/sections/rebuild.ts';
import { rebuildBitsSpec, renderS6Plots, unitR2Spec } from '../../lib/report/plots-s6.ts';
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
      lpNext: { dtype: 'float64', shape: [tr.lpNext.length], data: tr.lpNext },
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
  const heldout = new TextEncoder().encode('<page>\n  <title>Another page</title>\n  <text>other words here</text>\n</page>\n');
  const inputs = upstream(w, xs);
  // the data stage's held-out text rides beside the training bytes
  inputs.data.tensors.heldout = { dtype: 'uint8', shape: [heldout.length], data: heldout };
  beforeAll(async () => {
    inputs['timing-carrier'] = await run(timingCarrier, inputs);
    inputs['pattern-tables'] = await run(patternTables, inputs);
    inputs.skipgrams = await run(skipgrams, inputs, { maxOffset: 12 });
    inputs.construction = await run(construction, inputs, { steps: 30, decayAt: [] });
    inputs['reverse-iso'] = await run(reverseIso, inputs, { steps: 30 });
    inputs.kn = await run(kn, inputs, { maxOrder: 3 });
    inputs.describe = await run(describeStage, inputs, { classes: 4, fitSteps: 10, cellsFit: true });
    inputs.rebuild = await run(rebuild, { describe: inputs.describe });
    inputs['rebuild-score'] = await run(rebuildScore, inputs);
  }, 60_000);

  it('rebuild of full gives the trained bpc to 1e-6 and kl_train 0, marginal the unigram entropy', () => {
    const sc = inputs['rebuild-score'].json;
    const lv = Object.fromEntries(sc.levels.map((l: any) => [l.level, l]));
    expect(Math.abs(lv.full.bpc - inputs.trace.json.bpc)).toBeLessThan(1e-6);
    expect(lv.full.klTrain).toBeLessThan(1e-6);
    expect(lv.full.signTrain).toBe(1);
    expect(lv.full.heldoutBpc).toBeCloseTo(sc.trainedHeldoutBpc, 9);
    expect(Math.abs(lv.marginal.bpc - sc.unigramEntropy)).toBeLessThan(1e-6);
    expect(lv.marginal.signTrain).toBeNull();
    expect(lv.full.numbers).toBe(paramCount(H));
    // rule levels keep units one to one: their sign agreement is defined
    for (const l of sc.levels.filter((l: any) => l.set)) expect(l.signTrain).toBeGreaterThan(0);
  });

  it('above maxPositions every model is scored on the same evenly spread blocks of positions, stated in the output and the table', async () => {
    const sc = (await run(rebuildScore, inputs, { maxPositions: 64, blockLength: 16 })).json;
    const P = xs.length - 1;
    expect(sc.scoreSample).toEqual({ sampled: true, count: 64, of: P, blocks: 4, blockLength: 16, maxPositions: 64 });
    expect(sc.heldoutSample).toEqual({ sampled: true, count: 64, of: heldout.length - 1, blocks: 4, blockLength: 16, maxPositions: 64 });
    const at = [0, 1, 2, 3].flatMap((i) => Array.from({ length: 16 }, (_, k) => Math.round((i * (P - 16)) / 3) + k));
    const bits = inputs.trace.tensors.bits.data as Float64Array;
    expect(sc.trainedBpc).toBe(mean(Float64Array.from(at, (t) => bits[t])));
    const lv = Object.fromEntries(sc.levels.map((l: any) => [l.level, l]));
    expect(Math.abs(lv.full.bpc - sc.trainedBpc)).toBeLessThan(1e-6);
    expect(lv.full.klTrain).toBeLessThan(1e-6);
    expect(lv.full.heldoutBpc).toBeCloseTo(sc.trainedHeldoutBpc, 9);
    const table = rbSection.build({ ...inputs, 'rebuild-score': output(sc) }).tables!.find((t) => t.id === 'rebuild')!;
    expect(table.positions).toContain(`scored on 64 of them in 4 evenly spread blocks of 16`);
    const full = inputs['rebuild-score'].json;
    expect([full.scoreSample.sampled, full.heldoutSample.sampled]).toEqual([false, false]);
  });

  it('the references are the training text as its own description, and worth_bits compares with them', () => {
    const sc = inputs['rebuild-score'].json;
    expect(sc.refs.map((r: any) => r.name)).toEqual(['construction', 'reverse_iso', 'kn']);
    for (const r of sc.refs) {
      expect(r.bits).toBe(8 * gzipSync(xs, { level: 9 }).length);
      expect(r.bytes).toBe(xs.length);
      if (r.name === 'kn') expect([r.bpc, r.klTrain, r.heldoutBpc]).toEqual([null, null, inputs.kn.json.best.heldout_bpc]);
      else expect(Number.isFinite(r.bpc) && Number.isFinite(r.heldoutBpc) && r.klTrain > 0).toBe(true);
    }
    for (const l of sc.levels) {
      const beaten = sc.refs.some((r: any) => r.bits <= l.bits && r.bpc <= l.bpc);
      expect(l.worthBits, l.level).toBe(beaten ? 0 : 1);
    }
    expect(sc.levels.find((l: any) => l.level === 'full').worthBits).toBe(sc.refs.every((r: any) => r.bpc > inputs.trace.json.bpc) ? 1 : 0);
  });

  it('describe writes three rule levels per feature set that fits in H (model readout, fitted readout, linear form), and skips the ones that do not', async () => {
    expect(inputs.describe.json.levels.map((l: any) => l.level)).toEqual(['marginal', ...SETS.flatMap((s) => [`rules_${s}`, `rules_${s}_fit`, `rules_${s}_linear`]), 'full']);
    const big = await run(describeStage, inputs, { classes: 9 }); // wl+tag+x1 needs 15 + 1 + 9 = 25 > 24 units, x1+x2 18
    expect(big.json.levels.map((l: any) => l.level)).not.toContain('rules_wl_tag_x1');
    for (const l of inputs.describe.json.levels) expect(l.bits % 8 === 0 && l.bits < 8 * l.bytes).toBe(true);
    expect(big.json.levels.map((l: any) => l.level)).toContain('rules_x1_x2');
  });

  it('the report sections give every §6.1-6.3 metric id and the tables', () => {
    const parts = [tcSection.build(inputs), ptSection.build(inputs), rbSection.build(inputs)];
    const ids = new Set(parts.flatMap((p) => p.metrics.map((m) => m.id)));
    for (const s of SETS) for (const k of ['cells', 'carrier_r2', 'sign_agreement', 'bpc', 'x', 'heldout_bpc', 'heldout_sign_agreement']) expect(ids).toContain(`timing_carrier.${s}.${k}`);
    const units = inputs['pattern-tables'].json.units.map((u: any) => u.unit);
    expect(units).toHaveLength(5);
    for (const u of units) expect(ids).toContain(`pattern_table.h${u}.accuracy`);
    expect(ids).toContain('pattern_table.mean_accuracy');
    for (const l of inputs.rebuild.json.levels) {
      for (const k of ['bpc', 'x', 'size_bytes', 'numbers', 'bits', 'kl_train', 'heldout_bpc', 'worth_bits']) expect(ids).toContain(`rebuild.${l.level}.${k}`);
      expect(ids.has(`rebuild.${l.level}.sign_train`)).toBe(l.level !== 'marginal');
    }
    for (const r of ['ref_construction', 'ref_reverse_iso']) {
      for (const k of ['bpc', 'x', 'size_bytes', 'numbers', 'bits', 'kl_train', 'heldout_bpc']) expect(ids).toContain(`rebuild.${r}.${k}`);
      expect(ids).not.toContain(`rebuild.${r}.sign_train`);
    }
    expect([...ids].filter((id) => id.startsWith('rebuild.ref_kn.'))).toEqual(['rebuild.ref_kn.heldout_bpc']);
    expect(ids).toContain('rebuild.trained.heldout_bpc');
    for (const t of parts.flatMap((p) => p.tables)) expect(t.provenance?.stage, t.id).toBeDefined();
    const tables = parts.flatMap((p) => p.tables.map((t) => t.id));
    expect(tables).toEqual(['timing_carrier', ...units.map((u: number) => `pattern_table_h${u}`), 'rebuild', 'answers_6_2']);
    // the answers are sentences with this model's numbers in them
    const answers = parts[2].tables[1].rows.map((r) => String(r.a));
    expect(answers[0]).toContain(inputs['timing-carrier'].json.rows[2].carrierR2.toFixed(3));
    expect(answers[2]).toContain(inputs['rebuild-score'].json.unigramEntropy.toFixed(4));
    expect(answers[2]).toMatch(/Worth their bits \(no reference has both no more bits and no higher bpc\): /);
    // the table marks the reference rows and ends with the trained model
    const rows = parts[2].tables[0].rows.map((r) => String(r.level));
    expect(rows.slice(-4)).toEqual(['ref_construction (reference)', 'ref_reverse_iso (reference)', 'ref_kn (reference)', 'trained model']);
  });

  it('bad input: describe on analyses of another model, rebuild without a description or with a broken one, too little data', async () => {
    const other = weightsFrom(randomFill(new Float32Array(paramCount(8)), 1, 0.5), 8);
    const mixed = { ...inputs, model: upstream(other, xs).model };
    await expect(run(describeStage, mixed)).rejects.toThrow(/do not match the model \(H=8\)[\s\S]*hint: re-run them on the same model and data/);
    const noTensor = output(inputs.describe.json, {});
    await expect(run(rebuild, { describe: noTensor })).rejects.toThrow(/describe has no tensor desc_marginal/);
    const broken = output(inputs.describe.json, { ...inputs.describe.tensors, desc_full: { dtype: 'uint8', shape: [3], data: new TextEncoder().encode('{"h') } });
    await expect(run(rebuild, { describe: broken })).rejects.toThrow(/description full: not valid JSON[\s\S]*\nhint: /);
    await expect(run(timingCarrier, upstream(w, xs.subarray(0, 2)))).rejects.toThrow(/need at least 3 bytes, got 2/);
  });

  it('plots: bpc against bits with the references marked, and per-unit R², render; empty input says no data', async () => {
    const plots = await renderS6Plots(inputs);
    expect(plots.map((p) => p.file)).toEqual(['plots/rebuild-bits.svg', 'plots/carrier-r2-per-unit.svg']);
    for (const p of plots) expect(p.svg).toMatch(/^<svg/);
    expect(plots[0].svg).toContain('ref_reverse_iso');
    expect(plots[0].svg).toContain('trained');
    expect(JSON.stringify(rebuildBitsSpec([], [], 1))).toContain('no data');
    expect(JSON.stringify(unitR2Spec('wl', [NaN]))).toContain('1 non-finite entries dropped');
  }, 30_000);
});
