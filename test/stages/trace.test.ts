import { describe, expect, it } from 'vitest';
import traceStage from '../../stages/trace.ts';
import modelStage from '../../stages/model.ts';
import { paramCount, weightsFrom } from '../../lib/rnn/weights.ts';
import { TRACE_BLOCK, forwardTraceNaive } from '../../lib/rnn/forward.ts';
import { REF_WEIGHTS, randomBytes, randomFill, refBytes } from '../rnn/helpers.ts';
import { ctx, dataOutput, output } from '../rnn/stage-ctx.ts';

describe('trace stage', () => {
  it('stores z, S (T×H), logp (T×256), lpNext and bits (T-1) of the forward pass', async () => {
    const H = 4;
    const xs = randomBytes(20, 9);
    const w = randomFill(new Float32Array(paramCount(H)), 10, 0.5);
    const model = output({ H, source: 'train' }, { params: { dtype: 'float32', shape: [w.length], data: w } });
    const out = await traceStage.run(ctx({ logpMaxBytes: 65536 }, { model, data: dataOutput(xs) }));
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
    for (let u = 0; u < 19; u++) expect(t.lpNext.data[u]).toBe(t.logp.data[u * 256 + xs[u + 1]]);
    expect(j).toMatchObject({ T: 20, H, positions: 19, logp: true });
    expect(j.bpc).toBeCloseTo((t.bits.data as Float64Array).reduce((a, b) => a + b, 0) / 19, 12);
  });

  it('beyond trace.logpMaxBytes stores no logp, and lpNext, bits, z and S are the same bit for bit', async () => {
    const H = 8;
    const xs = randomBytes(TRACE_BLOCK + 37, 4); // more than one block of the readout, and a partial one
    const w = randomFill(new Float32Array(paramCount(H)), 11, 0.5);
    const model = output({ H, source: 'train' }, { params: { dtype: 'float32', shape: [w.length], data: w } });
    const full = await traceStage.run(ctx({ logpMaxBytes: xs.length }, { model, data: dataOutput(xs) }));
    const small = await traceStage.run(ctx({ logpMaxBytes: xs.length - 1 }, { model, data: dataOutput(xs) }));
    expect(Object.keys(small.tensors!).sort()).toEqual(['S', 'bits', 'lpNext', 'z']);
    expect((small.json as any).logp).toBe(false);
    for (const name of ['z', 'S', 'lpNext', 'bits']) expect(Buffer.from(small.tensors![name].data.buffer).equals(Buffer.from(full.tensors![name].data.buffer))).toBe(true);
    expect((small.json as any).bpc).toBe((full.json as any).bpc);
    // the full forward pass (forwardTraceNaive) gives the same rows
    const naive = forwardTraceNaive(weightsFrom(w, H), xs);
    expect(Buffer.from(naive.lpNext.buffer).equals(Buffer.from(small.tensors!.lpNext.data.buffer))).toBe(true);
    expect(Buffer.from(naive.logp.buffer).equals(Buffer.from(full.tensors!.logp.data.buffer))).toBe(true);
  });

  it.skipIf(!REF_WEIGHTS)('on the paper weights gives 0.079201 bpc over all 1023 positions (the cross-check figures (docs/definitions.md §V))', async () => {
    const p = { source: 'paper', hidden: 128 };
    const model = await modelStage.run(ctx(p, {}, { env: { TOTAL_INTERP_PAPER_WEIGHTS: REF_WEIGHTS } }));
    const out = await traceStage.run(ctx({ logpMaxBytes: 65536 }, { model: output(model.json, model.tensors), data: dataOutput(refBytes()) }));
    const j = out.json as any;
    expect(j.positions).toBe(1023);
    expect(Math.abs(j.bpc - 0.079201) / 0.079201).toBeLessThan(1e-4);
  });
});
