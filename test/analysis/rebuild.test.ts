import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonNaive, countNumbers, gzipBitsAsync, sizeOfAsync, describeFull, describeMarginal, describeRules, f32, f32Naive, gzipBits, parseDescription, sizeOf, wxBins, type RuleOpts } from '../../lib/analysis/describe.ts';
import {
  binValue, featureLayout, featuresOfKey, fitReadout, idealFeatures, lbfgsDirection, lbfgsDirectionNaive, lbfgsState, linearForm, rebuildFrom, rebuildFull, rebuildMarginal, rebuildRules, ridgeLS, withFittedReadout, writeFeatureUnits,
} from '../../lib/analysis/rebuild.ts';
import { cellKey } from '../../lib/analysis/describe.ts';
import { carrier } from '../../lib/analysis/carrier.ts';
import { inTag, wordLength } from '../../lib/analysis/factor-map.ts';
import { cellMeans, cellsOf, prefixFeatures, seenBytes } from '../../lib/analysis/timing-carrier.ts';
import { forwardStates, forwardTrace, mean } from '../../lib/rnn/forward.ts';
import { V, paramCount, weightsFrom, zeroWeights } from '../../lib/rnn/weights.ts';
import { randomBytes, randomFill } from '../rnn/helpers.ts';
import { evalBpc as evalParams } from '../../lib/rnn/train.ts';
import { denseModule } from '../../lib/rnn/wasm-dense.ts';

/** A rebuilt model's bpc over t = 0..N-2: the one evalBpc, on its weights. */
const evalBpc = (w: { params: Float32Array; H: number }, xs: Uint8Array, floor: number) => evalParams(w.params, w.H, xs, floor);

const OPTS: RuleOpts = { wordLenCap: 15, classes: 4, digits: 2, readoutDigits: 1, rebuild: { gain: 20, margin: 1, ridge: 0.001 } };

const STRINGS = [
  '<page>\n  <title>AccessibleComputing</title>\n\t<id>10</id>',
  'a bb ccc dddd eeeee ffffff ggggggggggggggggggggggg x <<y>> >z< end',
  '>>> no tag yet <open and still open\nstill> closed',
];

describe('rule rebuild: feature units (docs/definitions.md §6.3)', () => {
  it('thermometer units hold word length and the bistable unit in-tag, exactly, on test strings', () => {
    const cap = 15;
    const L = featureLayout({ set: 'wl+tag', features: { wl: { cap } } });
    const w = zeroWeights(L.F);
    writeFeatureUnits(w, L, 20);
    for (const s of STRINGS) {
      const xs = new TextEncoder().encode(s);
      const { S } = forwardStates(w, xs);
      const wl = wordLength(xs, cap);
      const tag = inTag(xs);
      for (let t = 0; t < xs.length; t++) {
        let n = 0;
        for (let k = 0; k < cap; k++) n += S[t * L.F + L.wl + k] > 0 ? 1 : 0;
        expect(n, `word length at t=${t} of ${JSON.stringify(s)}`).toBe(wl[t]);
        expect(S[t * L.F + L.tag] > 0 ? 1 : 0, `in-tag at t=${t}`).toBe(tag[t]);
        // saturated: every feature unit is ±1 to float32 precision
        for (let u = 0; u < L.F; u++) expect(Math.abs(S[t * L.F + u])).toBeGreaterThan(1 - 1e-6);
      }
    }
  });

  it('x1 units hold the class of the byte just read and x2 units the one before', () => {
    const L = featureLayout({ set: 'x1+x2', features: { x1: { classes: [97, 32, 60] } } });
    const w = zeroWeights(L.F);
    writeFeatureUnits(w, L, 20);
    const xs = new TextEncoder().encode('ab a<<b  ');
    const { S } = forwardStates(w, xs);
    L.classes.forEach((b, c) => {
      for (let t = 0; t < xs.length; t++) {
        expect(S[t * L.F + L.x1 + c] > 0).toBe(xs[t] === b);
        if (t === 0) expect(S[L.x2 + c]).toBe(0);
        else expect(S[t * L.F + L.x2 + c] > 0).toBe(xs[t - 1] === b);
      }
    });
  });
});

describe('rebuild kernels', () => {
  it('ridge least squares recovers exact coefficients on noise-free data', () => {
    const P = 50, F = 3, R = 2;
    const X = randomFill(new Float64Array(P * F), 1, 1);
    const beta = [[0.5, -2, 3, 0.25], [1, 0, -1, -4]]; // β then β0
    const Y = new Float64Array(P * R);
    for (let t = 0; t < P; t++) for (let r = 0; r < R; r++) Y[t * R + r] = beta[r][3] + [0, 1, 2].reduce((s, i) => s + X[t * F + i] * beta[r][i], 0);
    const got = ridgeLS(X, Y, P, F, R, 0);
    for (let r = 0; r < R; r++) for (let i = 0; i <= F; i++) expect(got[r * (F + 1) + i]).toBeCloseTo(beta[r][i], 10);
  });

  it('f32 writes the shortest decimal that reads back as the same float32', () => {
    const a = randomFill(new Float32Array(2000), 9, 30);
    for (const x of [...a, 0, 0.1, -1e-20, 3.4e38]) {
      const y = f32(Math.fround(x));
      expect(Math.fround(y)).toBe(Math.fround(x));
      const p = String(y).replace(/^-|e.*$|\./g, '').replace(/^0+/, '').length;
      if (p > 1) expect(Math.fround(Number(Math.fround(x).toPrecision(p - 1)))).not.toBe(Math.fround(x));
    }
  });

  it('f32 finds the digits its naive twin (p = 1, 2, … in turn) finds, for every kind of float32', () => {
    const a = randomFill(new Float32Array(20000), 19, 1);
    const b = Float32Array.from(a, (x, i) => x * 10 ** ((i % 60) - 30));
    const odd = [0, -0, NaN, Infinity, -Infinity, 1, 0.5, 3.4028234663852886e38, 1.401298464324817e-45, 1.1754943508222875e-38, 0.1, 16777216, 123456.7];
    let bad = 0;
    for (const x of [...a, ...b, ...odd.map(Math.fround)]) if (!Object.is(f32(x), f32Naive(x))) bad++;
    expect(bad, `${bad} values differ`).toBe(0);
  });

  it('Wx written from the pattern bins switches each byte on in exactly the cells the model does', () => {
    const wx = randomFill(new Float64Array(V), 4, 3);
    const carriers = [0.5, -1.25, 2, 0.5, -0.125];
    const seen = [9, 32, 60, 97, 98, 120, 200];
    const { theta, bins } = wxBins(wx, carriers, seen);
    seen.forEach((v, i) => {
      const rebuilt = binValue(theta, bins[i], 1);
      for (const c of carriers) expect(c + rebuilt >= 0).toBe(c + wx[v] >= 0);
    });
  });

  it('full rebuild reproduces the model bpc to 1e-6; marginal gives the unigram entropy of the data', () => {
    const H = 8;
    const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 13, 1), H);
    const xs = randomBytes(300, 2, 'abcab <x>\n');
    const d = describeFull(w);
    const back = rebuildFull(parseDescription(sizeOf(d).text, 'full'));
    expect(Math.abs(evalBpc(back, xs, 1e-8) - mean(forwardTrace(w, xs).bits))).toBeLessThan(1e-6);
    expect([...back.params]).toEqual([...w.params]);
    expect(sizeOf(d).numbers).toBe(paramCount(H));
    const n = new Map<number, number>();
    for (let t = 1; t < xs.length; t++) n.set(xs[t], (n.get(xs[t]) ?? 0) + 1);
    let h = 0;
    for (const c of n.values()) h -= (c / (xs.length - 1)) * Math.log2(c / (xs.length - 1));
    const m = describeMarginal(H, xs);
    expect(sizeOf(m).numbers).toBe(2 * n.size); // each target byte and its count
    expect(Math.abs(evalBpc(rebuildMarginal(parseDescription(sizeOf(m).text, 'marginal')), xs, 1e-8) - h)).toBeLessThan(1e-6);
  });

  it('a rule rebuild of a wl model fits each described unit\'s cell carriers exactly', () => {
    // feature units of the rebuild are a basis for any function of word length
    const H = 20;
    const xs = new TextEncoder().encode(STRINGS.join(' ').repeat(3));
    const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 17, 0.5), H);
    const tr = forwardTrace(w, xs);
    const c = carrier(w, tr.S, xs.length);
    const P = xs.length - 1;
    const f = prefixFeatures(xs, 15);
    const cells = cellsOf(f, 'wl', P);
    const { chat } = cellMeans(c, H, cells, P);
    const order = [...Array(H).keys()];
    const d = describeRules(w, xs, f, 'wl', cells, chat, order, seenBytes(xs), { ...OPTS, digits: 6, rebuild: { gain: 20, margin: 1, ridge: 0 } });
    expect(countNumbers(d.body)).toBe(sizeOf(d).numbers);
    const { w: rw, layout } = rebuildRules(parseDescription(sizeOf(d).text, 'rules_wl'));
    expect(layout.F).toBe(15);
    const rc = carrier(rw, forwardStates(rw, xs).S, xs.length);
    const units = d.body.units as { carrier: number[] }[];
    // positions t ≥ 1 (t = 0, where the feature units read S[-1] = 0, is left out of the fit)
    for (let r = 0; r < H - 15; r++) {
      for (let t = 1; t < P; t++) expect(rc[t * H + 15 + r]).toBeCloseTo(units[r].carrier[cells.ids[t]], 3);
    }
  });
});

describe('readout fit of a rebuilt RNN', () => {
  it('the fused two-loop recursion gives the bits of the textbook one, with 0, 1, 3 and 10 pairs', () => {
    const D = 37;
    const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + x * b[i], 0);
    for (const m of [0, 1, 3, 10]) {
      const Ss = Array.from({ length: m }, (_, i) => randomFill(new Float64Array(D), 100 + i, 1));
      const Ys = Array.from({ length: m }, (_, i) => randomFill(new Float64Array(D), 200 + i, 1));
      const sy = Ss.map((s, i) => dot(s, Ys[i]));
      const yy = Ys.map((y) => dot(y, y));
      const rho = sy.map((v) => 1 / v);
      const g = randomFill(new Float64Array(D), 7 + m, 3);
      const q = new Float64Array(D);
      const qn = new Float64Array(D);
      const slope = lbfgsDirection(q, g, Ss, Ys, rho, sy, yy, new Float64Array(m + 1));
      const slopeN = lbfgsDirectionNaive(qn, g, Ss, Ys, rho);
      expect(Object.is(slope, slopeN), `m = ${m}: slope ${slope} vs ${slopeN}`).toBe(true);
      q.forEach((v, j) => expect(Object.is(v, qn[j]), `m = ${m}, q[${j}]`).toBe(true));
      expect(q.some((v, j) => v !== g[j])).toBe(true); // it did something
    }
  });

  it('the L-BFGS vector steps in WebAssembly give the JavaScript loops\' bits (odd length, 0 to 4 pairs, pairs dropped and rejected)', () => {
    const D = 37;
    const memory = 3;
    const dense = lbfgsState(D, memory);
    const js = lbfgsState(D, memory, true);
    // with the dense module, the vectors live in its memory (the arena starts past its data)
    if (denseModule()) expect(dense.x.byteOffset, 'build/dense.wasm has the L-BFGS kernels (npm run build:wasm)').toBeGreaterThan(0);
    const same = (a: Float64Array, b: Float64Array, what: string) => {
      let worst = 0;
      a.forEach((v, j) => (worst = Object.is(v, b[j]) ? worst : Math.max(worst, Math.abs(v - b[j]) || Infinity)));
      expect(worst, `${what}: max difference ${worst}`).toBe(0);
    };
    for (const s of [dense, js]) {
      randomFill(s.x, 5, 1);
      randomFill(s.g, 6, 2);
    }
    for (let it = 0; it < 9; it++) {
      const slopes = [dense, js].map((s) => s.direction());
      expect(Object.is(slopes[0], slopes[1]), `step ${it}: slope ${slopes[0]} vs ${slopes[1]}`).toBe(true);
      same(dense.q, js.q, `step ${it}: q`);
      for (const s of [dense, js]) {
        s.trial(0.5);
        // a new gradient; at step 4 one that makes s·y negative, so the pair is not kept
        randomFill(s.gn, 50 + it, 3);
        if (it === 4) for (let j = 0; j < D; j++) s.gn[j] = s.g[j] - (s.xn[j] - s.x[j]);
        s.divide(s.gn, 7);
      }
      same(dense.xn, js.xn, `step ${it}: xn`);
      same(dense.gn, js.gn, `step ${it}: gn`);
      for (const s of [dense, js]) {
        s.pair();
        s.x.set(s.xn);
        s.g.set(s.gn);
      }
      expect(dense.pairs()).toBe(js.pairs());
    }
    expect(js.pairs()).toBe(memory);
  });

  it('L-BFGS never increases the loss, beats the marginal, and its last loss is the rebuilt RNN\'s bpc', () => {
    const H = 10;
    const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 41, 1), H);
    const xs = new TextEncoder().encode(STRINGS.join(' ').repeat(2)); // structure the states can carry
    const marginal = evalBpc(rebuildMarginal(describeMarginal(H, xs)), xs, 1e-8);
    const { losses, bpc } = fitReadout(w, xs, 40);
    expect(Math.abs(bpc - evalBpc(w, xs, 1e-8))).toBeLessThan(1e-9);
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThanOrEqual(losses[i - 1] + 1e-12);
    expect(losses[losses.length - 1]).toBeLessThan(marginal - 0.1);
    // the fitted float64 readout, stored as float32, scores the same through the real forward pass
    expect(Math.abs(evalBpc(w, xs, 1e-8) - losses[losses.length - 1])).toBeLessThan(1e-4);
  });

  it('fits on a sample of positions above maxPositions, and on every position (the same bits) below it', () => {
    const H = 10;
    const xs = new TextEncoder().encode(STRINGS.join(' ').repeat(2));
    const fit = (sample?: { maxPositions: number; blockLength: number }) => {
      const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 41, 1), H);
      return { ...fitReadout(w, xs, 10, 1e-8, 10, sample), Wy: w.Wy.slice() };
    };
    const all = fit();
    const roomy = fit({ maxPositions: xs.length, blockLength: 7 });
    expect(Array.from(roomy.losses)).toEqual(Array.from(all.losses));
    expect(Array.from(roomy.Wy)).toEqual(Array.from(all.Wy));
    const some = fit({ maxPositions: 64, blockLength: 16 });
    expect(Array.from(some.Wy)).not.toEqual(Array.from(all.Wy));
    for (let i = 1; i < some.losses.length; i++) expect(some.losses[i]).toBeLessThanOrEqual(some.losses[i - 1] + 1e-12);
    // on its 64 positions the last loss is the bpc of the fitted readout (stored as float32) there
    expect(Math.abs(some.bpc - some.losses[some.losses.length - 1])).toBeLessThan(1e-6);
  });
});

describe('descriptions: size, what rebuild reads from them, bad input (docs/definitions.md §6.3)', () => {
  const H = 20;
  const xs = new TextEncoder().encode(STRINGS.join(' ').repeat(3));
  const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 23, 0.5), H);
  const P = xs.length - 1;
  const c = carrier(w, forwardTrace(w, xs).S, xs.length);

  function rules(set: 'wl+tag' | 'x1+x2' | 'none') {
    const f = prefixFeatures(xs, 15);
    const cells = cellsOf(f, set, P);
    const { chat } = cellMeans(c, H, cells, P);
    return { f, cells, d: describeRules(w, xs, f, set, cells, chat, [...Array(H).keys()].reverse(), seenBytes(xs), { ...OPTS, wordLenCap: 3, classes: 2 }) };
  }

  it('bits are 8 × the gzip-9 size of the canonical JSON, which reads back as the description', () => {
    const d = rules('wl+tag').d;
    const s = sizeOf(d);
    expect(s.text).toBe(canonicalJson(JSON.parse(s.text)));
    expect(s.bits).toBe(gzipBits(new TextEncoder().encode(s.text)));
    expect(s.bits % 8).toBe(0);
    expect(s.bits).toBeLessThan(8 * s.bytes); // JSON of numbers compresses
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: 3 } })).toBe('{"a":{"c":3,"d":[2,{"e":0,"f":1}]},"b":1}');
  });

  it('canonicalJson writes what its naive twin writes (flat arrays passed as they are, nested ones sorted), and sizeOfAsync what sizeOf gives', async () => {
    const odd = { z: [[{ b: 1, a: 2 }], [], [null, -0, NaN, 'x"y', undefined, Infinity]], a: [1.5, -0, 1e-7, 'é'], m: { y: [], x: [[3, 2], { d: [{ c: 0, b: -1 }] }] } };
    expect(canonicalJson(odd)).toBe(canonicalJsonNaive(odd));
    const d = rules('x1+x2').d;
    expect(canonicalJson(d)).toBe(canonicalJsonNaive(d));
    const [a, s] = [await sizeOfAsync(d), sizeOf(d)];
    expect({ ...a, utf8: [...a.utf8] }).toEqual({ ...s, utf8: [...s.utf8] });
    const big = new TextEncoder().encode(canonicalJson(describeFull(weightsFrom(randomFill(new Float32Array(paramCount(16)), 3, 1), 16))));
    expect(await gzipBitsAsync(big)).toBe(gzipBits(big));
  });

  it('the carrier fit over cells weighted by their sizes equals the fit over positions, for every feature set', () => {
    for (const set of ['wl+tag', 'x1+x2', 'none'] as const) {
      const { f, cells, d } = rules(set);
      const L = featureLayout(d.header);
      // naive twin: the ideal features position by position, from the bytes
      const X = idealFeatures(xs, L, P);
      for (let t = 1; t < P; t++) expect([...featuresOfKey(cellKey(f, set, t), L)], `${set} t=${t}`).toEqual([...X.subarray(t * L.F, (t + 1) * L.F)]);
      const units = d.body.units as { carrier: number[] }[];
      const R = units.length;
      const Y = new Float64Array(P * R);
      for (let t = 0; t < P; t++) for (let r = 0; r < R; r++) Y[t * R + r] = units[r].carrier[cells.ids[t]];
      const byPositions = ridgeLS(X.subarray(L.F), Y.subarray(R), P - 1, L.F, R, 0.001);
      const { w: rw } = rebuildRules(d);
      for (let r = 0; r < R; r++) {
        for (let i = 0; i < L.F; i++) expect(rw.Wh[(L.F + r) * H + i]).toBeCloseTo(byPositions[r * (L.F + 1) + i], 4);
        expect(rw.bh[L.F + r]).toBeCloseTo(byPositions[r * (L.F + 1) + L.F], 4);
      }
    }
  });

  it('a rule level keeps its units one to one with the model and writes the model\'s readout on them', () => {
    const { d } = rules('wl+tag');
    const { w: rw, unitMap } = rebuildFrom(parseDescription(sizeOf(d).text, 'rules_wl_tag'));
    const F = featureLayout(d.header).F;
    expect(unitMap!.slice(0, F).every((j) => j === -1)).toBe(true);
    expect(unitMap!.slice(F)).toEqual([...Array(H).keys()].reverse().slice(0, H - F));
    for (const v of seenBytes(xs)) {
      for (let u = F; u < H; u++) expect(rw.Wy[v * H + u]).toBeCloseTo(w.Wy[v * H + unitMap![u]], 1);
      expect(rw.Wy[v * H]).toBe(0); // feature units read out 0
    }
  });

  it('a fitted readout, written rounded into the description, is what the rebuild reads back', () => {
    const { d } = rules('wl+tag');
    const fit = withFittedReadout(d, xs, 15, 3);
    expect(fit.header.level).toBe('rules_wl_tag_fit');
    const { w: a } = rebuildFrom(parseDescription(sizeOf(fit).text, fit.header.level));
    const { w: b } = rebuildRules(d);
    expect([...a.Wx]).toEqual([...b.Wx]); // the same states
    expect(evalBpc(a, xs, 1e-8)).toBeLessThan(evalBpc(rebuildMarginal(describeMarginal(H, xs)), xs, 1e-8));
    const wf = rebuildRules(d).w;
    fitReadout(wf, xs, 15);
    // rows of the seen bytes as fitted, to the 3 decimals written; the others are written as 0
    const seen = new Set(seenBytes(xs));
    for (let o = 0; o < V; o++) {
      for (let j = 0; j < H; j++) {
        if (seen.has(o)) expect(Math.abs(a.Wy[o * H + j] - wf.Wy[o * H + j])).toBeLessThanOrEqual(0.0005 + 1e-6);
        else expect(a.Wy[o * H + j]).toBe(0);
      }
    }
  });

  it('the linear form writes the rows the cell fit gives: at full precision it rebuilds the same states', () => {
    const { d } = rules('wl+tag');
    const lin = linearForm(d, xs, 5, 12, 12, 3);
    expect(lin.header.level).toBe('rules_wl_tag_linear');
    expect(lin.body.cells).toBeUndefined();
    const { w: a, unitMap } = rebuildFrom(parseDescription(sizeOf(lin).text, lin.header.level));
    const { w: b, units } = rebuildRules(d);
    for (let i = 0; i < a.Wh.length; i++) expect(a.Wh[i]).toBeCloseTo(b.Wh[i], 6);
    for (let i = 0; i < a.bh.length; i++) expect(a.bh[i]).toBeCloseTo(b.bh[i], 6);
    for (let i = 0; i < a.Wx.length; i++) expect(a.Wx[i]).toBeCloseTo(b.Wx[i], 6);
    expect(unitMap!.filter((j) => j >= 0)).toEqual(units);
    // and it is smaller than the cell form with the same readout precision
    expect(sizeOf(linearForm(d, xs, 5, 2, 1, 1)).numbers).toBeLessThan(sizeOf(withFittedReadout(d, xs, 5, 1)).numbers);
  });

  it('bad input: invalid JSON, a NaN, an Infinity, a wrong length or a non-byte gives one message and a hint', () => {
    const good = sizeOf(rules('wl+tag').d).text;
    const bad = (text: string, why: RegExp) => expect(() => parseDescription(text, 'x.json')).toThrow(why);
    bad(good.slice(0, -3), /description x\.json: not valid JSON[\s\S]*\nhint: /);
    bad(good.replace(/"carrier":\[[-0-9.]+/, '"carrier":[NaN'), /not valid JSON/);
    bad(good.replace(/"carrier":\[[-0-9.]+/, '"carrier":["NaN"'), /body\.units\[0\]\.carrier\[0\] is "NaN", not a finite number\nhint: /);
    bad(good.replace(/"byOther":[-0-9.]+/, '"byOther":1e999'), /description\.body\.readout\.byOther is Infinity, not a finite number/);
    bad(good.replace(/"cellCount":\[[0-9]+,/, '"cellCount":['), /body\.cellCount has \d+ numbers, expected \d+/);
    bad(good.replace(/"seen":\[[0-9]+/, '"seen":[300'), /body\.seen\[0\] = 300 is not a byte/);
    bad(sizeOf(describeFull(w)).text.replace(/"bh":\[[-0-9.e]+/, '"bh":[null'), /body\.bh\[0\] is null, not a finite number/);
    bad('{"header":{"level":"other","H":4},"body":{}}', /unknown level "other"/);
    bad(good.replace(/"unit":[0-9]+/, '"unit":99'), /body\.units\[0\]\.unit must be a unit index 0\.\.19/);
    expect(() => parseDescription(good, 'ok')).not.toThrow();
  });
});
