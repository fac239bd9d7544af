import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import carrierPattern from '../../stages/carrier-pattern.ts';
import influence from '../../stages/influence.ts';
import decomposition from '../../stages/decomposition.ts';
import baselines from '../../stages/baselines.ts';
import * as carrierSection from '../../lib/report/sections/carrier-pattern.ts';
import * as influenceSection from '../../lib/report/sections/influence.ts';
import * as decompositionSection from '../../lib/report/sections/decomposition.ts';
import * as baselinesSection from '../../lib/report/sections/baselines.ts';
import { checkOutput, loadSchemas, resolveParams } from '../../lib/engine/params.ts';
import { resolveMetric, resolveTable, type PaperFigures } from '../../lib/report/compare.ts';
import figures from '../../lib/report/paper-figures.json' with { type: 'json' };
import type { StageDef, StageOutput, StageResult } from '../../lib/engine/types.ts';
import { forwardTrace } from '../../lib/rnn/forward.ts';
import { paramCount, parseWeightsFile, weightsFrom, type Weights } from '../../lib/rnn/weights.ts';
import { REF_WEIGHTS, randomBytes, randomFill, refBytes } from '../rnn/helpers.ts';
import { ctx, dataOutput, output } from '../rnn/stage-ctx.ts';

const STAGES = { 'carrier-pattern': carrierPattern, influence, decomposition, baselines } as Record<string, StageDef>;

/** model, data and trace outputs for weights w on bytes xs. */
function upstream(w: Weights, xs: Uint8Array): Record<string, StageOutput> {
  const tr = forwardTrace(w, xs);
  return {
    model: output({ H: w.H }, { params: { dtype: 'float32', shape: [w.params.length], data: w.params } }),
    data: dataOutput(xs),
    trace: output({ H: w.H }, {
      z: { dtype: 'float32', shape: [tr.T, w.H], data: tr.z },
      S: { dtype: 'float32', shape: [tr.T, w.H], data: tr.S },
      logp: { dtype: 'float64', shape: [tr.T, 256], data: tr.logp },
      bits: { dtype: 'float64', shape: [tr.T - 1], data: tr.bits },
    }),
  };
}

/** Run a stage as the engine does: params from its schema's defaults plus overrides; output checked against its schema. */
async function runStage(name: string, inputs: Record<string, StageOutput>, overrides: Record<string, unknown> = {}): Promise<StageResult> {
  const schemas = loadSchemas('schemas', name);
  const res = await STAGES[name].run(ctx(resolveParams(name, schemas.params, overrides), inputs));
  expect(checkOutput(name, schemas.output, res.json, 'write')).toBeNull();
  for (const t of STAGES[name].tensors ?? []) expect(res.tensors?.[t], `tensor ${t}`).toBeDefined();
  return res;
}

const close = (ours: number, spec: number, printedDecimals: number) =>
  expect(Math.abs(ours - spec), `ours ${ours} vs SPEC §V ${spec}`).toBeLessThanOrEqual(0.5 * 10 ** -printedDecimals + 1e-12);

describe('§5 stages on the shipped weights (SPEC §V)', () => {
  const out: Record<string, StageOutput> = {};
  beforeAll(async () => {
    const inputs = upstream(parseWeightsFile(new Uint8Array(readFileSync(REF_WEIGHTS))), refBytes());
    for (const name of Object.keys(STAGES)) {
      const r = await runStage(name, inputs);
      out[name] = output(r.json, r.tensors ?? {});
    }
  }, 30_000);

  it('carrier-pattern gives Table 2: 17.838 PS units, carrier-only 0.33051 bpc, gain 0.25130', () => {
    const j = out['carrier-pattern'].json;
    expect(j.positions).toEqual({ first: 0, last: 1022, count: 1023 });
    close(j.psPerPosition, 17.838, 3);
    expect(Math.abs(j.carrierOnlyBpc - 0.33051) / 0.33051).toBeLessThan(1e-4);
    expect(Math.abs(j.patternGain - 0.2513) / 0.2513).toBeLessThan(1e-4);
    expect(Math.abs(j.actualBpc - 0.079201) / 0.079201).toBeLessThan(1e-4);
    expect(j.byteIdentityFraction).toBeCloseTo(j.patternGain / j.carrierOnlyBpc, 14);
    expect(j.psCountPerUnit.reduce((a: number, b: number) => a + b, 0) / 1023).toBeCloseTo(j.psPerPosition, 12);
    expect(j.topUnits[0].unit).toBe(8);
  });

  it('influence gives Table 3 rows d = 0 (1.7497, 1.8205, 4.854) and d = 1 (0.7814, 1.1898, 5.916) over 972 positions', () => {
    const j = out.influence.json;
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
    expect(out.influence.tensors.influence.shape).toEqual([972, 50]);
  });

  it("decomposition at t = 29 gives 16.459 + 2.3804 = 18.839, top unit h8 at +1.749, 'm' -> 'e'", () => {
    const j = out.decomposition.json;
    expect([j.byte.char, j.target.char]).toEqual(['m', 'e']);
    close(j.carrierLogit, 16.459, 3);
    close(j.patternLogit, 2.3804, 4);
    close(j.totalLogit, 18.839, 3);
    expect(Math.abs(j.totalLogit - j.actualLogit)).toBeLessThan(1e-12);
    expect(j.topUnits[0].unit).toBe(8);
    close(j.topUnits[0].contribution, 1.749, 3);
  });

  it('baselines give ablation d = 1 (0.2030, 0.2097) and decisive depth 1 / 3 (0.1623 / 0.0091)', () => {
    const j = out.baselines.json;
    close(j.ablation.mean[1], 0.203, 4);
    close(j.ablation.meanAbs[1], 0.2097, 4);
    close(j.decisive.reach[0], 0.1623, 4);
    close(j.decisive.reach[2], 0.0091, 4);
    expect(j.decisive.reach.length).toBe(8);
    const norm = j.gradient.normalized.reduce((a: number, b: number) => a + b, 0);
    expect(norm).toBeCloseTo(1, 12);
  });

  it('report sections give the four tables and the eleven metrics, every paper reference resolving', () => {
    const parts = [carrierSection, influenceSection, decompositionSection, baselinesSection].map((s) => s.build(out));
    const tables = parts.flatMap((p) => p.tables);
    const metrics = parts.flatMap((p) => p.metrics);
    expect(tables.map((t) => t.id)).toEqual(['table2_carrier_pattern', 'table3_influence', 'pos29_decomposition', 'baselines_5_1']);
    expect(metrics.map((m) => m.id).sort()).toEqual(
      ['ps_per_position', 'carrier_only_bpc', 'pattern_gain_bpc', 'byte_identity_fraction', 'pos29_carrier_logit', 'pos29_pattern_logit', 'pos29_total_logit', 'ablation_d1_bits', 'ablation_d28_bits', 'decisive_d1', 'decisive_d3'].sort(),
    );
    for (const t of tables) {
      expect(t.provenance).toEqual({ stage: expect.any(String), key: 'k' });
      expect(t.positions.length).toBeGreaterThan(0);
      const r = resolveTable(t, figures as PaperFigures); // throws on an unknown reference
      expect(r.rowStatus.some((s) => s !== '')).toBe(true);
    }
    for (const t of tables.filter((t) => t.id !== 'table2_carrier_pattern')) expect(t.convention).toBe('state offsets');
    const refs = tables.flatMap((t) => t.rows.flatMap((r) => Object.values(r).flatMap((c) => (c && typeof c === 'object' && c.ref ? [c.ref] : []))));
    for (const k of ['ps_per_position', 'ps_top.h8', 'table3.d0.signed', 'table3.d20-49.unsigned', 'pos29_carrier_fraction', 'pos29_top_unit', 'ablation_d1_bits', 'ablation_d28_bits', 'decisive_d3', 'actual_bpc_5']) {
      expect(refs, k).toContain(k);
    }
    const m = Object.fromEntries(metrics.map((x) => [x.id, resolveMetric(x, figures as PaperFigures)]));
    expect(m.decisive_d1.status).toBe('✘'); // 0.1623 against the paper's 67%
    expect(m.pos29_total_logit.value).toBeCloseTo(out.decomposition.json.totalLogit, 14);
  });
});

describe('§5 stages on a tiny model', () => {
  const H = 5;
  const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 81, 1), H);
  const inputs = upstream(w, randomBytes(80, 82));

  it('run with small offsets and keep their invariants', async () => {
    const cp = (await runStage('carrier-pattern', inputs)).json as any;
    expect(cp.psPerPosition + cp.carrierPerPosition).toBeCloseTo(H, 12);
    expect(cp.patternGain).toBeCloseTo(cp.carrierOnlyBpc - cp.actualBpc, 14);
    const inf = (await runStage('influence', inputs, { maxOffset: 6, firstT: 10 })).json as any;
    expect([inf.firstT, inf.lastT, inf.count, inf.rows.length, inf.bands.length]).toEqual([10, 77, 68, 6, 1]);
    expect(inf.bands[0]).toMatchObject({ from: 5, to: 5 });
    const dec = (await runStage('decomposition', inputs, { position: 40 })).json as any;
    expect(dec.position).toBe(40);
    expect(Math.abs(dec.carrierLogit + dec.patternLogit - dec.actualLogit)).toBeLessThan(1e-12);
    const bl = await runStage('baselines', inputs, { maxOffset: 6, firstT: 10, maxDepth: 3 });
    expect((bl.json as any).decisive.reach.length).toBe(3);
    expect(bl.tensors!.ablation.shape).toEqual([68, 6]);
    // not the paper's position: the decomposition table compares nothing with the paper
    const t = decompositionSection.build({ decomposition: output(dec) }).tables[0];
    expect(t.rows.flatMap((r) => Object.values(r)).some((c) => c && typeof c === 'object' && c.ref)).toBe(false);
  });

  it('refuse params that leave no valid position, saying which setting to change', async () => {
    await expect(runStage('decomposition', inputs, { position: 79 })).rejects.toThrow(/position must be ≤ N - 2 = 78.*\n.*hint: set decomposition.position/s);
    await expect(runStage('influence', inputs, { maxOffset: 20, firstT: 10 })).rejects.toThrow(/maxOffset - 1 ≤ firstT/);
    await expect(runStage('baselines', inputs, { firstT: 90 })).rejects.toThrow(/hint: set baselines.firstT/);
  });
});

describe('§5 stages on long data: maxPositions samples blocks of T', () => {
  const H = 5;
  const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 91, 1.5), H);
  const inputs = upstream(w, randomBytes(400, 92));
  const D = 6;
  const firstT = 10; // T = 10..397: 388 positions

  it('influence: all positions when they fit (the SPEC), else the blocks, each row the same as in the full run', async () => {
    const full = await runStage('influence', inputs, { maxOffset: D, firstT });
    expect(full.json.sample).toEqual({ sampled: false, of: 388, blocks: 1, blockLength: 388, maxPositions: 65536 });
    expect([...(full.tensors!.positions.data as Int32Array)]).toEqual(Array.from({ length: 388 }, (_, i) => firstT + i));
    const part = await runStage('influence', inputs, { maxOffset: D, firstT, maxPositions: 100, blockLength: 25 });
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
    const positions = influenceSection.build({ influence: output(j, {}) }).tables[0].positions;
    expect(positions).toMatch(/100 of the 388 output positions T = 10\.\.397, in 4 evenly spread blocks of 25/);
  });

  it('baselines: gradient and ablation on the blocks, decisive chains on every T', async () => {
    const full = await runStage('baselines', inputs, { maxOffset: D, firstT, maxDepth: 3 });
    const part = await runStage('baselines', inputs, { maxOffset: D, firstT, maxDepth: 3, maxPositions: 60, blockLength: 20 });
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
    const t = baselinesSection.build({ baselines: output(j, {}) });
    expect(t.tables[0].positions).toMatch(/60 of the 388 output positions .* 3 evenly spread blocks of 20 .*decisive chains: all 388/);
  });
});
