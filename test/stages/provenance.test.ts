// Keyed by content: the same bytes read from another source, or under another name, re-run
// nothing downstream (the data's embedded copy, ENWIK9 and data.path; the weights as
// "paper", by path and as a renamed copy); one changed byte re-runs everything. Where the
// bytes came from is the entry's provenance: kept, shown, never in a key.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../lib/engine/pipeline.ts';
import { STAGES } from '../../pipeline.ts';
import { paramCount } from '../../lib/rnn/weights.ts';
import { PAPER_WEIGHTS, REF_DATA, root } from '../helpers/reference.ts';
import { EMBEDDED_HELDOUT_PATH } from '../../lib/data/inputs.ts';

// A few analysis stages on a tiny model: what matters is what re-runs, not the figures.
const TARGETS = ['isomorphism', 'boolean', 'skipgrams'];
const ANALYSES = ['trace', ...TARGETS];
const TINY_TRAIN = { train: { hidden: 8, epochs: 3, evalEvery: 1 } };

function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

async function build(cache: string, env: Record<string, string>, overrides: Record<string, Record<string, unknown>>) {
  const p = await Pipeline.load({ root, stageFiles: STAGES, cacheDir: cache, reportsDir: path.join(cache, 'reports'), env });
  const { runs, entries } = await p.build(TARGETS, { overrides });
  return { p, runs, entries, ran: runs.filter((r) => r.status === 'ran').map((r) => r.name) };
}

/** A copy of `src` under `name` in a new folder, optionally with byte `flip` changed. */
function copyAs(src: string, name: string, flip?: number): string {
  const f = path.join(tmp('ti-prov-file-'), name);
  const b = new Uint8Array(fs.readFileSync(src));
  if (flip !== undefined) b[flip] ^= 1;
  fs.writeFileSync(f, b);
  return f;
}

describe('results keyed by content, provenance beside them', () => {
  // The copies hold 2048 bytes: the prefix and its default held-out text (the next 1024), as
  // the shipped files do; a text of exactly 1024 bytes has no held-out text, so other data.
  // The embedded run's data key has two files (the shipped 1024 and 2048), a local file's
  // one, so the data stage reads again; its output is the same, so nothing after it runs.
  it('the embedded copy, ENWIK9 and a data.path copy of the same 2048 bytes: the second and third build run nothing after data, status stays fresh', async () => {
    const cache = tmp('ti-prov-data-');
    const embedded = await build(cache, {}, TINY_TRAIN);
    expect(embedded.ran).toEqual(expect.arrayContaining(['data', 'train', ...ANALYSES]));
    const viaEnv = await build(cache, { ENWIK9: copyAs(EMBEDDED_HELDOUT_PATH, 'enwik_2048.txt') }, TINY_TRAIN);
    expect(viaEnv.ran).toEqual(['data']);
    expect(viaEnv.entries.data.outputHash).toBe(embedded.entries.data.outputHash);
    expect((await viaEnv.p.output(viaEnv.entries.data)).provenance).toMatchObject({ name: 'enwik_2048.txt' });
    const viaPath = { ...TINY_TRAIN, data: { path: copyAs(EMBEDDED_HELDOUT_PATH, 'mine.txt') } };
    const path3 = await build(cache, {}, viaPath);
    expect(path3.ran).toEqual([]);
    // the reused data entry is the ENWIK9 run's: its provenance says so, and the build says so
    expect((await path3.p.output(path3.entries.data)).provenance).toMatchObject({ name: 'enwik_2048.txt' });
    expect(path3.runs.find((r) => r.name === 'data')!.note).toBe('built from identical bytes named enwik_2048.txt; here source is mine.txt');
    const st = await viaEnv.p.status({ overrides: viaPath, targets: TARGETS });
    expect(st.filter((s) => s.needed && s.state !== 'fresh')).toEqual([]);
    // a copy of only the 1024 bytes is the same data too: its held-out text is the shipped bytes after it
    for (const [env, over] of [[{ ENWIK9: copyAs(REF_DATA, 'enwik_1024.txt') }, TINY_TRAIN], [{}, { ...TINY_TRAIN, data: { path: copyAs(REF_DATA, 'kib.txt') } }]] as const) {
      const kib = await build(cache, env, over);
      expect(kib.ran.filter((s) => s !== 'data')).toEqual([]);
      expect(kib.entries.data.outputHash).toBe(embedded.entries.data.outputHash);
    }
  }, 120_000);

  it('one changed byte in the data re-runs everything downstream of it', async () => {
    const cache = tmp('ti-prov-byte-');
    const n = { data: { bytes: 1000 } }; // 1024 bytes are checked against enwik9's hash; 1000 are anyone's
    expect((await build(cache, {}, { ...TINY_TRAIN, ...n })).ran).toContain('data');
    const changed = await build(cache, {}, { ...TINY_TRAIN, data: { bytes: 1000, path: copyAs(REF_DATA, 'enwik9-head-1024.txt', 500) } });
    expect(changed.ran.sort()).toEqual(['data', 'model', 'train', ...ANALYSES].sort());
  }, 120_000);

  it('a weights file and a renamed copy of it in another folder are one model: the second build runs nothing', async () => {
    const cache = tmp('ti-prov-w-');
    const w = new Float32Array(paramCount(8)).map((_, i) => 0.1 * Math.sin(i * 0.7));
    const file = path.join(tmp('ti-prov-w8-'), 'w8.bin');
    fs.writeFileSync(file, new Uint8Array(w.buffer));
    const first = await build(cache, {}, { model: { source: file, hidden: 8 } });
    expect(first.ran).toEqual(expect.arrayContaining(['model', ...ANALYSES]));
    const renamed = await build(cache, {}, { model: { source: copyAs(file, 'colleague-weights.bin'), hidden: 8 } });
    expect(renamed.ran).toEqual([]);
    expect((await renamed.p.output(renamed.entries.model)).provenance).toEqual({ name: 'w8.bin' });
    // a changed byte is other weights: everything that reads the model runs (skipgrams reads only the data)
    expect((await build(cache, {}, { model: { source: copyAs(file, 'w8.bin', 40), hidden: 8 } })).ran.sort()).toEqual(['model', 'trace', 'isomorphism', 'boolean'].sort());
  }, 120_000);

  it.skipIf(!PAPER_WEIGHTS)("the paper's weights as \"paper\", by path and as a renamed copy: the second and third build run nothing", async () => {
    const cache = tmp('ti-prov-paper-');
    const env = { TOTAL_INTERP_PAPER_WEIGHTS: PAPER_WEIGHTS };
    const first = await build(cache, env, { model: { source: 'paper' } });
    expect(first.ran).toEqual(expect.arrayContaining(['model', ...ANALYSES]));
    expect((await build(cache, env, { model: { source: PAPER_WEIGHTS } })).ran).toEqual([]);
    const renamed = await build(cache, {}, { model: { source: copyAs(PAPER_WEIGHTS, 'weights.bin') } });
    expect(renamed.ran).toEqual([]);
    expect(renamed.runs.find((r) => r.name === 'model')!.note).toBe('built from identical bytes named paper:sat_model.bin; here weights is weights.bin');
  }, 120_000);
});
