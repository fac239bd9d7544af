import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import modelStage from '../../stages/model.ts';
import { paramCount } from '../../lib/rnn/weights.ts';
import { REF_WEIGHTS } from '../rnn/helpers.ts';
import { ctx, output } from '../rnn/stage-ctx.ts';

const imp = (file: string, hidden = 128) => ({ source: file, hidden });

describe('model stage', () => {
  it('with source = train reads the train stage and declares no external file', async () => {
    const p = { source: 'train', hidden: 128 };
    expect((modelStage.inputs as (p: any) => string[])(p)).toEqual(['train']);
    expect(modelStage.externals!(p, {})).toEqual([]);
    const w = new Float32Array(paramCount(4)).map((_, i) => i);
    const train = output(
      { hidden: 4, bestEvalBpc: 1.5, finalEvalBpc: 1.6, epochs: 3, optimizer: 'sgd', seed: 7, bestEpoch: 2, kernel: 'ts' },
      { params: { dtype: 'float32', shape: [w.length], data: w } },
    );
    const out = await modelStage.run(ctx(p, { train }));
    expect(out.json).toEqual({
      source: 'train',
      H: 4,
      paramCount: paramCount(4),
      train: { bestEvalBpc: 1.5, finalEvalBpc: 1.6, epochs: 3, optimizer: 'sgd', seed: 7, bestEpoch: 2, kernel: 'ts' },
    });
    expect(out.tensors!.params.data).toBe(w);
  });

  it('importing a path has no upstream stage (never trains) and names the file as an external', () => {
    const p = imp('../shared/reference/sat_model.bin');
    expect((modelStage.inputs as (p: any) => string[])(p)).toEqual([]);
    const ext = modelStage.externals!(p, {});
    expect(ext).toHaveLength(1);
    expect(ext[0]).toMatchObject({ name: 'weights', path: REF_WEIGHTS });
    expect(ext[0].hint).toMatch(/model\.source/);
  });

  it('imports the paper weights in the authors layout', async () => {
    const p = imp(REF_WEIGHTS);
    const out = await modelStage.run(ctx(p, {}, { externals: { weights: { name: 'weights', path: REF_WEIGHTS } } }));
    expect(out.json).toEqual({ source: 'import', path: REF_WEIGHTS, H: 128, paramCount: 82304 });
    const t = out.tensors!.params;
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([82304]);
    expect(Number.isFinite(t.data[0])).toBe(true);
  });

  it('rejects a weights file of the wrong size, stating expected and actual byte counts', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'model-test-'));
    const file = path.join(dir, 'short.bin');
    writeFileSync(file, new Uint8Array(1000));
    const run = () => modelStage.run(ctx(imp(file), {}, { externals: { weights: { name: 'weights', path: file } } }));
    await expect(run()).rejects.toThrow(/expected 329216 bytes.*got 1000 bytes/);
    await expect(run()).rejects.toThrow(file);
  });
});
