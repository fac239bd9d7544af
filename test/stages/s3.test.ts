// The four §3 analysis stages run through `run(ctx)` as the engine calls them, on the
// paper's weights: outputs match their schemas, the skipgrams → factor-map edge carries
// the offsets, and the section builders give SPEC §R's table and metric ids with refs
// that exist in paper-figures.json.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import AjvModule from 'ajv';
import type { StageDef, StageOutput, StageResult, Tensor } from '../../lib/engine/types.ts';
import { parseWeightsFile, V } from '../../lib/rnn/weights.ts';
import { forwardTrace } from '../../lib/rnn/forward.ts';
import { isCmp, type SectionPart } from '../../lib/report/types.ts';
import isomorphism from '../../stages/isomorphism.ts';
import boolean from '../../stages/boolean.ts';
import skipgrams from '../../stages/skipgrams.ts';
import factorMap from '../../stages/factor-map.ts';
import * as isoSection from '../../lib/report/sections/isomorphism.ts';
import * as boolSection from '../../lib/report/sections/boolean.ts';
import * as skipSection from '../../lib/report/sections/skipgrams.ts';
import * as fmSection from '../../lib/report/sections/factor-map.ts';

const Ajv = (AjvModule as any).default ?? AjvModule;
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const schema = (f: string) => JSON.parse(readFileSync(path.resolve('schemas', f), 'utf8'));
const figures = JSON.parse(readFileSync(path.resolve('lib/report/paper-figures.json'), 'utf8'));

/** Params as the engine fills them: the schema's defaults, plus overrides. */
function paramsOf(stage: string, overrides: Record<string, unknown> = {}) {
  const p: Record<string, unknown> = { ...overrides };
  const validate = ajv.compile(schema(`${stage}.params.json`));
  expect(validate(p), JSON.stringify(validate.errors)).toBe(true);
  return p;
}

function output(json: Record<string, unknown>, tensors: Record<string, Tensor>, key: string): StageOutput {
  return { json, tensors, key, outputHash: `h-${key}` };
}

async function run(def: StageDef, inputs: Record<string, StageOutput>, overrides: Record<string, unknown> = {}): Promise<StageResult> {
  const res = await def.run({ params: paramsOf(def.name, overrides), inputs, externals: {}, progress: () => {}, warn: () => {}, env: {} });
  const validate = ajv.compile(schema(`${def.name}.output.json`));
  expect(validate(res.json), `${def.name}: ${JSON.stringify(validate.errors)}`).toBe(true);
  expect(Object.keys(res.tensors ?? {}).sort()).toEqual([...(def.tensors ?? [])].sort());
  return res;
}

const ref = path.resolve('../shared/reference');
const xs = new Uint8Array(readFileSync(path.join(ref, 'enwik_1024.txt')));
const w = parseWeightsFile(new Uint8Array(readFileSync(path.join(ref, 'sat_model.bin'))));
const tr = forwardTrace(w, xs);
const N = xs.length;
const inputs: Record<string, StageOutput> = {
  data: output({ bytes: N }, { bytes: { dtype: 'uint8', shape: [N], data: xs } }, 'kdata'),
  model: output({ H: 128 }, { params: { dtype: 'float32', shape: [w.params.length], data: w.params } }, 'kmodel'),
  trace: output({ T: N, H: 128 }, {
    z: { dtype: 'float32', shape: [N, 128], data: tr.z },
    S: { dtype: 'float32', shape: [N, 128], data: tr.S },
    logp: { dtype: 'float64', shape: [N, V], data: tr.logp },
    bits: { dtype: 'float64', shape: [N - 1], data: tr.bits },
  }, 'ktrace'),
};

function checkSection(part: SectionPart, tableIds: string[], metricIds: string[]) {
  expect(part.tables.map((t) => t.id)).toEqual(expect.arrayContaining(tableIds));
  expect(part.metrics.map((m) => m.id).sort()).toEqual([...metricIds].sort());
  for (const t of part.tables) {
    expect(t.positions.length, t.id).toBeGreaterThan(0);
    expect(t.provenance?.key, t.id).toMatch(/^k/);
    for (const row of t.rows) {
      expect(Object.keys(row).sort(), t.id).toEqual(t.columns.map((c) => c.key).sort());
      for (const c of Object.values(row)) if (isCmp(c) && c.ref !== undefined) expect(figures, `${t.id}: ref ${c.ref}`).toHaveProperty([c.ref]);
    }
  }
  for (const m of part.metrics) expect(Number.isFinite(m.value), m.id).toBe(true);
}

describe('§3 stages on the paper weights', () => {
  it('isomorphism: the UM gives the RNN bpc and its report section', async () => {
    const out = await run(isomorphism, inputs);
    const j = out.json as any;
    expect(Math.abs(j.umBpc / 0.079201 - 1)).toBeLessThan(1e-4);
    expect(Math.abs(j.rnnBpc / 0.079201 - 1)).toBeLessThan(1e-4);
    expect(j.maxStateDiff).toBeLessThan(2e-3);
    const part = isoSection.build({ isomorphism: output(out.json, out.tensors!, 'kiso') });
    checkSection(part, ['isomorphism'], ['trained_bpc', 'um_bpc', 'um_rnn_max_state_diff']);
  });

  it('boolean: margins and sign readout, and its report section', async () => {
    const out = await run(boolean, inputs);
    const j = out.json as any;
    expect(j.meanAbsZ).toBeCloseTo(1.3068, 4);
    expect(j.fracAbove).toBeCloseTo(0.4758, 4);
    expect(Math.abs(j.signReadoutBpc / 0.1294 - 1)).toBeLessThan(5e-4);
    expect(j.histogram.counts.reduce((a: number, b: number) => a + b, 0)).toBe(128 * 1023);
    const part = boolSection.build({ boolean: output(out.json, out.tensors!, 'kbool') });
    checkSection(part, ['boolean'], ['mean_abs_preactivation', 'frac_margin_gt_1', 'sign_readout_bpc', 'sign_dynamics_bpc']);
  });

  it('skipgrams → factor-map: the offsets travel along the DAG edge', async () => {
    const sg = await run(skipgrams, inputs);
    const s = sg.json as any;
    expect(s.offsets).toEqual([1, 8, 20, 3, 27, 2, 12, 7]);
    expect(s.greedy.map((g: any) => g.k)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(s.bigram).toEqual({ offsets: [1], bpc: s.greedy[0].bpc, patterns: s.greedy[0].patterns, contexts: s.greedy[0].contexts });
    expect(s.bigram.bpc).toBeCloseTo(2.04687, 5);
    expect([s.greedy[3].bpc, s.greedy[3].patterns]).toEqual([expect.closeTo(0.069273, 6), 712]);
    expect([s.greedy[7].bpc, s.greedy[7].patterns]).toEqual([expect.closeTo(0.042937, 6), 834]);
    expect([s.maxOffset, s.N]).toEqual([30, 1024]);

    const skip = output(sg.json, {}, 'kskip');
    const fm = await run(factorMap, { ...inputs, skipgrams: skip });
    const f = fm.json as any;
    expect(f.offsets).toEqual(s.offsets);
    expect(f.positions).toEqual({ from: 27, to: 1023 });
    expect(f.top.map((g: any) => [g.pair, g.neurons])).toEqual([[[1, 7], 52], [[1, 8], 20], [[8, 2], 18], [[1, 12], 9], [[2, 7], 8]]);
    expect(f.other.neurons).toBe(21);
    expect(f.all.meanR2).toBeCloseTo(0.83693, 5);
    expect(Math.abs(f.ladder.wordLen.bpc / 0.499 - 1)).toBeLessThan(1e-4);
    expect(Math.abs(f.ladder.inTag.bpc / 0.4298 - 1)).toBeLessThan(1e-4);
    expect(Math.abs(f.ladder.twoOffset.bpc / 0.8529 - 1)).toBeLessThan(1e-4); // default ladderFit "scored" gives SPEC §V
    expect(f.ladder.hTrained).toBeCloseTo(0.079201, 6);

    const parts = [skipSection.build({ skipgrams: skip, trace: inputs.trace }), fmSection.build({ 'factor-map': output(fm.json, fm.tensors!, 'kfm') })];
    checkSection(parts[0], ['skipgram'], ['bigram_bpc', 'skip4_bpc', 'skip4_patterns', 'skip8_bpc', 'skip8_patterns']);
    checkSection(parts[1], ['table1_factor_map', 'ladder'], ['factor_map_mean_r2', 'ladder_two_offset_bpc', 'ladder_word_len_bpc', 'ladder_in_tag_bpc']);
    for (const t of [...parts[0].tables, ...parts[1].tables]) expect(t.convention).toBe(t.id.startsWith('skipgram') ? 'skip-gram offsets' : 'state offsets');
    // our five groups are the paper's rows here, so every group row carries a paper ref
    const t1 = parts[1].tables.find((t) => t.id === 'table1_factor_map')!;
    expect(t1.rows.slice(0, 5).map((r) => (isCmp(r.neurons) ? r.neurons.ref : null))).toEqual(['(1,7)', '(1,8)', '(8,2)', '(1,12)', '(2,7)'].map((l) => `table1.${l}.neurons`));

    // another offset list from upstream changes the factor map: nothing is a constant
    const other = output({ ...s, offsets: [1, 2, 3] }, {}, 'kskip2');
    const fm2 = (await run(factorMap, { ...inputs, skipgrams: other })).json as any;
    expect(fm2.offsets).toEqual([1, 2, 3]);
    expect(fm2.pairs).toEqual([[1, 2], [1, 3], [2, 3]]);
    expect(fm2.positions.from).toBe(3);
    const t1b = fmSection.build({ 'factor-map': output(fm2, {}, 'kfm2') }).tables[0];
    expect(t1b.rows.filter((r) => isCmp(r.neurons) && r.neurons.ref?.startsWith('table1.('))).toEqual([]);
    expect(t1b.notes?.join(' ')).toMatch(/not in the paper's Table 1/);
  });

  it('skipgrams rejects maxK above the candidate offsets', async () => {
    await expect(async () => skipgrams.run({ params: { maxOffset: 3, maxK: 4 }, inputs, externals: {}, progress: () => {}, warn: () => {}, env: {} })).rejects.toThrow(/hint:/);
  });
});
