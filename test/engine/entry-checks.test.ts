// Entries read from the local cache get the same checks as remote ones (a shared
// TOTAL_INTERP_CACHE is written by other users): an entry re-sealed with an escaping
// artifact name, a ref that is not hex, or other outputs under its outputHash is refused
// with a warning and rebuilt; nothing is written outside the cache and reports/.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJson, sha256 } from '../../lib/engine/keep/hash.ts';
import { artifactNameProblem, entryProblem, tensorRefProblem } from '../../lib/engine/keep/entry.ts';
import { materialize } from '../../lib/engine/keep/artifacts.ts';
import { checkParams } from '../../lib/engine/validate.ts';
import reportParams from '../../schemas/report.params.json' with { type: 'json' };
import { loadToy, makeToy, statuses } from './toy.ts';
import { filesUnder } from '../helpers/servers.ts';

const tmp: string[] = [];
afterAll(() => {
  for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
});
const fresh = () => {
  const d = makeToy();
  tmp.push(d);
  return d;
};

/** Rewrite an entry file in place with a valid checksum. */
function forge(file: string, change: (e: any) => any) {
  const { check: _c, ...body } = change(JSON.parse(fs.readFileSync(file, 'utf8')));
  fs.writeFileSync(file, JSON.stringify({ ...body, check: sha256(canonicalJson(body)) }));
}

describe('artifact names, refs and tensor refs', () => {
  it('artifact names are <label>/<file> or <label>/plots/<file> of plain names', () => {
    for (const ok of ['toy/out.txt', 'train-h8-sgd/report.md', 'x/plots/a-b.svg', 'x/plots/interactive.html', 'train-h8-sgd-e3-seed42-n1024-evalEvery=1-lr=0.5-x.y=a+b/viewer.html']) expect(artifactNameProblem(ok), ok).toBeNull();
    for (const bad of ['../x', 'x/../y', '/etc/passwd', 'x', 'x/', 'x//y', '.x/y', 'x/.y', 'x/..', '..', 'x/other/y.svg', 'x/plots/a/b.svg', 'x\\..\\y', 'x/y\0z', 'x/y z', 42]) {
      expect(artifactNameProblem(bad), String(bad)).not.toBeNull();
    }
  });

  it('a tensor ref must name a dtype tensor.ts writes and a shape its file can hold', () => {
    const h = 'a'.repeat(64);
    expect(tensorRefProblem({ hash: h, bytes: 32 + 40, dtype: 'float64', shape: [4] })).toBeNull();
    expect(tensorRefProblem({ hash: h, bytes: 72, dtype: 'float64', shape: [2, 2] })).toBeNull();
    expect(tensorRefProblem({ hash: h, bytes: 72, dtype: 'float64', shape: [400] })).toMatch(/cannot hold/);
    expect(tensorRefProblem({ hash: h, bytes: 10 ** 6, dtype: 'float64', shape: [4] })).toMatch(/cannot hold/);
    expect(tensorRefProblem({ hash: h, bytes: 72, dtype: 'toString', shape: [4] })).toMatch(/dtype/);
    expect(tensorRefProblem({ hash: h, bytes: 72, dtype: 'float64', shape: [-4] })).toMatch(/shape/);
    expect(tensorRefProblem({ hash: 'ab', bytes: 72, dtype: 'float64', shape: [4] })).toMatch(/64 hex/);
    expect(entryProblem(null, 'a')).toMatch(/not an entry/);
  });
});

describe('report.label', () => {
  it('is refused at param validation when it is not a plain folder name (before anything builds)', () => {
    for (const ok of ['my-run', 'train-h8-sgd-e30-seed42-n1024', 'a.b_c']) expect(checkParams('report', reportParams, { label: ok }), ok).toBeNull();
    for (const bad of ['..', '.', '.hidden', '../x', 'a/b', '/abs', 'a\\b', '', 'x'.repeat(256)]) {
      expect(checkParams('report', reportParams, { label: bad }), bad).toMatch(/report\.label: must match pattern/);
    }
  });
});

describe('local entries are checked on every read', { timeout: 30_000 }, () => {
  it('an escaping artifact name in a shared cache is refused and rebuilt; nothing lands outside reports/', async () => {
    const dir = fresh();
    const p = await loadToy(dir);
    const built = await p.build(['c']);
    const before = new Set(filesUnder(dir));
    forge(p.store.entryPath('c', built.entries.c.key), (e) => ({ ...e, outputs: { ...e.outputs, artifacts: { '../../pwned.ts': e.outputs.artifacts['toy/out.txt'] } } }));
    const p2 = await loadToy(dir);
    const r = await p2.build(['c']);
    expect(statuses(r.runs)).toEqual({ a: 'cached', b: 'cached', c: 'ran' });
    expect(p2.lines.join('\n')).toMatch(/warning: stage c: cache entry \w+ has artifact "..\/..\/pwned.ts" is not <label>\/<file>.*; recomputing/);
    expect(filesUnder(dir).filter((f) => !before.has(f) && !/^(cache|reports)\//.test(f))).toEqual([]);
    expect(fs.existsSync(path.join(dir, '..', 'pwned.ts'))).toBe(false);
    // materialize refuses such a name on its own too (an entry that skipped the read checks)
    const e = structuredClone(r.entries.c);
    e.outputs.artifacts = { '../escape.txt': e.outputs.artifacts['toy/out.txt'] };
    expect(() => materialize(p2.store, p2.reportsDir, [e])).toThrow(/has artifact .*forged/);
    expect(fs.existsSync(path.join(dir, 'escape.txt'))).toBe(false);
  });

  it('a ref that is not hex never opens a file', async () => {
    const dir = fresh();
    const p = await loadToy(dir);
    const built = await p.build(['a']);
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret');
    forge(p.store.entryPath('a', built.entries.a.key), (e) => ({ ...e, outputs: { ...e.outputs, json: { hash: '../../../secret.txt', bytes: 6 } } }));
    const p2 = await loadToy(dir);
    expect(() => p2.store.getEntry('a', built.entries.a.key)).toThrow(/json output that is not an object ref/);
    expect(() => p2.store.getObject({ hash: '../../../secret.txt', bytes: 6 }, 'x')).toThrow(/not 64 hex characters/);
    expect(statuses((await p2.build(['a'])).runs)).toEqual({ a: 'ran' });
  });

  it('other outputs re-sealed under an entry are refused when read (outputHash recomputed) and rebuilt', async () => {
    const dir = fresh();
    const p = await loadToy(dir);
    const built = await p.build(['b']);
    const forged = p.store.putObject(Buffer.from(JSON.stringify({ sum: 999 })));
    forge(p.store.entryPath('b', built.entries.b.key), (e) => ({ ...e, outputs: { ...e.outputs, json: forged } }));
    const p2 = await loadToy(dir);
    const r = await p2.build(['c']);
    expect(statuses(r.runs)).toEqual({ a: 'cached', b: 'ran', c: 'ran' });
    expect((await p2.output(r.entries.c)).json).toEqual({ out: 7 });
    expect(p2.lines.join('\n')).toMatch(/warning: stage b: cache entry \w+ has an outputHash that is not its outputs' \(forged\); recomputing b/);
  });

  it('a final entry whose artifact was swapped is refused before its file is written (outputHash)', async () => {
    const dir = fresh();
    const p = await loadToy(dir);
    const built = await p.build(['c']);
    const forged = p.store.putObject(Buffer.from('out=999\n'));
    forge(p.store.entryPath('c', built.entries.c.key), (e) => ({ ...e, outputs: { ...e.outputs, artifacts: { 'toy/out.txt': forged } } }));
    fs.rmSync(path.join(dir, 'reports', 'toy', 'out.txt'));
    const p2 = await loadToy(dir);
    const r = await p2.build(['c']);
    expect(statuses(r.runs)).toEqual({ a: 'cached', b: 'cached', c: 'ran' });
    expect(fs.readFileSync(path.join(dir, 'reports', 'toy', 'out.txt'), 'utf8')).toBe('out=7\n');
    expect(p2.lines.join('\n')).toMatch(/stage c: cache entry \w+ has an outputHash that is not its outputs' \(forged\); recomputing/);
  });

  it('an entry without a tensor the stage declares is refused', async () => {
    const dir = fresh();
    const p = await loadToy(dir);
    const built = await p.build(['a']);
    forge(p.store.entryPath('a', built.entries.a.key), (e) => ({ ...e, outputs: { ...e.outputs, tensors: {} } }));
    const p2 = await loadToy(dir);
    expect(() => p2.store.getEntry('a', built.entries.a.key)).toThrow(/has tensors \[\], without \[v\] that the stage declares/);
  });
});

describe('objects only checked (a hit) are known by their stat once settled', () => {
  it('a settled intact object is not read again; one rewritten in place, same size and mtime, is found damaged', async () => {
    const { LocalStore } = await import('../../lib/engine/keep/store.ts');
    const { CorruptError } = await import('../../lib/engine/keep/entry.ts');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-verified-'));
    const later = () => Date.now() + 10_000; // the object was written more than 2 s ago
    const s1 = new LocalStore(root);
    s1.clock = later;
    const ref = s1.putObject(new TextEncoder().encode('hello object'));
    s1.verifyObject(ref, 'x');
    s1.saveMemo();
    const memo = JSON.parse(fs.readFileSync(path.join(root, 'verified.json'), 'utf8'));
    expect(Object.keys(memo.objects)).toEqual([ref.hash]);
    // Damage it in place keeping size and mtime: the ctime moves, so the memo does not vouch for it.
    const p = s1.objectPath(ref.hash);
    const st = fs.statSync(p);
    fs.chmodSync(p, 0o644);
    fs.writeFileSync(p, 'jello object');
    fs.utimesSync(p, st.atime, st.mtime);
    const s2 = new LocalStore(root);
    s2.clock = later;
    expect(() => s2.verifyObject(ref, 'x')).toThrow(CorruptError);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('a fresh object (written in the last 2 s) is hashed on every check and not remembered', async () => {
    const { LocalStore } = await import('../../lib/engine/keep/store.ts');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-verified-'));
    const s = new LocalStore(root);
    const ref = s.putObject(new TextEncoder().encode('fresh'));
    s.verifyObject(ref, 'x');
    s.saveMemo();
    expect(fs.existsSync(path.join(root, 'verified.json'))).toBe(false);
    fs.rmSync(root, { recursive: true, force: true });
  });
});

describe('entries read back are known sealed by their stat once settled', () => {
  it('a settled entry changed in place (same size, mtime restored, seal kept) is refused', async () => {
    const dir = fresh();
    const p = await loadToy(dir);
    const built = await p.build(['a']);
    const later = () => Date.now() + 10_000; // the entry was written more than 2 s ago
    const { LocalStore } = await import('../../lib/engine/keep/store.ts');
    const s1 = new LocalStore(p.store.root);
    s1.clock = later;
    const file = s1.entryPath('a', built.entries.a.key);
    expect(s1.getEntry('a', built.entries.a.key)?.key).toBe(built.entries.a.key);
    s1.saveMemo();
    expect(Object.keys(JSON.parse(fs.readFileSync(path.join(p.store.root, 'verified.json'), 'utf8')).objects)).toContain(`entries/a/${built.entries.a.key}`);
    // One digit of its date changed in place, seal kept, the mtime put back: the ctime moves,
    // so the seal is re-hashed and no longer matches.
    const st = fs.statSync(file);
    const text = fs.readFileSync(file, 'utf8');
    const i = text.indexOf('"builtAt"') + 13;
    fs.writeFileSync(file, text.slice(0, i) + (text[i] === '0' ? '1' : '0') + text.slice(i + 1));
    fs.utimesSync(file, st.atime, st.mtime);
    const s2 = new LocalStore(p.store.root);
    s2.clock = later;
    expect(() => s2.getEntry('a', built.entries.a.key)).toThrow(/fails its checksum/);
  });
});

describe('a materialized file is known by its stat once settled', () => {
  it('knownFileHash reads a settled file once, and again after an in-place edit that keeps size and mtime', async () => {
    const { knownFileHash } = await import('../../lib/engine/keep/objects.ts');
    const { StatMemo } = await import('../../lib/engine/keep/hash.ts');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-known-'));
    const f = path.join(dir, 'report.md');
    fs.writeFileSync(f, 'figure 1.23');
    const memo = new StatMemo();
    const later = Date.now() + 10_000;
    expect(knownFileHash(memo, 'reports/x/report.md', f, later)).toBe(sha256('figure 1.23'));
    expect(memo.dirty).toBe(true);
    const st = fs.statSync(f);
    fs.writeFileSync(f, 'figure 9.99');
    fs.utimesSync(f, st.atime, st.mtime);
    expect(knownFileHash(memo, 'reports/x/report.md', f, later)).toBe(sha256('figure 9.99'));
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
