// The layers (docs/architecture.md): cli -> stages -> analysis | report -> rnn | data -> engine.
// A module may import its own layer and any layer below; never a layer above, nor a
// sibling at its own level. Read from the import graph of lib/ and stages/.

import fs from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';
import { describe, expect, it } from 'vitest';
import { importsOf } from '../lib/engine/decide/sources.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

// lib/queue (the BullMQ worker and sweep submission) sits beside the stages, under the CLI that calls it.
const RANK: Record<string, number> = { engine: 0, rnn: 1, data: 1, analysis: 2, report: 2, stages: 3, queue: 3, cli: 4 };

function layerOf(abs: string): string | null {
  const rel = path.relative(root, abs).split(path.sep);
  if (rel[0] === 'stages') return 'stages';
  if (rel[0] === 'lib' && rel[1] in RANK) return rel[1];
  return null;
}

/** Every relative import in lib/ and stages/ as [from, to, layerFrom, layerTo]. */
function edges(): [string, string, string, string][] {
  const files = fg.sync(['lib/**/*.ts', 'stages/*.ts'], { cwd: root, absolute: true });
  const out: [string, string, string, string][] = [];
  for (const f of files) {
    for (const spec of importsOf(fs.readFileSync(f, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const to = path.resolve(path.dirname(f), spec);
      const lf = layerOf(f);
      const lt = layerOf(to);
      if (lf && lt) out.push([path.relative(root, f), path.relative(root, to), lf, lt]);
    }
  }
  return out;
}

/** Relative specifiers a module imports when it loads: not `import type`, not `import()`. */
export function staticImportsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
  const re = /^\s*(?:import|export)\s+(?!type\b)[^'";]*?\bfrom\s*['"](\.[^'"]+)['"]|^\s*import\s*['"](\.[^'"]+)['"]/gm;
  return [...code.matchAll(re)].map((m) => m[1] ?? m[2]);
}

/** Every project file a module loads with it (static imports, followed), relative to root. */
function loadedWith(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const stack = entries.map((e) => path.resolve(root, e));
  while (stack.length) {
    const f = stack.pop()!;
    const rel = path.relative(root, f);
    if (seen.has(rel)) continue;
    seen.add(rel);
    for (const spec of staticImportsOf(fs.readFileSync(f, 'utf8'))) stack.push(path.resolve(path.dirname(f), spec));
  }
  return seen;
}

/**
 * Every relative import of each module in lib/ (and pipeline.ts), for the circle check: static,
 * type-only (`import type`, `export type … from`) and dynamic ones alike, since a circle of
 * any of them is a reader's loop. Keys and values are paths relative to root.
 */
export function importGraph(files: string[], read: (f: string) => string = (f) => fs.readFileSync(path.join(root, f), 'utf8')): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of files) {
    const src = read(f);
    // es-module-lexer leaves out `export type { T } from` (TypeScript only): a plain parse adds it.
    const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
    const typeReexports = [...code.matchAll(/^\s*export\s+type\s[^;]*?\bfrom\s*['"](\.[^'"]+)['"]/gm)].map((m) => m[1]);
    const to = [...importsOf(src), ...typeReexports].map((spec) => path.posix.normalize(path.posix.join(path.posix.dirname(f), spec)));
    g.set(f, [...new Set(to)]);
  }
  return g;
}

/** Each import circle once, as its path `a -> b -> a` (from the first file, in file order, that is on it). */
export function circles(g: Map<string, string[]>): string[] {
  const out: string[] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visit = (f: string) => {
    stack.push(f);
    onStack.add(f);
    for (const t of g.get(f) ?? []) {
      if (onStack.has(t)) out.push([...stack.slice(stack.indexOf(t)), t].join(' -> '));
      else if (!done.has(t) && g.has(t)) visit(t);
    }
    stack.pop();
    onStack.delete(f);
    done.add(f);
  };
  for (const f of [...g.keys()].sort()) if (!done.has(f)) visit(f);
  return out;
}

const libFiles = () => fg.sync(['lib/**/*.ts', 'lib/**/*.mjs', 'pipeline.ts'], { cwd: root }).sort();

function violations(list: [string, string, string, string][]): string[] {
  return list.filter(([, , lf, lt]) => lf !== lt && RANK[lt] >= RANK[lf]).map(([f, t, lf, lt]) => `${f} (${lf}) imports ${t} (${lt})`);
}

describe('architecture', () => {
  it('no module imports upward or sideways across layers', () => {
    const all = edges();
    expect(all.length).toBeGreaterThan(50); // the graph was read
    expect(violations(all)).toEqual([]);
  });

  it('the check catches upward and sideways imports, and allows downward ones', () => {
    expect(violations([['lib/engine/a.ts', 'lib/cli/b.ts', 'engine', 'cli']])).toHaveLength(1);
    expect(violations([['lib/engine/a.ts', 'lib/report/b.ts', 'engine', 'report']])).toHaveLength(1);
    expect(violations([['lib/analysis/a.ts', 'lib/report/b.ts', 'analysis', 'report']])).toHaveLength(1);
    expect(violations([['stages/a.ts', 'lib/rnn/b.ts', 'stages', 'rnn'], ['lib/cli/a.ts', 'lib/engine/b.ts', 'cli', 'engine']])).toEqual([]);
    expect(layerOf(path.join(root, 'lib/engine/x.ts'))).toBe('engine');
    expect(layerOf(path.join(root, 'stages/x.ts'))).toBe('stages');
  });

  it('no import circle in lib/, type-only and dynamic imports included', () => {
    const g = importGraph(libFiles());
    expect(g.size).toBeGreaterThan(100); // the graph was read
    expect(circles(g)).toEqual([]);
  });

  it('the circle check finds a circle through a type-only import or re-export, and passes a tree', () => {
    const src: Record<string, string> = {
      'lib/engine/a.ts': "import { b } from './b.ts';\n",
      'lib/engine/b.ts': "// import { a } from './a.ts';\nexport type { C } from './c.ts';\n",
      'lib/engine/c.ts': "import type { A } from './a.ts';\n",
      'lib/engine/d.ts': "const a = await import('./a.ts');\n",
    };
    expect(circles(importGraph(Object.keys(src), (f) => src[f]))).toEqual(['lib/engine/a.ts -> lib/engine/b.ts -> lib/engine/c.ts -> lib/engine/a.ts']);
    src['lib/engine/c.ts'] = "export type C = number;\n";
    expect(circles(importGraph(Object.keys(src), (f) => src[f]))).toEqual([]);
  });

  it('docs/architecture.md names every engine file in its table (by its path under lib/engine/)', () => {
    const doc = fs.readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');
    const named = new Set([...doc.matchAll(/`([\w./-]+\.(?:ts|mjs))`/g)].map((m) => m[1]));
    const files = fg.sync(['**/*.ts', '**/*.mjs'], { cwd: path.join(root, 'lib/engine') });
    expect(files.length).toBeGreaterThan(20);
    expect(files.filter((f) => !named.has(f)).sort()).toEqual([]);
  });

  it('no file in lib/engine is over 250 lines', () => {
    const long = fg.sync('lib/engine/**/*.ts', { cwd: root }).map((f) => [f, fs.readFileSync(path.join(root, f), 'utf8').split('\n').length - 1] as const).filter(([, n]) => n > 250);
    expect(long).toEqual([]);
  });

  it('a no-op run loads no kernel, reader or run-time-only engine file (they are imported when used)', () => {
    // Each module costs a round trip to tsx's loader thread, and the no-op report is the command run most.
    const stages = [...fs.readFileSync(path.join(root, 'pipeline.ts'), 'utf8').matchAll(/'(stages\/[\w-]+\.ts)'/g)].map((m) => m[1]);
    expect(stages.length).toBeGreaterThan(15);
    // A no-op replayed from its memo loads pipeline.ts alone; the full CLI (and lib/cli/noop.ts,
    // which writes the memo) is imported when the memo is not in force.
    expect([...loadedWith(['pipeline.ts'])]).toEqual(['pipeline.ts']);
    const loaded = [...loadedWith(['pipeline.ts', 'lib/cli/main.ts', ...stages])];
    // (description-check: no imports; describe's declaration checks a hand-edited description with it)
    const mayLoad = /^(pipeline\.ts|stages\/.*|schemas\/.*|lib\/engine\/.*|lib\/cli\/(noop|main|commands|errors|args)\.ts|lib\/data\/inputs\.ts|lib\/rnn\/wasm-files\.ts|lib\/report\/viewer\/libs\.ts|lib\/analysis\/description-check\.ts)$/;
    expect(loaded.filter((f) => !mayLoad.test(f))).toEqual([]);
    const runTimeOnly = ['run/execute', 'keep/tensor', 'guard/lock', 'guard/lease', 'guard/renewal', 'keep/store-list', 'decide/status', 'keep/gc', 'run/run-stage', 'run/placement', 'keep/remote', 'keep/remote-http'];
    for (const n of runTimeOnly) expect(fs.existsSync(path.join(root, `lib/engine/${n}.ts`)), n).toBe(true);
    expect(loaded.filter((f) => runTimeOnly.some((n) => f === `lib/engine/${n}.ts`))).toEqual([]);
    expect(loaded.length).toBeLessThanOrEqual(51); // 22 stages, 28 modules and pipeline.ts
  });

  it('static imports are told from type-only and dynamic ones', () => {
    const src = "import a from './a.ts';\nimport type { B } from './b.ts';\nimport {\n  c,\n  type D,\n} from './c.ts';\nexport { e } from './e.ts';\nexport type { F } from './f.ts';\nconst g = await import('./g.ts');\n// import h from './h.ts';\nimport './i.ts';\n";
    expect(staticImportsOf(src)).toEqual(['./a.ts', './c.ts', './e.ts', './i.ts']);
  });
});
