import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, SourceHasher, codeHash } from '../../lib/engine/decide/sources.ts';
import { diffCode } from '../../lib/engine/decide/explain.ts';
import { canonicalJson } from '../../lib/engine/keep/hash.ts';

describe('code hashing', () => {
  it('finds static, re-export, side-effect and dynamic relative imports, not packages or comments', () => {
    const src = `import a from './a.ts';\nimport { b } from "../lib/b.ts";\nexport * from './c.ts';\nimport './d.ts';\nconst e = await import('./e.ts');\nconst f = () => import('./f.json', { with: { type: 'json' } });\nimport fs from 'node:fs';\n// import z from './z.ts';\n/* import y from './y.ts' */\nimport type { T } from './t.ts';`;
    expect(importsOf(src).sort()).toEqual(['../lib/b.ts', './a.ts', './c.ts', './d.ts', './e.ts', './f.json', './t.ts']);
  });
  it('follows imports transitively, skips the engine, and names the changed file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-src-'));
    const w = (f: string, t: string) => (fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true }), fs.writeFileSync(path.join(dir, f), t));
    w('stages/s.ts', `import { x } from '../lib/x.ts';\nimport { defineStage } from '../lib/engine/types.ts';`);
    w('lib/x.ts', `export { y as x } from './y.ts';`);
    w('lib/y.ts', `export const y = 1;`);
    w('lib/engine/types.ts', `export const defineStage = 1;`);
    w('lib/unrelated.ts', `export const u = 1;`);
    const before = new SourceHasher(dir).closure(['stages/s.ts']);
    expect(Object.keys(before).sort()).toEqual(['lib/x.ts', 'lib/y.ts', 'stages/s.ts']);
    w('lib/y.ts', `export const y = 2;`);
    const after = new SourceHasher(dir).closure(['stages/s.ts']);
    expect(diffCode(before, after)).toEqual([{ change: 'changed', file: 'lib/y.ts' }]);
    w('stages/s.ts', `import { x } from '../lib/missing.ts';`);
    expect(() => new SourceHasher(dir).closure(['stages/s.ts'])).toThrow(/cannot resolve import "..\/lib\/missing.ts"/);
  });
  it('canonical JSON sorts keys and refuses NaN', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 1, c: 2 }] })).toBe('{"a":[2,{"c":2,"d":1}],"b":1}');
    expect(() => canonicalJson({ a: NaN })).toThrow(/non-finite number at \$\.a/);
  });
});

describe('imports found by a lexer', () => {
  const project = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-lex-'));
    const w = (f: string, t: string) => (fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true }), fs.writeFileSync(path.join(dir, f), t));
    return { dir, w };
  };

  it('a kernel reached only through await import() is in the key: changing it changes the code hash', () => {
    const { dir, w } = project();
    w('stages/s.ts', "export default { async run() { const k = await import('../lib/kernel.ts'); return k.f(); } };");
    w('lib/kernel.ts', 'export const f = () => 1;');
    const before = new SourceHasher(dir).closure(['stages/s.ts']);
    expect(Object.keys(before).sort()).toEqual(['lib/kernel.ts', 'stages/s.ts']);
    w('lib/kernel.ts', 'export const f = () => 2;');
    const after = new SourceHasher(dir).closure(['stages/s.ts']);
    expect(codeHash(after)).not.toBe(codeHash(before));
    expect(diffCode(before, after)).toEqual([{ change: 'changed', file: 'lib/kernel.ts' }]);
  });

  it('a commented-out import, or one inside a string or template, changes nothing', () => {
    const { dir, w } = project();
    w('stages/s.ts', "// import z from '../lib/z.ts';\n/* await import('../lib/z.ts') */\nconst s = `import y from '../lib/z.ts'`;\nconst t = \"import('../lib/z.ts')\";\nexport default s + t;");
    w('lib/z.ts', 'export const z = 1;');
    const before = new SourceHasher(dir).closure(['stages/s.ts']);
    expect(Object.keys(before)).toEqual(['stages/s.ts']);
    w('lib/z.ts', 'export const z = 2;');
    expect(codeHash(new SourceHasher(dir).closure(['stages/s.ts']))).toBe(codeHash(before));
  });

  it('an import() with a computed specifier is an error naming the file and line, not a silent gap', () => {
    const { dir, w } = project();
    w('stages/s.ts', "const name = 'kernel';\nexport default { run: () => import(`../lib/${name}.ts`) };");
    let err: any = null;
    try {
      new SourceHasher(dir).closure(['stages/s.ts']);
    } catch (e) {
      err = e;
    }
    expect(err?.reason).toBe('bad-stage');
    expect(err?.message).toMatch(/^stages\/s\.ts:2: import\(\) with a computed specifier/);
    expect(err?.hint).toMatch(/literal path/);
  });

  it('keeps each source\'s imports by content hash: an unchanged tree lexes nothing the second time, a changed file is lexed again', () => {
    const { dir, w } = project();
    w('stages/s.ts', "import { x } from '../lib/x.ts';");
    w('lib/x.ts', 'export const x = 1;');
    const memo = path.join(dir, 'cache', 'imports.json');
    const first = new SourceHasher(dir, undefined, memo);
    const a = first.closure(['stages/s.ts']);
    expect(first.lexed).toBe(2);
    first.saveMemo();
    const second = new SourceHasher(dir, undefined, memo);
    expect(second.closure(['stages/s.ts'])).toEqual(a);
    expect(second.lexed).toBe(0);
    w('lib/x.ts', "import { y } from './y.ts';\nexport const x = y;");
    w('lib/y.ts', 'export const y = 1;');
    const third = new SourceHasher(dir, undefined, memo);
    expect(Object.keys(third.closure(['stages/s.ts'])).sort()).toEqual(['lib/x.ts', 'lib/y.ts', 'stages/s.ts']);
    expect(third.lexed).toBe(2);
    expect(fs.existsSync(memo)).toBe(true);
  });

  it('a malformed memo is ignored and rebuilt, never trusted', () => {
    const { dir, w } = project();
    w('stages/s.ts', "import { x } from '../lib/x.ts';");
    w('lib/x.ts', 'export const x = 1;');
    const memo = path.join(dir, 'cache', 'imports.json');
    fs.mkdirSync(path.dirname(memo), { recursive: true });
    fs.writeFileSync(memo, '{"version":2,"files":{"not-a-hash":["/etc/passwd"]},"stats":{"stages/s.ts":["1:2:3:4","not-a-hash"]}}');
    const h = new SourceHasher(dir, undefined, memo);
    expect(Object.keys(h.closure(['stages/s.ts'])).sort()).toEqual(['lib/x.ts', 'stages/s.ts']);
    expect(h.lexed).toBe(2);
    h.saveMemo();
    expect(JSON.parse(fs.readFileSync(memo, 'utf8')).version).toBe(2);
  });

  it('knows a settled source by its stat (no read), and reads it again once it is written, even to the same size and mtime', () => {
    const { dir, w } = project();
    w('stages/s.ts', "import { x } from '../lib/x.ts';");
    w('lib/x.ts', 'export const x = 1;');
    const memo = path.join(dir, 'cache', 'imports.json');
    const later = () => Date.now() + 10_000; // every file written more than 2 s ago
    const first = new SourceHasher(dir, undefined, memo, later);
    const a = first.closure(['stages/s.ts']);
    expect(first.hashed).toBe(2);
    first.saveMemo();
    const second = new SourceHasher(dir, undefined, memo, later);
    expect(second.closure(['stages/s.ts'])).toEqual(a);
    expect(second.hashed).toBe(0);
    // Same size, mtime set back: the ctime still moves, so the file is read again.
    const x = path.join(dir, 'lib/x.ts');
    const st = fs.statSync(x);
    fs.writeFileSync(x, 'export const x = 2;');
    fs.utimesSync(x, st.atime, st.mtime);
    const third = new SourceHasher(dir, undefined, memo, later);
    const c = third.closure(['stages/s.ts']);
    expect(third.hashed).toBe(1);
    expect(c['lib/x.ts']).not.toBe(a['lib/x.ts']);
  });

  it('reads a source written in the last 2 s on every run (its stat may not yet tell a later write apart)', () => {
    const { dir, w } = project();
    w('stages/s.ts', 'export const s = 1;');
    const memo = path.join(dir, 'cache', 'imports.json');
    for (let i = 0; i < 2; i++) {
      const h = new SourceHasher(dir, undefined, memo);
      h.closure(['stages/s.ts']);
      expect(h.hashed).toBe(1);
      h.saveMemo();
    }
  });
});
