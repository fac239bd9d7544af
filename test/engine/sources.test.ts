import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, SourceHasher, diffCode } from '../../lib/engine/sources.ts';
import { canonicalJson } from '../../lib/engine/hash.ts';

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
    expect(diffCode(before, after)).toEqual(['code changed: lib/y.ts']);
    w('stages/s.ts', `import { x } from '../lib/missing.ts';`);
    expect(() => new SourceHasher(dir).closure(['stages/s.ts'])).toThrow(/cannot resolve import "..\/lib\/missing.ts"/);
  });
  it('canonical JSON sorts keys and refuses NaN', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 1, c: 2 }] })).toBe('{"a":[2,{"c":2,"d":1}],"b":1}');
    expect(() => canonicalJson({ a: NaN })).toThrow(/non-finite number at \$\.a/);
  });
});
