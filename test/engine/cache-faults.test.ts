// What disks and hosts do to a cache: a full disk, a read-only cache, damaged objects that
// still hash right, oversized files, code planted in the cache. Each is either served
// correctly or refused with one error naming the cache; never a wrong result.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, loadToy, makeToy, statuses, TOY_FILES, TOY_STAGES } from './toy.ts';
import { sha256, canonicalJson } from '../../lib/engine/keep/hash.ts';
import { LocalStore, type Store } from '../../lib/engine/keep/store.ts';
import { CorruptError, type Entry } from '../../lib/engine/keep/entry.ts';
import { defaultsOf, loadSchemas } from '../../lib/engine/params.ts';
import { checkParams } from '../../lib/engine/validate.ts';
import { parseWeightsFile, paramCount } from '../../lib/rnn/weights.ts';
import { loadReport } from '../../lib/cli/reports.ts';
import { describe as describeError, exitCodeOf } from '../../lib/cli/errors.ts';
import { gc } from '../../lib/engine/keep/gc.ts';

const CODE_FILE = /\.(m|c)?js$/;

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name));
}

function objectsMatchTheirNames(cacheDir: string): boolean {
  return filesUnder(path.join(cacheDir, 'objects')).every((f) => sha256(fs.readFileSync(f)) === path.basename(f));
}

function errno(code: string) {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

describe('nothing executable in the cache', () => {
  it('a full run leaves no .js/.mjs/.cjs in the cache, and code planted there is never run', async () => {
    const dir = makeToy();
    const r1 = await cli(dir, ['run', 'c', '--json']);
    expect(r1.code).toBe(0);
    expect(filesUnder(path.join(dir, 'cache')).filter((f) => CODE_FILE.test(f))).toEqual([]);
    // What the old engine imported on every command: a generated validator module. Plant one
    // that would change a default and one that would crash; neither may have any effect.
    const v = path.join(dir, 'cache/validators');
    fs.mkdirSync(v, { recursive: true });
    for (const name of ['params-0.mjs', 'params-1.mjs']) fs.writeFileSync(path.join(v, name), 'globalThis.planted = 1; throw new Error("planted code ran");\n');
    const r2 = await cli(dir, ['run', 'c', '--set', 'a.offset=1', '--json']);
    expect(r2.code).toBe(0);
    expect(r2.stderr).not.toMatch(/planted/);
    const p = await loadToy(dir);
    const b = await p.build(['c'], { overrides: { a: { offset: 1 } } });
    expect(statuses(b.runs)).toEqual({ a: 'cached', b: 'cached', c: 'cached' });
    expect((await p.output(b.entries.c)).json).toEqual({ out: 11 });
  }, 30_000);

  it('gc removes the generated validator modules older engines left in the cache', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    await p.build(['c']);
    fs.mkdirSync(path.join(p.store.root, 'validators'));
    fs.writeFileSync(path.join(p.store.root, 'validators/params-abc.mjs'), 'export const v0 = () => true;\n');
    expect(gc(p.project, p.store, { reportsDir: p.reportsDir,  graceMs: 0, dryRun: true }).bytes).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(p.store.root, 'validators'))).toBe(true);
    gc(p.project, p.store, { reportsDir: p.reportsDir,  graceMs: 0 });
    expect(filesUnder(p.store.root).filter((f) => CODE_FILE.test(f))).toEqual([]);
    expect(statuses((await (await loadToy(dir)).build(['c'])).runs)).toEqual({ a: 'cached', b: 'cached', c: 'cached' });
  });

  it('defaults come from the schemas, and every project schema\'s defaults satisfy it', () => {
    const schemasDir = path.resolve(import.meta.dirname, '../../schemas');
    const stages = fs.readdirSync(schemasDir).filter((f) => f.endsWith('.params.json')).map((f) => f.slice(0, -'.params.json'.length));
    expect(stages.length).toBeGreaterThan(5);
    for (const s of stages) {
      const schema = loadSchemas(schemasDir, s).params;
      const d = defaultsOf(schema);
      expect(Object.keys(d).sort(), s).toEqual(Object.keys(schema.properties ?? {}).sort());
      expect(checkParams(s, schema, d), s).toBeNull();
    }
  });

  it('an override is still validated against the schema', async () => {
    const p = await loadToy(makeToy());
    expect(() => p.resolveAll({ a: { n: 0 } })).toThrow(/invalid params for stage a:\na\.n: must be >= 1, got 0/);
    expect(p.resolveAll({ a: { n: 5 } }).a).toEqual({ n: 5, offset: 0 });
  });
});

describe('a full or unwritable disk', () => {
  it('a short write then ENOSPC: one error naming the cache, no tmp file left, every object intact', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    await p.build(['a']);
    let writes = 0;
    const real = p.store.io.writeSync;
    // the first write of each file is cut short; the next fails: what a filling disk does
    p.store.io.writeSync = (fd, buf, off, len) => {
      writes++;
      if (writes % 2 === 1) return real(fd, buf, off, Math.max(1, Math.floor(len / 2)));
      throw errno('ENOSPC');
    };
    const err = await p.build(['c']).catch((e) => e);
    expect([err.message, err.hint]).toEqual([`cannot write to the cache ${p.store.root}: no space left on the device (ENOSPC)`, 'free space on that disk, or use another cache directory']);
    expect(writes).toBeGreaterThan(1);
    expect(fs.readdirSync(path.join(p.store.root, 'tmp'))).toEqual([]);
    expect(objectsMatchTheirNames(p.store.root)).toBe(true);
    // with space again, the build completes and is correct
    const p2 = await loadToy(dir);
    const r = await p2.build(['c']);
    expect((await p2.output(r.entries.c)).json).toEqual({ out: 7 });
  });

  it('a write that returns 0 bytes is not taken for success', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-store-'));
    const s = new LocalStore(root, { writeSync: () => 0 });
    expect(() => s.putObject(new Uint8Array([1, 2, 3]))).toThrow(/cannot write to the cache .*ENOSPC/);
    expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
    expect(fs.existsSync(path.join(root, 'objects'))).toBe(true);
    expect(filesUnder(path.join(root, 'objects'))).toEqual([]);
  });

  it('EACCES and EROFS become the same one error with a hint', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-store-'));
    for (const code of ['EACCES', 'EROFS']) {
      const s = new LocalStore(root, { openSync: () => { throw errno(code); } });
      const e = (() => { try { s.putObject(new Uint8Array([code.length])); } catch (x) { return x as Error & { hint?: string }; } })()!;
      expect([e.message, e.hint]).toEqual([
        `cannot write to the cache ${root}: ${code === 'EACCES' ? 'permission denied' : 'the file system is read-only'} (${code})`,
        'make that directory writable, or use another cache directory',
      ]);
    }
  });

  it('the CLI prints it as one error: line and one hint: line, exit 1', async () => {
    const p = await loadToy(makeToy());
    p.store.io.writeSync = () => { throw errno('ENOSPC'); };
    const e = await p.build(['c']).then(() => null, (x: unknown) => x);
    // what lib/cli/main.ts prints for it
    const d = describeError(e, 'npx tsx pipeline.ts run --help');
    expect(exitCodeOf(d.reason)).toBe(1);
    expect([`error: ${d.message}`, `hint: ${d.hint}`]).toEqual([
      `error: cannot write to the cache ${p.store.root}: no space left on the device (ENOSPC)`,
      'hint: free space on that disk, or use another cache directory with TOTAL_INTERP_CACHE=DIR',
    ]);
  });
});

describe('a read-only cache', () => {
  it('serves every hit, and says once that it could not record them', async () => {
    const dir = makeToy();
    await (await loadToy(dir)).build(['c', 'd']);
    await (await loadToy(dir)).build(['c', 'd'], { overrides: { a: { n: 9 } } }); // `latest` now points elsewhere
    const p = await loadToy(dir);
    for (const k of ['openSync', 'mkdirSync', 'renameSync'] as const) (p.store.io as any)[k] = () => { throw errno('EROFS'); };
    const r = await p.build(['c', 'd']);
    expect(statuses(r.runs)).toEqual({ a: 'cached', b: 'cached', c: 'cached', d: 'cached' });
    expect((await p.output(r.entries.c)).json).toEqual({ out: 7 });
    const notices = p.lines.filter((l) => /not writable/.test(l));
    expect(notices).toEqual([`warning: cache ${p.store.root} is not writable (EROFS): serving what is cached, but cannot record which results were used`]);
    // a miss on a read-only cache is an error naming it
    const err = await p.build(['c'], { overrides: { a: { n: 5 } } }).catch((e) => e);
    expect(err.message).toMatch(/^cannot write to the cache .*EROFS\)$/);
    expect(err.hint).toMatch(/^make that directory writable/);
  });

  it('a hit records nothing when there is nothing new to record (no write at all)', async () => {
    const dir = makeToy();
    await (await loadToy(dir)).build(['c']);
    const p = await loadToy(dir);
    let writes = 0;
    p.store.io.openSync = ((...a: Parameters<typeof fs.openSync>) => (writes++, fs.openSync(...a))) as typeof fs.openSync;
    await p.build(['c']);
    expect(writes).toBe(0);
    expect(p.lines.filter((l) => l.startsWith('warning'))).toEqual([]);
  });
});

describe('what is made durable', () => {
  it('entries are fsynced before their rename; objects, re-hashed whenever read for use, are not', async () => {
    const p = await loadToy(makeToy());
    const opened = new Map<number, string>();
    const synced: string[] = [];
    p.store.io.openSync = ((file: fs.PathLike, ...a: any[]) => {
      const fd = (fs.openSync as any)(file, ...a);
      opened.set(fd, String(file));
      return fd;
    }) as typeof fs.openSync;
    p.store.io.fsyncSync = (fd: number) => {
      synced.push(opened.get(fd)!);
      fs.fsyncSync(fd);
    };
    const renamed: [string, string][] = [];
    p.store.io.renameSync = (a: fs.PathLike, b: fs.PathLike) => {
      renamed.push([String(a), String(b)]);
      fs.renameSync(a, b);
    };
    await p.build(['c']);
    const dest = (tmp: string) => renamed.find(([a]) => a === tmp)![1];
    const into = (sub: string) => renamed.filter(([, b]) => b.includes(`${path.sep}${sub}${path.sep}`)).map(([a]) => a);
    expect(into('entries').filter((t) => dest(t).endsWith('.json')).length).toBeGreaterThan(0);
    expect(into('objects').length).toBeGreaterThan(0);
    // entries/<stage>/<key>.json (beside them, the `latest` hint is written without fsync too)
    for (const tmp of into('entries').filter((t) => dest(t).endsWith('.json'))) expect(synced).toContain(tmp);
    for (const tmp of into('objects')) expect(synced).not.toContain(tmp);
    expect(synced.map(dest).every((d) => !d.includes(`${path.sep}objects${path.sep}`))).toBe(true);
  });
});

describe('damage found when decoding, and oversized files', () => {
  /** Point an entry's tensor at new bytes that hash right but are not a tensor (as a buggy or older writer would). */
  function replaceTensor(store: Store, entry: Entry, name: string, bytes: Uint8Array): void {
    const ref = store.putObject(bytes);
    const e: Entry = structuredClone(entry);
    e.outputs.tensors[name] = { ...e.outputs.tensors[name], ...ref };
    delete e.check;
    store.writeAtomic(store.entryPath(e.record.stage, e.key), JSON.stringify({ ...e, check: sha256(canonicalJson(e)) }));
  }

  it('a cached tensor that fails to decode is dropped and recomputed, with a warning', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    const built = await p.build(['b']);
    replaceTensor(p.store, built.entries.a, 'v', Buffer.from('not msgpack at all, but long enough for 4 float64s'));
    fs.rmSync(p.store.entryPath('b', built.entries.b.key)); // so b has to read a's tensor
    const p2 = await loadToy(dir);
    const r = await p2.build(['c']);
    expect(statuses(r.runs)).toEqual({ a: 'ran', b: 'ran', c: 'ran' });
    expect((await p2.output(r.entries.c)).json).toEqual({ out: 7 });
    // The entry's outputHash is no longer its refs' (checked when its JSON is read, before any tensor is).
    expect(p2.lines.some((l) => /^warning: stage a: cache entry \w+ has an outputHash that is not its outputs' \(forged\); recomputing a$/.test(l))).toBe(true);
    // and the damaged entry is gone: the next run is all hits
    expect(statuses((await (await loadToy(dir)).build(['c'])).runs)).toEqual({ a: 'cached', b: 'cached', c: 'cached' });
  });

  it('the same with --jobs 2 (a worker reads its inputs itself)', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    const built = await p.build(['b']);
    const { encodeTensor } = await import('../../lib/engine/keep/tensor.ts');
    // a well-formed tensor of the wrong shape
    replaceTensor(p.store, built.entries.a, 'v', encodeTensor({ dtype: 'float64', shape: [2], data: new Float64Array([5, 5]) }));
    fs.rmSync(p.store.entryPath('b', built.entries.b.key));
    const p2 = await loadToy(dir);
    const r = await p2.build(['c'], { jobs: 2 });
    expect((await p2.output(r.entries.c)).json).toEqual({ out: 7 });
    expect(p2.lines.some((l) => /stage a: cache entry \w+ has an outputHash that is not its outputs' \(forged\); recomputing a/.test(l))).toBe(true);
  }, 30_000);

  /** Flip one byte of an entry's tensor object in place: its bytes no longer match its name. */
  function flipTensor(store: Store, entry: Entry, name: string): void {
    const f = store.objectPath(entry.outputs.tensors[name].hash);
    const b = fs.readFileSync(f);
    b[b.length - 3] ^= 0xff;
    fs.writeFileSync(f, b);
  }

  /**
   * Damage `entry`'s tensor `name` once `stage` starts: after the build has planned (a hit's
   * objects are checked then) and read its inputs' JSON, before the stage reads the tensor.
   */
  function damageWhenStarting(p: Awaited<ReturnType<typeof loadToy>>, stage: string, entry: Entry, name: string): void {
    const start = p.reporter.stage;
    let done = false;
    p.reporter = {
      ...p.reporter,
      stage: (n: string) => {
        if (n === stage && !done) {
          done = true;
          flipTensor(p.store, entry, name);
        }
        return start(n);
      },
    };
  }

  for (const jobs of [1, 2]) {
    it(`a tensor damaged on disk is found when the stage reads it (on first access), then rebuilt and the stage run again (jobs ${jobs})`, async () => {
      const dir = makeToy();
      const p = await loadToy(dir);
      const built = await p.build(['b']);
      fs.rmSync(p.store.entryPath('b', built.entries.b.key)); // so b has to read a's tensor
      const p2 = await loadToy(dir);
      damageWhenStarting(p2, 'b', built.entries.a, 'v');
      const r = await p2.build(['c', 'd'], { jobs });
      expect(statuses(r.runs)).toMatchObject({ a: 'ran', b: 'ran', c: 'ran' });
      expect((await p2.output(r.entries.c)).json).toEqual({ out: 7 });
      expect(p2.lines.filter((l) => /^warning: stage a: tensor v: object \w+ fails its hash check \(damaged\); recomputing a$/.test(l))).toHaveLength(1);
      expect(objectsMatchTheirNames(p2.store.root)).toBe(true);
      // b was stored under its own key: the next run is all hits
      expect(statuses((await (await loadToy(dir)).build(['c', 'd'])).runs)).toEqual({ a: 'cached', b: 'cached', c: 'cached', d: 'cached' });
    }, 30_000);
  }

  it('a stage that catches the error of a damaged input tensor still fails with it: nothing computed from it is stored', async () => {
    const dir = makeToy({
      ...TOY_FILES,
      'stages/b.ts': `export default { name: 'b', description: 'swallows', inputs: ['a'],
  run({ inputs }) { let s = -1; try { s = inputs.a.tensors.v.data[0]; } catch {} return { json: { sum: s } }; } };\n`,
    });
    const p = await loadToy(dir);
    const built = await p.build(['b']);
    expect((await p.output(built.entries.b)).json).toEqual({ sum: 0 });
    fs.rmSync(p.store.entryPath('b', built.entries.b.key));
    const p2 = await loadToy(dir);
    damageWhenStarting(p2, 'b', built.entries.a, 'v');
    const r = await p2.build(['b']);
    expect((await p2.output(r.entries.b)).json).toEqual({ sum: 0 });
    expect(p2.lines.some((l) => /tensor v: object \w+ fails its hash check \(damaged\); recomputing a$/.test(l))).toBe(true);
  });

  it('a tensor the stage never reads is never read', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    const built = await p.build(['a']);
    const p2 = await loadToy(dir);
    damageWhenStarting(p2, 'd', built.entries.a, 'v');
    const r = await p2.build(['d']); // d reads a's JSON only
    expect((await p2.output(r.entries.d)).json).toEqual({ bucket: 0 });
    expect(p2.lines.filter((l) => l.startsWith('warning'))).toEqual([]);
    const a = await p2.output(built.entries.a); // its JSON is intact; the tensor is not, and is never served
    expect(a.json).toEqual({ n: 4, bucket: 0 });
    expect(() => a.tensors.v).toThrow(CorruptError);
  });

  it('a damaged object of a volatile output is removed with its entry, not left behind', async () => {
    const files = {
      ...TOY_FILES,
      'stages/v.ts': `export default { name: 'v', description: 'volatile timing', inputs: ['a'], volatile: ['ms'],
  run({ inputs }) { return { json: { n: inputs.a.json.n, ms: performance.now() } }; } };\n`,
      'schemas/v.params.json': JSON.stringify({ type: 'object', properties: {}, additionalProperties: false }),
    };
    const dir = makeToy(files);
    const stages = [...TOY_STAGES, 'stages/v.ts'];
    const p = await loadToy(dir, stages);
    const built = await p.build(['v']);
    const obj = p.store.objectPath(built.entries.v.outputs.json.hash);
    const bytes = fs.readFileSync(obj);
    bytes[0] ^= 0x20;
    fs.writeFileSync(obj, bytes);
    const p2 = await loadToy(dir, stages);
    const r = await p2.build(['v']);
    expect(statuses(r.runs)).toEqual({ a: 'cached', v: 'ran' });
    expect(r.entries.v.outputs.json.hash).not.toBe(built.entries.v.outputs.json.hash); // a new timing, a new object
    expect(fs.existsSync(obj)).toBe(false);
    expect(objectsMatchTheirNames(p2.store.root)).toBe(true);
  });

  it('an object larger than its entry says is refused from its size, without reading it', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    const built = await p.build(['a']);
    const ref = built.entries.a.outputs.tensors.v;
    const file = p.store.objectPath(ref.hash);
    fs.truncateSync(file, 1.5 * 2 ** 30); // a sparse 1.5 GB file: free to make, ruinous to read
    const before = process.memoryUsage().rss;
    const t0 = performance.now();
    let err: unknown;
    try {
      p.store.getObject(ref, 'stage a: tensor v');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CorruptError);
    expect((err as Error).message).toMatch(/has 1610612736 bytes, expected \d+ \(longer than written: appended to or replaced\)$/);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 2 ** 20);
    // a shorter one is called truncated
    fs.truncateSync(file, 3);
    expect(() => p.store.getObject(ref, 'x')).toThrow(/has 3 bytes, expected \d+ \(truncated\)$/);
  });

  it('an entry file that is huge, or valid JSON of the wrong shape, is corrupt (not a crash)', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    const built = await p.build(['a']);
    const f = p.store.entryPath('a', built.entries.a.key);
    fs.truncateSync(f, 64 * 2 ** 20);
    expect(() => p.store.getEntry('a', built.entries.a.key)).toThrow(/too large to be an entry/);
    fs.writeFileSync(f, JSON.stringify([1, 2, 3]));
    expect(() => p.store.getEntry('a', built.entries.a.key)).toThrow(CorruptError);
    const body = { key: built.entries.a.key, record: { stage: 'a' }, outputs: { json: 7 } };
    fs.writeFileSync(f, JSON.stringify({ ...body, check: sha256(canonicalJson(body)) }));
    expect(() => p.store.getEntry('a', built.entries.a.key)).toThrow(/has a json output that is not an object ref.*damaged or forged/);
    const r = await (await loadToy(dir)).build(['a']);
    expect(statuses(r.runs)).toEqual({ a: 'ran' });
  });
});

describe('smaller messages', () => {
  it('NaN weights: an error with a hint', () => {
    const H = 2;
    const bytes = new Uint8Array(paramCount(H) * 4);
    new DataView(bytes.buffer).setFloat32(8, NaN, true);
    expect(() => parseWeightsFile(bytes, H, 'w.bin')).toThrow(/^w\.bin: value 2 is not finite \(NaN\)\nhint: /);
  });

  it('diff on a file that is not JSON names the file', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-diff-'));
    const f = path.join(d, 'notes.txt');
    fs.writeFileSync(f, 'hello');
    const e = (() => { try { loadReport(d, f); } catch (x) { return x as Error & { hint?: string }; } })()!;
    expect(e.message).toMatch(new RegExp(`^diff: ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not JSON `));
    expect(e.hint).toMatch(/report\.json/);
    fs.writeFileSync(f, 'null');
    expect(() => loadReport(d, f)).toThrow(/is not a report\.json/);
  });
});
