import { describe, expect, it } from 'vitest';
import traceStage from '../../stages/trace.ts';
import modelStage from '../../stages/model.ts';
import { paramCount } from '../../lib/rnn/weights.ts';
import { REF_WEIGHTS, randomBytes, randomFill, refBytes } from '../rnn/helpers.ts';
import { ctx, dataOutput, output } from '../rnn/stage-ctx.ts';

describe('trace stage', () => {
  it('stores z, S (T×H), logp (T×256) and bits (T-1) of the forward pass', async () => {
    const H = 4;
    const xs = randomBytes(20, 9);
    const w = randomFill(new Float32Array(paramCount(H)), 10, 0.5);
    const model = output({ H, source: 'train' }, { params: { dtype: 'float32', shape: [w.length], data: w } });
    const out = await traceStage.run(ctx({}, { model, data: dataOutput(xs) }));
    const t = out.tensors!;
    expect(t.z.shape).toEqual([20, H]);
    expect(t.S.shape).toEqual([20, H]);
    expect(t.z.dtype).toBe('float32');
    expect(t.logp.shape).toEqual([20, 256]);
    expect(t.logp.dtype).toBe('float64');
    expect(t.bits.shape).toEqual([19]);
    for (let i = 0; i < t.S.data.length; i++) expect(t.S.data[i]).toBe(Math.fround(Math.tanh(t.z.data[i])));
    // each row of logp is a log-distribution; bits are -log2 p of the next byte
    let s = 0;
    for (let o = 0; o < 256; o++) s += Math.exp(t.logp.data[3 * 256 + o]);
    expect(s).toBeCloseTo(1, 12);
    expect(t.bits.data[3]).toBeCloseTo(-t.logp.data[3 * 256 + xs[4]] / Math.LN2, 12);
    const j = out.json as any;
    expect(j).toMatchObject({ T: 20, H, positions: 19 });
    expect(j.bpc).toBeCloseTo((t.bits.data as Float64Array).reduce((a, b) => a + b, 0) / 19, 12);
  });

  it.skipIf(!REF_WEIGHTS)('on the paper weights gives 0.079201 bpc over all 1023 positions (the cross-check figures (docs/definitions.md §V))', async () => {
    const p = { source: 'paper', hidden: 128 };
    const model = await modelStage.run(ctx(p, {}, { env: { TOTAL_INTERP_PAPER_WEIGHTS: REF_WEIGHTS } }));
    const out = await traceStage.run(ctx({}, { model: output(model.json, model.tensors), data: dataOutput(refBytes()) }));
    const j = out.json as any;
    expect(j.positions).toBe(1023);
    expect(Math.abs(j.bpc - 0.079201) / 0.079201).toBeLessThan(1e-4);
  });
});
