import { describe, expect, it } from 'vitest';
import { paperWeights } from '../helpers/reference.ts';
import { readFileSync } from 'node:fs';
import { paramCount, parseWeightsFile, weightsFrom, type Weights } from '../../lib/rnn/weights.ts';
import { forwardTrace, type Trace } from '../../lib/rnn/forward.ts';
import { carrier, carrierOnlyBits, deviation, patternSensitive } from '../../lib/analysis/carrier.ts';
import { decompose, decomposeFast } from '../../lib/analysis/decomposition.ts';
import { checkOutput, loadSchemas, resolveParams } from '../../lib/engine/params.ts';
import stage from '../../stages/decomposition.ts';
import type { StageDef, StageOutput } from '../../lib/engine/types.ts';
import { maxDiff, randomBytes, randomFill, refBytes } from '../rnn/helpers.ts';
import { ctx } from '../rnn/stage-ctx.ts';
import { upstream } from '../helpers/stages.ts';

/** The paper's weights (test/helpers/reference.ts), or null: the tests that need them skip. */
const PAPER = paperWeights();

function tinyModel(H: number, seed: number, N = 60) {
  const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), seed, 1.5), H);
  const xs = randomBytes(N, seed + 1);
  return { w, xs, tr: forwardTrace(w, xs) };
}

/** The model's own logit of x_{t+1}: by[o] + Σ_j Wy[o][j]·S[t][j]. */
function modelLogit(w: Weights, xs: Uint8Array, tr: Trace, t: number): number {
  const o = xs[t + 1];
  let l = w.by[o];
  for (let j = 0; j < w.H; j++) l += w.Wy[o * w.H + j] * tr.S[t * w.H + j];
  return l;
}


async function runStage(inputs: Record<string, StageOutput>, overrides: Record<string, unknown> = {}) {
  const schemas = loadSchemas('schemas', 'decomposition');
  const res = await (stage as StageDef).run(ctx(resolveParams('decomposition', schemas.params, overrides), inputs));
  expect(checkOutput('decomposition', schemas.output, res.json, 'write')).toBeNull();
  return res;
}

/** Carrier + pattern = the model's logit at every position, and row t of the tensors = the JSON row. */
function expectConsistent(w: Weights, xs: Uint8Array, tr: Trace, json: any, tensors: any, t: number, K: number) {
  const T = xs.length - 1;
  const cl = tensors.carrierLogit.data as Float64Array;
  const pl = tensors.patternLogit.data as Float64Array;
  const tl = tensors.totalLogit.data as Float64Array;
  expect([tensors.carrierLogit.shape, tensors.topUnits.shape, tensors.topContributions.shape]).toEqual([[T], [T, K], [T, K]]);
  let worst = 0;
  for (let s = 0; s < T; s++) {
    expect(tl[s]).toBe(cl[s] + pl[s]);
    worst = Math.max(worst, Math.abs(cl[s] + pl[s] - modelLogit(w, xs, tr, s)));
  }
  expect(worst, `max |carrier + pattern - model logit| = ${worst}`).toBeLessThan(1e-9);
  expect([json.carrierLogit, json.patternLogit, json.totalLogit]).toEqual([cl[t], pl[t], tl[t]]);
  const units = [...tensors.topUnits.data.subarray(t * K, (t + 1) * K)].filter((u: number) => u >= 0);
  expect(json.topUnits.map((u: any) => u.unit)).toEqual(units);
  expect(json.topUnits.map((u: any) => u.contribution)).toEqual([...tensors.topContributions.data.subarray(t * K, t * K + units.length)]);
  expect(json.positions).toEqual({ first: 0, last: T - 1, count: T, topK: K });
}

describe('§5.4 decomposition at every position', () => {
  it('splits the model logit into carrier + pattern logit at every position (tiny model)', () => {
    const { w, xs, tr } = tinyModel(7, 5);
    const dec = decompose(w, xs, 3);
    expect(dec.T).toBe(xs.length - 1);
    let worst = 0;
    for (let t = 0; t < dec.T; t++) {
      expect(dec.actualLogit[t]).toBe(modelLogit(w, xs, tr, t));
      worst = Math.max(worst, Math.abs(dec.carrierLogit[t] + dec.patternLogit[t] - dec.actualLogit[t]));
    }
    expect(worst).toBeLessThan(1e-12);
    expect(dec.patternLogit.some((p) => Math.abs(p) > 1e-3)).toBe(true); // not vacuous
  });

  it('has δ of eq. 6, the PS counts of the trace and Table 2\'s carrier-only bits, bit for bit', () => {
    const { w, xs, tr } = tinyModel(6, 15);
    const H = w.H;
    const dec = decompose(w, xs, 4);
    const c = carrier(w, tr.S, xs.length);
    const ps = patternSensitive(w, c);
    const delta = deviation(tr.S, c, ps);
    expect(maxDiff(dec.delta, delta.subarray(0, dec.T * H)).max).toBe(0);
    for (let t = 0; t < dec.T; t++) {
      let n = 0;
      for (let j = 0; j < H; j++) n += ps[t * H + j];
      expect(dec.psUnits[t], `t=${t}`).toBe(n);
    }
    const bits = carrierOnlyBits(w, xs, 1e-8);
    const fromDec = dec.carrierOnlyLogp.map((lp) => -Math.log2(Math.max(Math.exp(lp), 1e-8)));
    expect(maxDiff(fromDec, bits).max).toBe(0);
  });

  it('ranks the top units by |Wy[o][j]·δ_t[j]| as a full sort does, padding with -1 where fewer are non-zero', () => {
    const { w, xs } = tinyModel(9, 25);
    const H = w.H;
    const K = 4;
    const dec = decompose(w, xs, K);
    let padded = 0;
    for (let t = 0; t < dec.T; t++) {
      const o = xs[t + 1];
      const all = [...Array(H).keys()]
        .map((j) => ({ j, u: w.Wy[o * H + j] * dec.delta[t * H + j] }))
        .filter((e) => e.u !== 0)
        .sort((a, b) => Math.abs(b.u) - Math.abs(a.u) || a.j - b.j)
        .slice(0, K);
      const units = [...dec.topUnits.subarray(t * K, (t + 1) * K)];
      expect(units, `t=${t}`).toEqual([...all.map((e) => e.j), ...Array(K - all.length).fill(-1)]);
      expect([...dec.topContributions.subarray(t * K, (t + 1) * K)]).toEqual([...all.map((e) => e.u), ...Array(K - all.length).fill(0)]);
      if (all.length < K) padded++;
    }
    expect(padded).toBeGreaterThan(0); // some positions have fewer than K PS units
  });

  it('decomposeFast (from the trace, four positions at a time) equals the hooked run bit for bit, ragged ends and K > H included', () => {
    const cases: [number, number, number, number][] = [[5, 7, 60, 3], [8, 8, 9, 10], [3, 9, 2, 2], [4, 10, 1, 2]];
    if (PAPER) cases.push([128, 0, 120, 5]);
    for (const [H, seed, N, K] of cases) {
      const { w, xs, tr } = H === 128 ? (() => {
        const w = parseWeightsFile(new Uint8Array(readFileSync(PAPER!)));
        const xs = refBytes().subarray(0, N);
        return { w, xs, tr: forwardTrace(w, xs) };
      })() : tinyModel(H, seed, N);
      const a = decomposeFast(w, xs, tr.S, carrier(w, tr.S, xs.length), K);
      const b = decompose(w, xs, K);
      expect(a.T).toBe(b.T);
      for (const key of ['carrierLogit', 'patternLogit', 'totalLogit', 'actualLogit', 'carrierOnlyLogp', 'psUnits', 'delta', 'topUnits', 'topContributions'] as const) {
        const x = a[key], y = b[key];
        expect(x.length, key).toBe(y.length);
        for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) expect.fail(`H=${H} N=${N} ${key}[${i}]: ${x[i]} vs ${y[i]}`);
      }
    }
  });

  it('the stage emits the per-position tensors, its JSON row equal to their row at the position (tiny model)', async () => {
    const { w, xs, tr } = tinyModel(5, 35, 80);
    const res = await runStage(upstream(w, xs), { position: 40, topUnits: 3 });
    expectConsistent(w, xs, tr, res.json, res.tensors, 40, 3);
  });

  it.skipIf(!PAPER)('on the paper weights: carrier + pattern = the model logit at all 1023 positions, row 29 = the JSON row (the cross-check figures (docs/definitions.md §V))', async () => {
    const w = parseWeightsFile(new Uint8Array(readFileSync(PAPER!)));
    const xs = refBytes();
    const tr = forwardTrace(w, xs);
    const res = await runStage(upstream(w, xs));
    const j = res.json as any;
    expectConsistent(w, xs, tr, j, res.tensors, 29, 5);
    const close = (ours: number, spec: number, dp: number) => expect(Math.abs(ours - spec), `${ours} vs ${spec}`).toBeLessThanOrEqual(0.5 * 10 ** -dp + 1e-12);
    close(j.carrierLogit, 16.459, 3);
    close(j.patternLogit, 2.3804, 4);
    close(j.totalLogit, 18.839, 3);
    expect(j.topUnits[0].unit).toBe(8);
    close(j.topUnits[0].contribution, 1.749, 3);
  });
});
