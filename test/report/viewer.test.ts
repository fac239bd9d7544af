// The viewer's data and page, without a browser (test/browser/viewer.test.ts opens it in
// chromium): bit packing round-trips, the per-position §5.4 decomposition equals the
// decomposition stage's kernel at every position and sums to the model's logit, the
// decomposition stage's tensors are used when present, the carriers keep their values to
// half a step, a window embeds its part of every array, and the page fetches nothing.

import { describe, expect, it } from 'vitest';
import type { StageOutput } from '../../lib/engine/types.ts';
import { carrier, patternSensitive } from '../../lib/analysis/carrier.ts';
import { forwardTrace } from '../../lib/rnn/forward.ts';
import { paramCount, weightsFrom } from '../../lib/rnn/weights.ts';
import { TOP_K, packBits, packCarriers, packStates, topByMagnitude, topNext, topNextNaive, unpackBits, viewerData, viewerWindow } from '../../lib/report/viewer/data.ts';
import { fromKernel, fromStage } from '../../lib/report/viewer/decomposition.ts';
import { decompose } from '../../lib/analysis/decomposition.ts';
import { viewerHtml } from '../../lib/report/viewer/html.ts';

function tinyModel(H: number, seed: number) {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const p = new Float32Array(paramCount(H));
  for (let i = 0; i < p.length; i++) p[i] = rand() * (i < H * 256 ? 2 : 0.5);
  return weightsFrom(p, H);
}

const H = 8;
const w = tinyModel(H, 3);
const xs = new TextEncoder().encode('the cat sat on the mat. the rat ran. '.repeat(2));
const tr = forwardTrace(w, xs);
const c = carrier(w, tr.S, xs.length);
const ps = patternSensitive(w, c);

describe('viewer data', () => {
  it('packs the PS mask 8 per byte and back', () => {
    const mask = Array.from({ length: 37 }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0);
    expect(Array.from(unpackBits(packBits(mask), 37))).toEqual(mask);
    expect(Buffer.from(packStates([1, -1, 0, 0.5]), 'base64')).toEqual(Buffer.from([127, 129, 0, 64]));
  });

  it('keeps the top k units by |contribution|, zeros out, ties to the lower unit, padded with -1', () => {
    expect(topByMagnitude([0, -2, 2, 0.5, 0], 5, 3)).toEqual({ units: [1, 2, 3], values: [-2, 2, 0.5] });
    expect(topByMagnitude([0, 1, 0], 3, 3)).toEqual({ units: [1, -1, -1], values: [1, 0, 0] });
  });

  it('decomposes every position as the decomposition kernel does, carrier + pattern = the model logit', () => {
    const k = 3;
    const d = fromKernel(decompose(w, xs, k), k);
    const ref = decompose(w, xs, k);
    expect(d.carrier.length).toBe(xs.length - 1);
    for (const t of [0, 5, 29, xs.length - 2]) {
      expect(d.carrier[t]).toBe(ref.carrierLogit[t]);
      expect(d.pattern[t]).toBe(ref.patternLogit[t]);
      expect(d.total[t]).toBeCloseTo(d.carrier[t] + d.pattern[t], 9);
      expect(Array.from(d.topUnits).slice(t * k, t * k + k)).toEqual(Array.from(ref.topUnits.subarray(t * k, t * k + k)));
    }
  });

  it("uses the decomposition stage's tensors when it has them all, with the right length", () => {
    const T = xs.length - 1;
    const f = (n: number) => ({ dtype: 'float64' as const, shape: [n], data: new Float64Array(n).fill(7) });
    const tensors = { carrierLogit: f(T), patternLogit: f(T), totalLogit: f(T), topUnits: { dtype: 'int32' as const, shape: [T, 2], data: new Int32Array(T * 2) }, topContributions: { dtype: 'float64' as const, shape: [T, 2], data: new Float64Array(T * 2) } };
    const out = (t: object) => ({ json: {}, tensors: t, key: 'k', outputHash: 'h' }) as StageOutput;
    const got = fromStage(out(tensors), T)!;
    expect(got.source).toBe('decomposition stage');
    expect(got.k).toBe(2);
    expect(got.carrier[3]).toBe(7);
    expect(fromStage(out({ ...tensors, totalLogit: undefined }), T)).toBeNull();
    expect(fromStage(out({ ...tensors, topContributions: undefined }), T)).toBeNull();
    expect(fromStage(out(tensors), T + 1)).toBeNull();
  });

  it('packs the carriers as int16 at max |c| / 32767: each within half a step', () => {
    const { scale, data } = packCarriers(c);
    const b = Buffer.from(data, 'base64');
    expect(b.length).toBe(2 * c.length);
    let m = 0;
    for (const x of c) m = Math.max(m, Math.abs(x));
    expect(scale).toBe(m / 32767);
    for (let i = 0; i < c.length; i++) expect(Math.abs(b.readInt16LE(2 * i) * scale - c[i])).toBeLessThanOrEqual(scale / 2 + 1e-12);
  });

  it('embeds a window of the text: its bytes and positions, numbered as in the text, moved back when it runs past the end', () => {
    const k = 2;
    const dec = fromKernel(decompose(w, xs, k), k);
    const N = xs.length;
    const base = { label: 'x', bytes: xs, H, S: tr.S, ps, actualBits: tr.bits, carrierOnlyBits: tr.bits, decomposition: dec, pairs: [], psCountPerUnit: [], position: 29, patternTables: null, logp: tr.logp, carrier: c };
    const influence = { firstT: 10, D: 3, values: Float64Array.from({ length: 20 * 3 }, (_, i) => i) }; // T = 10..29
    const d = viewerData({ ...base, influence, window: { offset: 20, length: 30 } });
    expect([d.offset, d.N, d.textBytes]).toEqual([20, 30, N]);
    expect(d.bytes).toEqual(Array.from(xs.subarray(20, 50)));
    expect(d.quantities.actualBits).toHaveLength(29); // positions 20..48, whose next byte is in the window
    expect(d.quantities.actualBits[0]).toBe(Math.round(tr.bits[20] * 1e4) / 1e4);
    expect(d.decomposition.topUnits).toEqual(Array.from(dec.topUnits).slice(20 * k, 49 * k));
    expect(Buffer.from(d.states, 'base64')).toEqual(Buffer.from(packStates(tr.S.subarray(20 * H, 50 * H)), 'base64'));
    expect(Array.from(unpackBits(d.psBits, 30 * H))).toEqual(Array.from(ps.subarray(20 * H, 50 * H)));
    const q = Buffer.from(d.carriers!.data, 'base64');
    expect(Math.abs(q.readInt16LE(2 * (3 * H + 1)) * d.carriers!.scale - c[23 * H + 1])).toBeLessThanOrEqual(d.carriers!.scale);
    expect(d.influence).toEqual({ firstT: 20, D: 3, values: Array.from(influence.values.subarray(30, 60)), computed: [10, 29] });
    // the top-k rows are the window's: the first is position 20's
    expect(d.topk!.bytes.slice(0, TOP_K)).toEqual(topNext(tr.logp, 1, TOP_K, 20).bytes);
    // past the end: the last 30 bytes, and what was asked for kept
    const end = viewerData({ ...base, influence: null, window: { offset: 1000, length: 30 } });
    expect([end.offset, end.N, end.requested]).toEqual([N - 30, 30, { offset: 1000, length: 30 }]);
    // longer than the text: all of it
    expect(viewerWindow(N, { offset: 5, length: 4096 })).toEqual({ from: 0, to: N });
    expect(viewerWindow(N, undefined)).toEqual({ from: 0, to: N });
  });

  it('rejects inputs of the wrong size with a message naming them', () => {
    const base = {
      label: 'x', bytes: xs, H, S: tr.S, ps, actualBits: tr.bits, carrierOnlyBits: tr.bits,
      decomposition: fromKernel(decompose(w, xs, 2), 2), influence: null, pairs: [], psCountPerUnit: [], position: 29, patternTables: null,
    };
    expect(() => viewerData(base)).not.toThrow();
    expect(() => viewerData({ ...base, carrierOnlyBits: tr.bits.subarray(1) })).toThrow(/carrierOnlyBits has/);
    expect(() => viewerData({ ...base, carrier: c.subarray(1) })).toThrow(/carrier has/);
  });
});

describe('viewer page', () => {
  const data = viewerData({
    label: 'lbl', bytes: xs, H, S: tr.S, ps, actualBits: tr.bits, carrierOnlyBits: tr.bits,
    decomposition: fromKernel(decompose(w, xs, 2), 2), influence: null, pairs: [], psCountPerUnit: [], position: 29,
    patternTables: { note: '</script><script>alert(1)</script>' },
  });
  const libs = { vega: 'var vega={};', 'vega-lite': 'var vegaLite={};', 'vega-embed': 'var vegaEmbed=function(){};' };

  it('embeds the data so that no text in it can close the script element, and loads nothing from outside', () => {
    const html = viewerHtml(data, libs);
    const json = html.match(/<script type="application\/json" id="viewer-data">([\s\S]*?)<\/script>/)![1];
    expect(JSON.parse(json).patternTables.note).toBe('</script><script>alert(1)</script>');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src="http/);
    expect(html).toContain("default-src 'none'");
  });

  it('refuses to build without the library bundles', () => {
    expect(() => viewerHtml(data, { ...libs, 'vega-embed': '' })).toThrow(/vega-embed bundle is missing/);
  });
});

describe('topNext', () => {
  it('gives topNextNaive\'s bytes and probabilities (ties to the lower byte, equal rows, -Infinity, k over 256)', () => {
    let s = 99;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const T = 40;
    const logp = new Float64Array(T * 256);
    for (let i = 0; i < logp.length; i++) logp[i] = -Math.floor(rnd() * 12) / 2; // many ties
    logp.fill(-3, 5 * 256, 6 * 256); // a row of equal values
    for (let o = 0; o < 256; o += 3) logp[7 * 256 + o] = -Infinity;
    for (const k of [1, 5, 17, 300]) for (const from of [0, 3]) expect(topNext(logp, T - from, k, from)).toEqual(topNextNaive(logp, T - from, k, from));
  });
});
