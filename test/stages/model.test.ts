// The model stage: trained weights, the paper's weights by name (no network here: a local
// copy through TOTAL_INTERP_PAPER_WEIGHTS, or a download folder; the downloader itself is
// tested against loopback servers in test/data/paper-weights.test.ts), or a file by path.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import modelStage from '../../stages/model.ts';
import { paramCount } from '../../lib/rnn/weights.ts';
import { PAPER_WEIGHTS_SHA256 } from '../../lib/data/known.ts';
import { PAPER_WEIGHTS } from '../helpers/reference.ts';
import { ctx, output } from '../rnn/stage-ctx.ts';

const imp = (file: string, hidden = 128) => ({ source: file, hidden });
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'model-test-'));

describe('model stage', () => {
  it('with source = train reads the train stage and declares no external file', async () => {
    const p = { source: 'train', hidden: 128 };
    expect((modelStage.inputs as (p: any) => string[])(p)).toEqual(['train']);
    expect(modelStage.externals!(p, {})).toEqual([]);
    const w = new Float32Array(paramCount(4)).map((_, i) => i);
    const train = output(
      { hidden: 4, bestEvalBpc: 1.5, finalEvalBpc: 1.6, epochs: 3, optimizer: 'sgd', seed: 7, bestEpoch: 2, kernel: 'ts', heldout: { bestBpc: 3.5 }, converged: false },
      { params: { dtype: 'float32', shape: [w.length], data: w } },
    );
    const out = await modelStage.run(ctx(p, { train }));
    expect(out.json).toEqual({
      source: 'train',
      H: 4,
      paramCount: paramCount(4),
      // the held-out curve and the convergence flag travel with the model
      train: { bestEvalBpc: 1.5, finalEvalBpc: 1.6, epochs: 3, optimizer: 'sgd', seed: 7, bestEpoch: 2, kernel: 'ts', heldout: { bestBpc: 3.5 }, converged: false },
    });
    expect(out.tensors!.params.data).toBe(w);
  });

  it('importing a path has no upstream stage (never trains) and names the file as an external', () => {
    const p = imp('some/dir/weights.bin');
    expect((modelStage.inputs as (p: any) => string[])(p)).toEqual([]);
    const ext = modelStage.externals!(p, {});
    expect(ext).toHaveLength(1);
    expect(ext[0]).toMatchObject({ name: 'weights', path: path.resolve('some/dir/weights.bin') });
    expect(ext[0].hint).toMatch(/model\.source/);
  });

  it('source = paper has no upstream; its external is pinned by sha256 in code, not by where it lives', () => {
    const p = imp('paper');
    expect((modelStage.inputs as (p: any) => string[])(p)).toEqual([]);
    expect(modelStage.externals!(p, { TOTAL_INTERP_PAPER_WEIGHTS: '/anywhere/sat_model.bin' })).toEqual([
      { name: 'weights', path: '', sha256: PAPER_WEIGHTS_SHA256, display: 'paper:sat_model.bin' },
    ]);
    // "paper", a path and a renamed copy enter keys alike: the content is in the external
    expect(modelStage.keyParams!(p)).toEqual(modelStage.keyParams!(imp('/a/b/weights.bin')));
    expect(modelStage.keyParams!(imp('train'))).toEqual(imp('train'));
    // where the file is found is read from the environment but kept out of the key
    expect(modelStage.env ?? []).toEqual([]);
    expect(modelStage.pathEnv).toEqual(expect.arrayContaining(['TOTAL_INTERP_PAPER_WEIGHTS', 'TOTAL_INTERP_DOWNLOADS']));
  });

  it('imports a weights file by path: sha256 in the output, its basename in the provenance (never its folder)', async () => {
    const dir = tmp();
    const file = path.join(dir, 'mine.bin');
    const w = new Float32Array(paramCount(4)).map((_, i) => i / 7);
    writeFileSync(file, new Uint8Array(w.buffer));
    const out = await modelStage.run(ctx(imp(file, 4), {}, { externals: { weights: { name: 'weights', path: file } } }));
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    expect(out.json).toEqual({ source: 'import', sha256: sha, H: 4, paramCount: paramCount(4) });
    expect(out.provenance).toEqual({ name: 'mine.bin' });
    expect(JSON.stringify(out.json)).not.toContain(dir);
    expect(Array.from(out.tensors!.params.data)).toEqual(Array.from(w));
  });

  it.skipIf(!PAPER_WEIGHTS)('source = paper reads TOTAL_INTERP_PAPER_WEIGHTS, or else the download folder, with the same output', async () => {
    const named = await modelStage.run(ctx(imp('paper'), {}, { env: { TOTAL_INTERP_PAPER_WEIGHTS: PAPER_WEIGHTS } }));
    expect(named.json).toEqual({ source: 'import', sha256: PAPER_WEIGHTS_SHA256, H: 128, paramCount: 82304 });
    expect(named.provenance).toEqual({ name: 'paper:sat_model.bin' });
    const t = named.tensors!.params;
    expect([t.dtype, t.shape]).toEqual(['float32', [82304]]);
    const downloads = tmp();
    copyFileSync(PAPER_WEIGHTS, path.join(downloads, 'sat_model.bin'));
    const found = await modelStage.run(
      ctx(imp('paper'), {}, { env: { TOTAL_INTERP_DOWNLOADS: downloads, TOTAL_INTERP_PAPER_WEIGHTS_URL: 'http://127.0.0.1:9/never-contacted' } }),
    );
    expect(found.json).toEqual(named.json);
    expect(Buffer.from(found.tensors!.params.data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true);
  });

  it('source = paper refuses a TOTAL_INTERP_PAPER_WEIGHTS file with the wrong sha256, with a hint', async () => {
    const file = path.join(tmp(), 'sat_model.bin');
    writeFileSync(file, new Uint8Array(paramCount(128) * 4)); // the right size, the wrong bytes
    const run = modelStage.run(ctx(imp('paper'), {}, { env: { TOTAL_INTERP_PAPER_WEIGHTS: file } }));
    await expect(run).rejects.toThrow(/TOTAL_INTERP_PAPER_WEIGHTS=.*sat_model\.bin: sha256 [0-9a-f]{64}, not that of the paper's sat_model\.bin.*refused\nhint: /);
  });

  it('rejects a weights file of the wrong size, stating expected and actual byte counts', async () => {
    const file = path.join(tmp(), 'short.bin');
    writeFileSync(file, new Uint8Array(1000));
    const run = () => modelStage.run(ctx(imp(file), {}, { externals: { weights: { name: 'weights', path: file } } }));
    await expect(run()).rejects.toThrow(/expected 329216 bytes.*got 1000 bytes/);
    await expect(run()).rejects.toThrow(file);
  });
});
