// Results do not depend on where things are: two checkouts of the project in different
// folders, sharing one cache, share every entry; a moved checkout re-runs nothing; the
// paper's weights and a data file found in different places give the same keys. Nothing
// in the cache or the report names a folder.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../lib/engine/pipeline.ts';
import { STAGES } from '../../pipeline.ts';
import { copyProject } from '../helpers/project.ts';
import { paramCount } from '../../lib/rnn/weights.ts';
import { PAPER_WEIGHTS } from '../helpers/reference.ts';
import { EMBEDDED_HELDOUT_PATH } from '../../lib/data/inputs.ts';

const TINY = { train: { hidden: 8, epochs: 3, evalEvery: 1 } };

async function build(root: string, cacheDir: string, env: Record<string, string>, overrides: Record<string, Record<string, unknown>>, targets = ['report']) {
  const p = await Pipeline.load({ root, stageFiles: STAGES, cacheDir, env });
  const { runs, entries } = await p.build(targets, { overrides });
  return { p, runs, entries, ran: runs.filter((r) => r.status === 'ran').map((r) => r.name) };
}

/** Every file under `dir`, as bytes. */
function allFiles(dir: string): Buffer[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => fs.readFileSync(path.join(d.parentPath, d.name)));
}

function expectNoPath(files: Buffer[], folders: string[]) {
  for (const f of folders) expect(files.filter((b) => b.includes(f)).length, `cache or report files mentioning ${f}`).toBe(0);
}

describe('relocatable results', () => {
  it('two checkouts in different folders share one cache; a moved checkout re-runs nothing', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-reloc-'));
    const cache = path.join(base, 'shared-cache');
    const a = copyProject(path.join(base, 'alice'));
    const b = copyProject(path.join(base, 'bob-checkout'));
    const first = await build(a, cache, {}, TINY);
    expect(first.ran).toContain('train');
    expect(first.ran).toContain('report');
    const second = await build(b, cache, {}, TINY);
    expect(second.ran).toEqual([]);
    expect(second.runs.every((r) => r.status === 'cached')).toBe(true);
    // the report is materialized in the second checkout too, with the same content
    const rel = (await second.p.output(second.entries.report)).json.report as string;
    expect(fs.readFileSync(path.join(b, 'reports', rel), 'utf8')).toBe(fs.readFileSync(path.join(a, 'reports', rel), 'utf8'));

    const moved = path.join(base, 'moved', 'alice-elsewhere');
    fs.mkdirSync(path.dirname(moved));
    fs.renameSync(a, moved);
    const third = await build(moved, cache, {}, TINY);
    expect(third.ran).toEqual([]);
    expectNoPath([...allFiles(cache), ...allFiles(path.join(moved, 'reports'))], [a, b, moved]);
  }, 120_000);

  it('a weights file named by an absolute path in each checkout: the second checkout re-runs nothing, and no folder enters a key or report', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-reloc-import-'));
    const cache = path.join(base, 'cache');
    const H = 8;
    const w = new Float32Array(paramCount(H));
    for (let i = 0; i < w.length; i++) w[i] = 0.1 * Math.sin(i * 0.7);
    const roots = ['one', 'two'].map((d) => copyProject(path.join(base, d)));
    for (const r of roots) fs.writeFileSync(path.join(r, 'w8.bin'), new Uint8Array(w.buffer));
    const imported = (r: string) => ({ model: { source: path.join(r, 'w8.bin'), hidden: H } });
    const first = await build(roots[0], cache, {}, imported(roots[0]));
    expect(first.ran).toContain('report');
    const second = await build(roots[1], cache, {}, imported(roots[1]));
    expect(second.ran).toEqual([]);
    expect((await second.p.output(second.entries.report)).json.label).toBe((await first.p.output(first.entries.report)).json.label);
    expectNoPath([...allFiles(cache), ...allFiles(path.join(roots[1], 'reports'))], roots);
  }, 120_000);

  it('a data file found by ENWIK9 in two places (same name, same bytes) gives the same data entry', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-reloc-data-'));
    const cache = path.join(base, 'cache');
    const root = copyProject(path.join(base, 'project'));
    const [x, y] = ['x', 'y'].map((d) => {
      fs.mkdirSync(path.join(base, d));
      fs.copyFileSync(EMBEDDED_HELDOUT_PATH, path.join(base, d, 'enwik9.txt'));
      return path.join(base, d, 'enwik9.txt');
    });
    const first = await build(root, cache, { ENWIK9: x }, {}, ['data']);
    expect(first.ran).toEqual(['data']);
    expect((await build(root, cache, { ENWIK9: y }, {}, ['data'])).ran).toEqual([]);
    // another name for the same bytes is the same input: cached, and the build says so
    const z = path.join(base, 'y', 'other.txt');
    fs.copyFileSync(EMBEDDED_HELDOUT_PATH, z);
    const renamed = await build(root, cache, { ENWIK9: z }, {}, ['data']);
    expect(renamed.ran).toEqual([]);
    expect(renamed.runs[0].note).toBe('built from identical bytes named enwik9.txt; here source is other.txt');
    expectNoPath(allFiles(cache), [x, y, z, path.join(base, 'x'), path.join(base, 'y')]);
  }, 60_000);

  it.skipIf(!PAPER_WEIGHTS)('model.source=paper gives the same keys whether the weights are named by TOTAL_INTERP_PAPER_WEIGHTS or downloaded', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-reloc-paper-'));
    const cache = path.join(base, 'cache');
    const root = copyProject(path.join(base, 'project'));
    const downloads = path.join(base, 'downloads');
    fs.mkdirSync(downloads);
    fs.copyFileSync(PAPER_WEIGHTS, path.join(downloads, 'sat_model.bin'));
    const paper = { model: { source: 'paper' } };
    const first = await build(root, cache, { TOTAL_INTERP_PAPER_WEIGHTS: PAPER_WEIGHTS }, paper, ['trace']);
    expect(first.ran).toEqual(expect.arrayContaining(['model', 'trace']));
    const second = await build(root, cache, { TOTAL_INTERP_DOWNLOADS: downloads, TOTAL_INTERP_PAPER_WEIGHTS_URL: 'http://127.0.0.1:9/unused' }, paper, ['trace']);
    expect(second.ran).toEqual([]);
    expectNoPath(allFiles(cache), [path.dirname(PAPER_WEIGHTS), downloads]);
  }, 60_000);
});
