import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadToy, makeToy, statuses, TOY_FILES, TOY_STAGES } from './toy.ts';
import { gc, type GcOptions } from '../../lib/engine/keep/gc.ts';
import type { Pipeline, StageStatus } from '../../lib/engine/pipeline.ts';
import { wordReason } from '../../lib/cli/commands.ts';

const worded = (st: StageStatus[]) => st.map((s) => ({ ...s, reasons: s.reasons.map(wordReason) }));
const gcOf = (p: Pipeline, o: Omit<GcOptions, 'reportsDir'>) => gc(p.project, p.store, { reportsDir: p.reportsDir, ...o });

describe('pipeline cache behaviour (toy stages, in-process)', () => {
  it('runs everything once, then a fresh stage is skipped', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    const first = await p.build(['c', 'd']);
    expect(statuses(first.runs)).toEqual({ a: 'ran', b: 'ran', c: 'ran', d: 'ran' });
    const again = await loadToy(dir);
    const second = await again.build(['c', 'd']);
    expect(statuses(second.runs)).toEqual({ a: 'cached', b: 'cached', c: 'cached', d: 'cached' });
    expect((await again.output(second.entries.c)).json).toEqual({ out: 7 }); // 0+1+2+3 + 1
  });

  it('the fingerprint memo of an external file two stages declare lasts one build: a same-size rewrite between two builds of one process is seen', async () => {
    const files = {
      ...TOY_FILES,
      'stages/x.ts': `export default { name: 'x', description: 'reads in.txt', inputs: [], externals: () => [{ name: 'in', path: ${JSON.stringify('IN')} }],
  async run({ externals }) { const fs = await import('node:fs'); return { json: { text: fs.readFileSync(externals.in.path, 'utf8') } }; } };\n`,
      'stages/y.ts': `export default { name: 'y', description: 'x, and in.txt again', inputs: ['x'], externals: () => [{ name: 'in', path: ${JSON.stringify('IN')} }],
  run({ inputs }) { return { json: { text: inputs.x.json.text } }; } };\n`,
      'schemas/x.params.json': JSON.stringify({ type: 'object', properties: {} }),
      'schemas/y.params.json': JSON.stringify({ type: 'object', properties: {} }),
    };
    const dir = makeToy(files);
    const input = path.join(dir, 'in.txt');
    for (const f of ['stages/x.ts', 'stages/y.ts']) fs.writeFileSync(path.join(dir, f), fs.readFileSync(path.join(dir, f), 'utf8').replaceAll('"IN"', JSON.stringify(input)));
    fs.writeFileSync(input, 'one');
    const p = await loadToy(dir, [...TOY_STAGES, 'stages/x.ts', 'stages/y.ts']);
    const first = await p.build(['y']);
    expect((await p.output(first.entries.y)).json).toEqual({ text: 'one' });
    // same size, in place, at once (likely within one clock tick: same mtime and ctime)
    fs.writeFileSync(input, 'two');
    const second = await p.build(['y']);
    expect(statuses(second.runs)).toEqual({ x: 'ran', y: 'ran' });
    expect((await p.output(second.entries.y)).json).toEqual({ text: 'two' });
  });

  it('a param change re-runs that stage and its downstream stages, and nothing else', async () => {
    const dir = makeToy();
    await (await loadToy(dir)).build(['c', 'd']);
    const p = await loadToy(dir);
    // offset changes a's tensor but not a.json.bucket, so d (which reads only the bucket) is cut off
    const r = await p.build(['c', 'd'], { overrides: { a: { offset: 1 } } });
    expect(statuses(r.runs)).toEqual({ a: 'ran', b: 'ran', c: 'ran', d: 'ran' });
    const r2 = await (await loadToy(dir)).build(['c'], { overrides: { a: { offset: 1 } } });
    expect(statuses(r2.runs)).toEqual({ a: 'cached', b: 'cached', c: 'cached' });
    expect((await p.output(r.entries.c)).json).toEqual({ out: 11 });
  });

  it('an unchanged upstream output leaves downstream cached (early cutoff)', async () => {
    const dir = makeToy();
    await (await loadToy(dir)).build(['d']);
    const p = await loadToy(dir);
    const r = await p.build(['c'], { overrides: { a: { offset: 0, n: 4 } } });
    expect(statuses(r.runs)).toEqual({ a: 'cached', b: 'ran', c: 'ran' });
    // b's code changes (so b re-runs) but its output does not: c stays cached.
    fs.writeFileSync(path.join(dir, 'stages/b.ts'), fs.readFileSync(path.join(dir, 'stages/b.ts'), 'utf8') + '\n// a comment: same output\n');
    const p2 = await loadToy(dir);
    const r2 = await p2.build(['c']);
    expect(statuses(r2.runs)).toEqual({ a: 'cached', b: 'ran', c: 'cached' });
  });

  it('a code change in a stage file, or in a lib file it imports, re-runs exactly the stages that depend on it', async () => {
    const dir = makeToy();
    await (await loadToy(dir)).build(['c', 'd']);
    fs.appendFileSync(path.join(dir, 'lib/util.ts'), 'export const unused = 1;\n');
    const p = await loadToy(dir);
    const st = worded(await p.status({ targets: ['c', 'd'] }));
    const b = st.find((s) => s.name === 'b')!;
    expect(b.state).toBe('stale');
    expect(b.reasons).toContain('code changed: lib/util.ts');
    expect(st.find((s) => s.name === 'a')!.state).toBe('fresh');
    expect(st.find((s) => s.name === 'd')!.state).toBe('fresh');
    const r = await p.build(['c', 'd']);
    expect(statuses(r.runs)).toEqual({ a: 'cached', b: 'ran', c: 'cached', d: 'cached' });

    fs.appendFileSync(path.join(dir, 'stages/d.ts'), '// edited\n');
    const p2 = await loadToy(dir);
    expect(worded(await p2.status()).find((s) => s.name === 'd')!.reasons).toEqual(['code changed: stages/d.ts']);
    const r2 = await p2.build(['c', 'd']);
    expect(statuses(r2.runs)).toEqual({ a: 'cached', b: 'cached', c: 'cached', d: 'ran' });
  });

  it('status names each reason: never built, param, upstream, corrupt entry', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    expect(worded(await p.status({ targets: ['c'] })).find((s) => s.name === 'a')).toMatchObject({ state: 'missing', reasons: ['never built'] });
    await p.build(['c']);
    const st = worded(await (await loadToy(dir)).status({ overrides: { a: { n: 6 } } }));
    expect(st.find((s) => s.name === 'a')).toMatchObject({ state: 'stale', reasons: ['param a.n: 4 -> 6'] });
    expect(st.find((s) => s.name === 'b')).toMatchObject({ state: 'stale', reasons: ['upstream a stale'] });
  });

  it('status explains a miss against the closest earlier build, not just the last one', async () => {
    const dir = makeToy();
    await (await loadToy(dir)).build(['a']);
    await (await loadToy(dir)).build(['a'], { overrides: { a: { n: 9 } } }); // the latest build
    const st = worded(await (await loadToy(dir)).status({ overrides: { a: { offset: 1 } }, targets: ['a'] }));
    expect(st.find((s) => s.name === 'a')).toMatchObject({ state: 'stale', reasons: ['param a.offset: 0 -> 1'] });
  });

  it('a stage that declares overrides sees the non-default params of every stage, and they are in its key', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    const r1 = await p.build(['e', 'd']);
    expect((await p.output(r1.entries.e)).json).toEqual({ overrides: {} });
    const r2 = await (await loadToy(dir)).build(['e', 'd'], { overrides: { d: {}, a: { n: 4 }, e: { tag: 'y' } } });
    expect(statuses(r2.runs)).toEqual({ a: 'cached', d: 'cached', e: 'ran' }); // n = 4 is the default: not an override
    expect((await p.output(r2.entries.e)).json).toEqual({ overrides: { e: { tag: 'y' } } });
    const r3 = await (await loadToy(dir)).build(['d'], { overrides: { e: { tag: 'z' } } });
    expect(statuses(r3.runs)).toEqual({ a: 'cached', d: 'cached' }); // a stage that does not declare it is not affected
  });

  it('a truncated or bit-flipped object, or a damaged entry, is recomputed with a warning, never served', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    const built = await p.build(['c']);
    const aEntry = built.entries.a;
    const obj = p.store.objectPath(aEntry.outputs.tensors.v.hash);
    const bytes = fs.readFileSync(obj);
    // bit flip in the tensor of a
    bytes[bytes.length - 1] ^= 0x01;
    fs.writeFileSync(obj, bytes);
    const p2 = await loadToy(dir);
    expect(worded(await p2.status()).find((s) => s.name === 'a')).toMatchObject({ state: 'stale', reasons: ['cache entry corrupt'] });
    const r = await p2.build(['c']);
    expect(statuses(r.runs)).toEqual({ a: 'ran', b: 'cached', c: 'cached' });
    expect(p2.lines.some((l) => /^warning: stage a: .*fails its hash check.*recomputing/.test(l))).toBe(true);
    expect((await p2.output(r.entries.c)).json).toEqual({ out: 7 });

    // truncated json object of b
    const bObj = p2.store.objectPath(r.entries.b.outputs.json.hash);
    fs.writeFileSync(bObj, fs.readFileSync(bObj).subarray(0, 3));
    const p3 = await loadToy(dir);
    const r3 = await p3.build(['c']);
    expect(statuses(r3.runs)).toEqual({ a: 'cached', b: 'ran', c: 'cached' });
    expect(p3.lines.some((l) => /warning: stage b: .*truncated/.test(l))).toBe(true);

    // a damaged entry file
    const cEntry = p3.store.entryPath('c', r3.entries.c.key);
    fs.writeFileSync(cEntry, fs.readFileSync(cEntry, 'utf8').replace('"seconds"', '"secondz"'));
    const p4 = await loadToy(dir);
    const r4 = await p4.build(['c']);
    expect(statuses(r4.runs)).toEqual({ a: 'cached', b: 'cached', c: 'ran' });
    expect(p4.lines.some((l) => /warning: stage c: .*checksum/.test(l))).toBe(true);
  });

  it('a JSON output that no longer satisfies its schema is recomputed', async () => {
    const dir = makeToy();
    await (await loadToy(dir)).build(['b']);
    // The schema now requires a field the cached output lacks: the entry must not be served.
    const schemaPath = path.join(dir, 'schemas/b.output.json');
    const s = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
    s.properties.sum.maximum = -1;
    fs.writeFileSync(schemaPath, JSON.stringify(s));
    const p = await loadToy(dir);
    // schema files are part of the code hash: b is stale by code, and its new output fails on write
    expect(worded(await p.status()).find((x) => x.name === 'b')!.reasons).toEqual(['code changed: schemas/b.output.json']);
    await expect(p.build(['b'])).rejects.toThrow(/fails schemas\/b\.output\.json on write/);
  });

  it('artifacts are written into reports/', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    await p.build(['c']);
    expect(fs.readFileSync(path.join(dir, 'reports/toy/out.txt'), 'utf8')).toBe('out=7\n');
  });

  it('--jobs 2 runs independent stages (never timed: in this process) with the same results', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    const r = await p.build(['c', 'd'], { jobs: 2 });
    expect(statuses(r.runs)).toEqual({ a: 'ran', b: 'ran', c: 'ran', d: 'ran' });
    expect((await p.output(r.entries.c)).json).toEqual({ out: 7 });
    const again = await (await loadToy(dir)).build(['c', 'd']);
    expect(statuses(again.runs)).toEqual({ a: 'cached', b: 'cached', c: 'cached', d: 'cached' });
  });

  it('gc frees what no current key reaches and keeps what it does', async () => {
    const dir = makeToy();
    await (await loadToy(dir)).build(['c']);
    await (await loadToy(dir)).build(['c'], { overrides: { a: { n: 9 } } });
    const p = await loadToy(dir);
    // reports/toy/out.txt now holds the n = 9 build's artifact; leave that link out here
    // (the next test covers it).
    const freed = gc(p.project, p.store, { reportsDir: p.reportsDir,  graceMs: 0, keepMaterialized: false });
    expect(freed.bytes).toBeGreaterThan(0);
    expect(freed.entries).toBe(3); // a, b, c for n = 9
    const r = await (await loadToy(dir)).build(['c']);
    expect(statuses(r.runs)).toEqual({ a: 'cached', b: 'cached', c: 'cached' });
    expect(gcOf(await loadToy(dir), { graceMs: 0, keepMaterialized: false }).bytes).toBe(0);
  });

  it('gc keeps the entries the caller names (keep), with their upstream closure, even without reports', async () => {
    const dir = makeToy();
    await (await loadToy(dir)).build(['c']);
    const other = await (await loadToy(dir)).build(['b'], { overrides: { a: { n: 9 } } });
    const p = await loadToy(dir);
    const dry = gc(p.project, p.store, { reportsDir: p.reportsDir,  graceMs: 0, keepMaterialized: false, dryRun: true });
    expect(dry.removed.map((r) => r.stage).sort()).toEqual(['a', 'b']); // n = 9's a and b
    const kept = gc(p.project, p.store, { reportsDir: p.reportsDir,  graceMs: 0, keepMaterialized: false, keep: [`b/${other.entries.b.key}`, 'nosuch/0000'] });
    expect(kept.entries).toBe(0); // b named, a upstream of it; an id with no entry is ignored
    expect(kept.keptForReports).toBe(2);
    expect(statuses((await (await loadToy(dir)).build(['b'], { overrides: { a: { n: 9 } } })).runs)).toEqual({ a: 'cached', b: 'cached' });
  });

  it('gc keeps every entry a file in reports/ was built from, with its upstream closure', async () => {
    const dir = makeToy();
    await (await loadToy(dir)).build(['c', 'd']);
    await (await loadToy(dir)).build(['c', 'd'], { overrides: { a: { n: 9 } } }); // reports/toy/out.txt is now n = 9's
    const p = await loadToy(dir);
    const dry = gc(p.project, p.store, { reportsDir: p.reportsDir,  graceMs: 0, dryRun: true });
    // n = 9's a, b, c are kept for the file on disk (d is not upstream of it and goes);
    // the defaults' builds are kept as the current params' reach.
    expect(dry.removed.map((r) => r.stage)).toEqual(['d']);
    expect(dry.keptForReports).toBe(3);
    expect(gc(p.project, p.store, { reportsDir: p.reportsDir,  graceMs: 0 }).entries).toBe(1);
    const r = await (await loadToy(dir)).build(['c'], { overrides: { a: { n: 9 } } });
    expect(statuses(r.runs)).toEqual({ a: 'cached', b: 'cached', c: 'cached' });
    // Once the file is gone (or rewritten by another build), nothing links those entries.
    fs.rmSync(path.join(dir, 'reports/toy/out.txt'));
    expect(gcOf(await loadToy(dir), { graceMs: 0 }).entries).toBe(3);
  });
});
