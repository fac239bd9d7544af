// The code a stage's result depends on: its own file and every project-local module it
// imports, followed transitively, plus its schemas. Only relative imports are followed
// ('./x', '../lib/y'): packages in node_modules are pinned by package-lock.json, and the
// engine (lib/engine/) is covered by the engine version in the key, so editing the engine
// does not force a 4000-epoch retrain.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { sha256, hashJson, StatMemo } from '../keep/hash.ts';
import { EngineError } from '../errors.ts';
import { realIo, writeAtomic } from '../keep/atomic-write.ts';

/** What a module imports: its relative specifiers, and the lines of any import() it computes. */
export interface ModuleImports {
  specs: string[];
  computed: number[];
}

type Lexer = typeof import('es-module-lexer');
let lexer: Lexer | null = null;

/**
 * es-module-lexer, loaded on first use (synchronously, through its CommonJS build): a real
 * lexer of ES module syntax, so comments, strings and template literals that look like
 * imports are not imports. It reads TypeScript sources as they are: it needs only the
 * module syntax, which TypeScript shares with JavaScript.
 */
function lex(): Lexer {
  if (!lexer) {
    lexer = createRequire(import.meta.url)('es-module-lexer') as Lexer;
    lexer.initSync();
  }
  return lexer;
}

/**
 * The relative imports of a module's source: static imports and re-exports (`import type`
 * included), side-effect imports, and `import()` with a literal specifier. An `import()`
 * whose specifier is computed cannot be followed; its line is returned in `computed`.
 * (`export type { T } from` is TypeScript only and the lexer does not report it: it loads
 * nothing at run time, so it cannot change a result.)
 */
export function scanImports(source: string): ModuleImports {
  const [imports] = lex().parse(source);
  const specs: string[] = [];
  const computed: number[] = [];
  for (const i of imports) {
    // t: 1 static, 2 dynamic import(), 3 import.meta (not an import of anything).
    if (i.t === 3) continue;
    if (i.n === undefined) {
      if (i.t === 2) computed.push(source.slice(0, i.ss).split('\n').length);
      continue;
    }
    if (i.n.startsWith('./') || i.n.startsWith('../')) specs.push(i.n);
  }
  return { specs, computed };
}

/** Relative import specifiers in a module's source (see scanImports). */
export function importsOf(source: string): string[] {
  return scanImports(source).specs;
}

/**
 * The memo file's format: file content sha256 -> relative specifiers it imports, and each
 * source's (relative path) last hash with the stat it had (statKey in keep/hash.ts says why
 * an unchanged stat may stand for unchanged bytes).
 */
const MEMO_VERSION = 2;

/** A stat taken in this run, with the clock read just before it (settled needs both). */
interface Seen {
  st: fs.BigIntStats | null;
  at: number;
}

export class SourceHasher {
  /** Per file read: its path relative to the root, its sha256 and the files it imports (each file is read once). */
  private files = new Map<string, { rel: string; hash: string; deps: string[] }>();
  /** Content sha256 -> its relative import specifiers: lexing depends on the bytes alone. */
  private memo = new Map<string, string[]>();
  /** Each settled source's hash by its stat, by relative path. */
  private stats = new StatMemo();
  /** Stats taken in this run (a file is stat'ed once, whether resolved or read). */
  private seen = new Map<string, Seen>();
  private memoDirty = false;
  /** How many sources this hasher lexed (the rest came from the memo). */
  lexed = 0;
  /** How many sources this hasher read (the rest were known by their stat). */
  hashed = 0;
  readonly root: string;
  readonly exclude: string[];
  /** The wall clock that says when a file has settled (tests move it on). */
  private readonly clock: () => number;
  /** Where the memo persists between runs (in the cache folder), or null for none. */
  private readonly memoFile: string | null;

  /**
   * root: the project root (paths are reported relative to it). exclude: folders not followed.
   * memoFile: a file that keeps each source's imports by content hash, so that a run whose
   * sources have not changed lexes nothing (and does not load the lexer), and keeps each
   * settled source's hash by its stat, so such a run reads no source either.
   */
  constructor(root: string, exclude: string[] = ['lib/engine'], memoFile: string | null = null, clock: () => number = Date.now) {
    this.root = root;
    this.clock = clock;
    this.exclude = exclude.map((e) => path.resolve(root, e) + path.sep);
    this.memoFile = memoFile;
    if (memoFile) this.loadMemo(memoFile);
  }

  /** Reads the memo; anything unreadable or malformed is ignored (it is rebuilt by lexing). */
  private loadMemo(file: string): void {
    try {
      const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (doc?.version !== MEMO_VERSION || typeof doc.files !== 'object' || doc.files === null) return;
      for (const [hash, specs] of Object.entries(doc.files)) {
        if (/^[0-9a-f]{64}$/.test(hash) && Array.isArray(specs) && specs.every((x) => typeof x === 'string' && (x.startsWith('./') || x.startsWith('../')))) {
          this.memo.set(hash, specs as string[]);
        }
      }
      this.stats = new StatMemo(doc.stats);
    } catch {
      /* no memo yet, or unreadable: lex again */
    }
  }

  /**
   * Persists the memo when this run lexed something new; a cache that refuses the write loses
   * only speed. Called after a build that succeeded, so a run refused for bad input writes
   * nothing into the cache.
   */
  saveMemo(): void {
    if (!this.memoFile || (!this.memoDirty && !this.stats.dirty)) return;
    try {
      const files = Object.fromEntries([...this.memo].sort(([a], [b]) => (a < b ? -1 : 1)));
      writeAtomic(realIo, path.dirname(this.memoFile), this.memoFile, JSON.stringify({ version: MEMO_VERSION, files, stats: this.stats }));
      this.memoDirty = this.stats.dirty = false;
    } catch {
      /* read-only cache: the next run lexes again */
    }
  }

  private rel(p: string): string {
    return path.relative(this.root, p).split(path.sep).join('/');
  }

  /** The relative specifiers a source imports, from the memo or by lexing it. */
  private specsOf(abs: string, hash: string, bytes: Buffer): string[] {
    let specs = this.memo.get(hash);
    if (specs === undefined) {
      const found = scanImports(bytes.toString('utf8'));
      this.lexed++;
      if (found.computed.length) {
        throw new EngineError(
          'bad-stage',
          `${this.rel(abs)}:${found.computed[0]}: import() with a computed specifier: the engine cannot see what it loads, so a change there would not re-run the stages that depend on it`,
          `import a literal path instead, e.g. await import('../lib/kernel.ts')`,
        );
      }
      specs = found.specs;
      this.memo.set(hash, specs);
      this.memoDirty = true;
    }
    return specs;
  }

  /** A file's stat, taken once per run (null: absent), with the clock read before it. */
  private statOf(abs: string): Seen {
    let s = this.seen.get(abs);
    if (!s) {
      const at = this.clock();
      s = { st: fs.statSync(abs, { bigint: true, throwIfNoEntry: false }) ?? null, at };
      this.seen.set(abs, s);
    }
    return s;
  }

  /** Where a relative specifier points: the file itself, else with .ts, .js as .ts, or index.ts. */
  private resolveSpec(fromFile: string, spec: string): string | null {
    const base = path.resolve(path.dirname(fromFile), spec);
    const candidates = [base, `${base}.ts`, base.replace(/\.js$/, '.ts'), path.join(base, 'index.ts')];
    return candidates.find((c) => this.statOf(c).st?.isFile()) ?? null;
  }

  private read(abs: string): { rel: string; hash: string; deps: string[] } {
    let f = this.files.get(abs);
    if (f === undefined) {
      const { st, at } = this.statOf(abs);
      if (!st) throw Object.assign(new Error(`ENOENT: no such file, open '${abs}'`), { code: 'ENOENT' });
      const rel = this.rel(abs);
      const code = /\.[cm]?[jt]s$/.test(abs);
      const known = this.stats.get(rel, st);
      let hash: string;
      let specs: string[] = [];
      if (known !== undefined && (!code || this.memo.has(known))) {
        // Unchanged since it was hashed, settled (keep/hash.ts, statKey): its hash and imports stand.
        hash = known;
        if (code) specs = this.memo.get(hash)!;
      } else {
        const bytes = fs.readFileSync(abs);
        this.hashed++;
        hash = sha256(bytes);
        if (code) specs = this.specsOf(abs, hash, bytes);
        this.stats.set(rel, st, hash, at); // once settled; a file changed since, or still fresh, is read again next run
      }
      const deps: string[] = [];
      for (const spec of specs) {
        const r = this.resolveSpec(abs, spec);
        if (r === null) throw new Error(`${rel}: cannot resolve import "${spec}"`);
        deps.push(r);
      }
      f = { rel, hash, deps };
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
      const { rel, hash, deps } = this.read(f);
      out[rel] = hash;
      for (const d of deps) stack.push(d);
    }
    for (const e of extra) {
      const f = path.resolve(this.root, e);
      const r = this.statOf(f).st ? this.read(f) : null;
      if (r) out[r.rel] = r.hash;
    }
    return out;
  }
}

/** The single code hash that goes in the key. */
export function codeHash(files: Record<string, string>): string {
  return hashJson(files);
}
