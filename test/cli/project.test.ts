// The command line on a copy of the real project with tiny models: gc keeps what every
// report under reports/ was built from (two models: one trained, one imported); show and
// export read results without code; status --exit-code follows an edit and a rebuild.

import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyProject, pipelineCli } from '../helpers/project.ts';
import { parseNpyHeader } from '../../lib/cli/npy.ts';
import { paramCount } from '../../lib/rnn/weights.ts';

const H = 8;
const TRAINED = ['--set', `train.hidden=${H}`, '--set', 'train.epochs=5', '--set', 'train.evalEvery=5'];
const IMPORTED = ['--set', 'model.source=w8.bin', '--set', `model.hidden=${H}`];

function entryIds(dir: string): string[] {
  const root = path.join(dir, 'cache/entries');
  return fs.readdirSync(root).flatMap((s) => fs.readdirSync(path.join(root, s)).filter((f) => f.endsWith('.json')).map((f) => `${s}/${f}`)).sort();
}

describe('gc, show and export on a project copy with two tiny models', () => {
  let dir: string;
  let weights: Uint8Array;

  beforeAll(async () => {
    dir = copyProject();
    // An imported model: H = 8 in the authors' layout, deterministic values.
    const w = new Float32Array(paramCount(H));
    for (let i = 0; i < w.length; i++) w[i] = 0.1 * Math.sin(i * 0.7);
    weights = new Uint8Array(w.buffer);
    fs.writeFileSync(path.join(dir, 'w8.bin'), weights);
    for (const set of [TRAINED, IMPORTED]) {
      const r = await pipelineCli(dir, ['report', '--quiet', ...set]);
      expect(r.code, r.stderr).toBe(0);
    }
  }, 180000);

  it('gc --yes deletes neither report\'s entries; what no report and no param set needs goes, after asking', async () => {
    const before = entryIds(dir);
    const gc1 = await pipelineCli(dir, ['gc', '--yes', '--json']);
    expect(gc1.code, gc1.stderr).toBe(0);
    expect(JSON.parse(gc1.stdout)).toMatchObject({ entries: 0, objects: 0 });
    expect(entryIds(dir)).toEqual(before);
    for (const set of [TRAINED, IMPORTED]) expect((await pipelineCli(dir, ['status', '--exit-code', ...set])).code).toBe(0);

    // A third model whose results no report shows.
    const extra = ['--set', `train.hidden=${H}`, '--set', 'train.epochs=3', '--set', 'train.evalEvery=3'];
    expect((await pipelineCli(dir, ['run', 'trace', '--quiet', ...extra])).code).toBe(0);
    const withExtra = entryIds(dir);
    expect(withExtra.length).toBe(before.length + 3); // train, model, trace

    const dry = await pipelineCli(dir, ['gc', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stderr.match(/^\s+(train|model|trace)\s+[0-9a-f]{12}/gm)).toHaveLength(3);
    const noYes = await pipelineCli(dir, ['gc']); // not a terminal: says what would go, deletes nothing
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/^error: gc: would free \d+(\.\d+)? (B|kB|MB) \(3 entries/m);
    expect(noYes.stderr).toMatch(/^hint: .*--yes/m);
    expect(entryIds(dir)).toEqual(withExtra);

    const gc2 = await pipelineCli(dir, ['gc', '--yes', '--json']);
    expect(JSON.parse(gc2.stdout).entries).toBe(3);
    expect(entryIds(dir)).toEqual(before);
    for (const set of [TRAINED, IMPORTED]) expect((await pipelineCli(dir, ['status', '--exit-code', ...set])).code).toBe(0);
  }, 120000);

  it('export model writes the weights in the authors\' layout, byte for byte', async () => {
    const r = await pipelineCli(dir, ['export', 'model', '--out', 'out/w.bin', ...IMPORTED]);
    expect(r.code, r.stderr).toBe(0);
    expect(new Uint8Array(fs.readFileSync(path.join(dir, 'out/w.bin')))).toEqual(weights);
  });

  it('show lists tensors with dtype and shape; export STAGE.TENSOR writes a .npy whose header reads back', async () => {
    const show = await pipelineCli(dir, ['show', 'trace', '--json', ...IMPORTED]);
    expect(show.code, show.stderr).toBe(0);
    const j = JSON.parse(show.stdout);
    expect(j.stage).toBe('trace');
    expect(j.tensors.z).toEqual({ dtype: 'float32', shape: [expect.any(Number), H] });
    const text = await pipelineCli(dir, ['show', 'model', ...IMPORTED]);
    expect(text.stdout).toMatch(/^tensors\n\s+params\s+float32\s+\[4424\]$/m);
    // the file's name is shown as provenance, outside the output
    expect(text.stdout).toMatch(/^provenance \(the run that built it; not part of any key\)\n[^]*"name": "w8\.bin"/m);
    expect(j.provenance).toEqual({ files: {}, stage: {} });

    const ex = await pipelineCli(dir, ['export', 'trace.z', '--out', 'z.npy', ...IMPORTED]);
    expect(ex.code, ex.stderr).toBe(0);
    const bytes = new Uint8Array(fs.readFileSync(path.join(dir, 'z.npy')));
    const h = parseNpyHeader(bytes);
    expect(h).toMatchObject({ descr: '<f4', fortranOrder: false, shape: j.tensors.z.shape });
    expect(h.offset % 64).toBe(0);
    expect(bytes.length - h.offset).toBe(4 * j.tensors.z.shape[0] * H);
  }, 60000);

  it('unknown stages and tensors list the valid names; a stage not built is not built with --no-build', async () => {
    const t = await pipelineCli(dir, ['export', 'trace.nope', '--out', 'x.npy', ...IMPORTED]);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/^error: export: stage trace has no tensor "nope"\nvalid tensors of trace: .*\bz\b/m);
    expect(t.stderr).toMatch(/^hint: /m);
    expect(fs.existsSync(path.join(dir, 'x.npy'))).toBe(false);
    const s = await pipelineCli(dir, ['show', 'nosuch']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/unknown stage "nosuch"\nvalid stages: data, train/);
    const nb = await pipelineCli(dir, ['show', 'trace', '--no-build', '--set', `model.hidden=${H}`, '--set', 'model.source=nosuch.bin']);
    expect(nb.code).toBe(2);
    expect(nb.stderr).toMatch(/^hint: /m);
  }, 60000);

  it('status --exit-code is 1 after a stage file is edited and 0 after report', async () => {
    expect((await pipelineCli(dir, ['status', '--exit-code', ...IMPORTED])).code).toBe(0);
    fs.appendFileSync(path.join(dir, 'stages/influence.ts'), '// tweak\n');
    const st = await pipelineCli(dir, ['status', '--exit-code', ...IMPORTED]);
    expect(st.code).toBe(1);
    expect(st.stdout).toMatch(/stale\s+influence\s*\n\s+code changed: stages\/influence\.ts/);
    expect((await pipelineCli(dir, ['report', '--quiet', ...IMPORTED])).code).toBe(0);
    expect((await pipelineCli(dir, ['status', '--exit-code', ...IMPORTED])).code).toBe(0);
  }, 60000);
});
