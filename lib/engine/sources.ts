// The code a stage's result depends on: its own file and every project-local module it
// imports, followed transitively, plus its schemas. Only relative imports are followed
// ('./x', '../lib/y'): packages in node_modules are pinned by package-lock.json, and the
// engine (lib/engine/) is covered by the engine version in the key, so editing the engine
// does not force a 4000-epoch retrain.

import fs from 'node:fs';
import path from 'node:path';
import { sha256, hashJson } from './hash.ts';

const IMPORT_RE = /(?:\bimport|\bexport)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*[,)]/g;

/** Relative import specifiers in a module's source. Comments are stripped first. */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out: string[] = [];
  for (const m of code.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec && (spec.startsWith('./') || spec.startsWith('../'))) out.push(spec);
  }
  return out;
}

function resolveSpec(fromFile: string, spec: string): string | null {
  const base = path.resolve(path.dirname(fromFile), spec);
  const candidates = [base, `${base}.ts`, base.replace(/\.js$/, '.ts'), path.join(base, 'index.ts')];
  for (const c of candidates) {
    try {
      if (fs.statSync(c).isFile()) return c;
    } catch {
      /* next */
    }
  }
  return null;
}

export class SourceHasher {
  /** Per file read: its sha256 and the files it imports (each file is read once). */
  private files = new Map<string, { hash: string; deps: string[] }>();
  readonly root: string;
  readonly exclude: string[];

  /** root: the project root (paths are reported relative to it). exclude: folders not followed. */
  constructor(root: string, exclude: string[] = ['lib/engine']) {
    this.root = root;
    this.exclude = exclude.map((e) => path.resolve(root, e) + path.sep);
  }

  private rel(p: string): string {
    return path.relative(this.root, p).split(path.sep).join('/');
  }

  private read(abs: string): { hash: string; deps: string[] } {
    let f = this.files.get(abs);
    if (f === undefined) {
      const bytes = fs.readFileSync(abs);
      const deps: string[] = [];
      if (/\.[cm]?[jt]s$/.test(abs)) {
        for (const spec of importsOf(bytes.toString('utf8'))) {
          const r = resolveSpec(abs, spec);
          if (r === null) throw new Error(`${this.rel(abs)}: cannot resolve import "${spec}"`);
          deps.push(r);
        }
      }
      f = { hash: sha256(bytes), deps };
      this.files.set(abs, f);
    }
    return f;
  }

  /**
   * Files (relative path -> sha256) reachable from `entries` by relative imports,
   * skipping excluded folders. `extra` files are added as they are (schemas).
   */
  closure(entries: string[], extra: string[] = []): Record<string, string> {
    const out: Record<string, string> = {};
    const seen = new Set<string>();
    const stack = entries.map((e) => path.resolve(this.root, e));
    while (stack.length) {
      const f = stack.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      if (this.exclude.some((x) => f.startsWith(x))) continue;
      const { hash, deps } = this.read(f);
      out[this.rel(f)] = hash;
      for (const d of deps) stack.push(d);
    }
    for (const e of extra) {
      const f = path.resolve(this.root, e);
      if (fs.existsSync(f)) out[this.rel(f)] = this.read(f).hash;
    }
    return out;
  }
}

/** The single code hash that goes in the key. */
export function codeHash(files: Record<string, string>): string {
  return hashJson(files);
}

/** Human reasons for a code change: files changed, added or removed. */
export function diffCode(before: Record<string, string>, after: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [f, h] of Object.entries(after)) {
    if (!(f in before)) out.push(`code added: ${f}`);
    else if (before[f] !== h) out.push(`code changed: ${f}`);
  }
  for (const f of Object.keys(before)) if (!(f in after)) out.push(`code removed: ${f}`);
  return out.sort();
}
