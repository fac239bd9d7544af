// The no-op memo, written: a `report` or `run` that wrote nothing (every stage cached: no
// object, entry or file under reports/ written) and exited 0 leaves in <cache>/noop/ what it
// printed, every environment variable it asked for, and the statKey (keep/hash.ts) of every
// file it looked at or could have loaded: each path its fs calls named (sources, params files,
// data files, cache entries and objects, outputs under reports/; "absent" for one that was not
// there) and every file and folder of the code tsx loads (lib/, stages/, schemas/, build/,
// data/, pipeline.ts, package files), which the fs calls of this thread do not see. pipeline.ts
// replays it while every one of those is unchanged; anything else (a file edited, added or
// deleted, another env value, other words on the command line) runs the full build.

import childProcess from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import workerThreads from 'node:worker_threads';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTLED_MS, statKey } from '../engine/keep/hash.ts';

// The fs calls this module makes itself, kept before any are watched.
const { statSync, writeFileSync, renameSync, mkdirSync, readdirSync, existsSync, rmSync } = fs;

/** Code read by tsx's loader thread, which the fs trace does not see: statted whole. */
const CODE_DIRS = ['lib', 'stages', 'schemas', 'build', 'data'];
const CODE_FILES = ['pipeline.ts', 'package.json', 'package-lock.json', 'tsconfig.json', 'node_modules/.package-lock.json'];

/** What pipeline.ts reads back (memoAt there makes `key` and `file`). */
export interface Memo {
  key: string;
  env: Record<string, string | null>;
  files: Record<string, string>;
  out: string;
  err: string;
}

/** The fs calls that change what their path names (open does with a writing flag); every other call with a path reads it. */
const WRITES = new Set(['writeFile', 'appendFile', 'rename', 'unlink', 'rm', 'rmdir', 'mkdir', 'copyFile', 'cp', 'symlink', 'link', 'truncate', 'utimes', 'lutimes', 'chmod', 'lchmod', 'chown', 'lchown', 'mkdtemp', 'createWriteStream']);
const TWO_PATHS = new Set(['rename', 'copyFile', 'cp', 'link', 'symlink']);

function pathArg(a: unknown): string | null {
  if (typeof a === 'string') return path.resolve(a);
  if (a instanceof URL) return a.protocol === 'file:' ? fileURLToPath(a) : null;
  if (Buffer.isBuffer(a)) return path.resolve(a.toString());
  return null;
}

function openWrites(flags: unknown): boolean {
  if (flags === undefined || flags === null) return false;
  if (typeof flags === 'number') return (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_APPEND)) !== 0;
  return !/^(r|rs|sr)$/.test(String(flags));
}

/**
 * Start watching this process for a memo: every path its fs calls name, every environment
 * variable it reads, what it prints. `finish(code)` writes the memo when the run qualifies.
 */
export function record(at: { key: string; file: string }, c: { root: string; env: Record<string, string | undefined> }): { finish(code: number): void } {
  const startMs = Date.now();
  const file = at.file;
  const cache = path.dirname(path.dirname(file));
  const root = path.resolve(c.root);
  // The project's code, and this CLI's and engine's when they are another checkout's.
  const codeRoots = [...new Set([root, fileURLToPath(new URL('../../', import.meta.url)).replace(/[\\/]$/, '')])];
  // Bookkeeping that only spares work (hashes and checks known by stat), locks, staging, and
  // the cache folder itself (what is in it is watched file by file).
  const ignored = [path.join(cache, 'locks') + path.sep, path.join(cache, 'tmp') + path.sep, path.join(cache, 'noop') + path.sep, path.join(root, 'node_modules') + path.sep];
  const ignoredFiles = new Set([cache, path.join(cache, 'imports.json'), path.join(cache, 'verified.json'), path.join(cache, 'locks'), path.join(cache, 'tmp'), path.join(cache, 'noop')]);
  const tsxCache = /[\\/]tsx-\d+[\\/]/; // tsx's own transform cache
  const isIgnored = (p: string) => ignoredFiles.has(p) || ignored.some((d) => p.startsWith(d)) || tsxCache.test(p);
  const reads = new Set<string>();
  let wrote: string | null = null;
  let active = true;

  const note = (name: string, args: unknown[]) => {
    if (!active) return;
    const base = name.replace(/Sync$/, '');
    const paths = (TWO_PATHS.has(base) ? [args[0], args[1]] : [args[0]]).map(pathArg).filter((p): p is string => p !== null && !isIgnored(p));
    if (!paths.length) return;
    let writes = WRITES.has(base) || (base === 'open' && openWrites(args[1]));
    // Creating a folder that is there, or removing a file that is not, changes nothing.
    if (base === 'mkdir') writes = !existsSync(paths[0]);
    else if (base === 'rm' || base === 'rmdir' || base === 'unlink') writes = existsSync(paths[0]);
    if (writes) wrote ??= `${name} ${paths[0]}`;
    else for (const p of paths) reads.add(p);
  };
  const wrapAll = (obj: Record<string, any>, skip: Set<string>) => {
    const saved: [string, unknown][] = [];
    for (const name of Object.keys(obj)) {
      const fn = obj[name];
      if (typeof fn !== 'function' || skip.has(name) || /^[A-Z]/.test(name) || name.startsWith('_') || /^(f|watch|unwatch)/.test(name)) continue;
      const wrapped = function (this: unknown, ...args: unknown[]) {
        note(name, args);
        return fn.apply(this, args);
      };
      Object.assign(wrapped, fn);
      saved.push([name, fn]);
      obj[name] = wrapped;
    }
    return () => {
      for (const [name, fn] of saved) obj[name] = fn;
    };
  };
  const unwrapFs = wrapAll(fs as any, new Set(['promises', 'constants', 'read', 'readSync', 'write', 'writeSync', 'close', 'closeSync', 'readv', 'readvSync', 'writev', 'writevSync']));
  const unwrapFsp = wrapAll(fsp as any, new Set(['constants']));
  // What another process, a thread or the network reads is not seen here: a run that starts
  // one leaves no memo.
  const unseen = (what: string) => () => {
    if (active) wrote ??= what;
  };
  const restore: (() => void)[] = [];
  const guard = (obj: any, name: string, what: string, isClass = false, when: (a: any[]) => boolean = () => true) => {
    const orig = obj[name];
    if (typeof orig !== 'function') return;
    const seen = unseen(what);
    const mark = (a: any[] = []) => when(a) && seen();
    obj[name] = isClass
      ? class extends orig {
          constructor(...a: any[]) {
            mark(a);
            super(...a);
          }
        }
      : function (this: unknown, ...a: any[]) {
          mark(a);
          return orig.apply(this, a);
        };
    restore.push(() => (obj[name] = orig));
  };
  for (const n of ['spawn', 'spawnSync', 'fork', 'exec', 'execSync', 'execFile', 'execFileSync']) guard(childProcess, n, `started a process (${n})`);
  guard(workerThreads, 'Worker', 'started a thread', true);
  // (a file opened for writing is seen at its open; these are stdout and stderr written round the tap below)
  const std = (a: any[]) => a[0] === 1 || a[0] === 2;
  guard(fs, 'writeSync', 'wrote to stdout or stderr by descriptor', false, std);
  guard(fs, 'write', 'wrote to stdout or stderr by descriptor', false, std);
  guard(globalThis, 'fetch', 'used the network');
  syncBuiltinESMExports();

  // Environment variables read through process.env (Node's own C++ reads are in the key).
  const realEnv = process.env;
  const envRead = new Map<string, string | null>();
  let enumerated = false;
  process.env = new Proxy(realEnv, {
    get(t, k) {
      const v = Reflect.get(t, k);
      if (active && typeof k === 'string' && !envRead.has(k)) envRead.set(k, v ?? null);
      return v;
    },
    has(t, k) {
      if (active && typeof k === 'string' && !envRead.has(k)) envRead.set(k, (t as any)[k] ?? null);
      return Reflect.has(t, k);
    },
    ownKeys(t) {
      if (active) enumerated = true;
      return Reflect.ownKeys(t);
    },
  });
  let out = '';
  let err = '';
  const tap = (s: NodeJS.WriteStream, add: (x: string) => void) => {
    const w = s.write;
    s.write = function (this: NodeJS.WriteStream, chunk: any, ...rest: any[]) {
      if (active) add(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return (w as any).apply(this, [chunk, ...rest]);
    } as typeof s.write;
    return () => {
      s.write = w;
    };
  };
  const untapOut = tap(process.stdout, (x) => (out += x));
  const untapErr = tap(process.stderr, (x) => (err += x));

  return {
    finish(code: number) {
      if (!active) return;
      active = false;
      unwrapFs();
      unwrapFsp();
      restore.forEach((f) => f());
      syncBuiltinESMExports();
      process.env = realEnv;
      untapOut();
      untapErr();
      const skip = (why: string) => {
        if (c.env.TOTAL_INTERP_DEBUG) process.stderr.write(`debug: no no-op memo: ${why}\n`);
      };
      if (code !== 0 || wrote || enumerated) return skip(code !== 0 ? `exit ${code}` : wrote ? `wrote (${wrote})` : 'the environment was listed');
      try {
        mkdirSync(path.dirname(file), { recursive: true });
        const files: Record<string, string> = {};
        const settledBy = BigInt(startMs - SETTLED_MS) * 1_000_000n;
        const add = (f: string): boolean => {
          const st = statSync(f, { bigint: true, throwIfNoEntry: false });
          if (!st) {
            files[f] = 'absent';
            return true;
          }
          // Only a file settled before this run began can be known by its stat (keep/hash.ts).
          if ((st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs) > settledBy) {
            skip(`${f} changed less than ${SETTLED_MS / 1000} s before this run`);
            return false;
          }
          files[f] = statKey(st);
          return true;
        };
        for (const f of reads) if (!add(f)) return;
        for (const r of codeRoots) for (const f of CODE_FILES) if (!add(path.join(r, f))) return;
        const walk = (dir: string): boolean => {
          if (!add(dir)) return false;
          for (const d of readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, d.name);
            if (d.isDirectory() ? !walk(p) : !add(p)) return false;
          }
          return true;
        };
        for (const r of codeRoots) for (const d of CODE_DIRS) if (existsSync(path.join(r, d)) ? !walk(path.join(r, d)) : !add(path.join(r, d))) return;
        const memo: Memo = { key: at.key, env: Object.fromEntries(envRead), files, out, err };
        const tmp = `${file}.tmp-${process.pid}`;
        writeFileSync(tmp, JSON.stringify(memo));
        renameSync(tmp, file);
        prune(path.dirname(file), file);
      } catch (e) {
        // A memo is only a shortcut: a run that cannot write one is not an error.
        skip(String(e));
      }
    },
  };
}

/** How many memos a cache keeps: the newest, one per command line (gc also removes stale ones). */
export const MEMOS_KEPT = 8;

/** Keep the folder to the MEMOS_KEPT newest memos (`mine` always among them); best effort. */
export function prune(dir: string, mine: string): void {
  const all: { p: string; t: number }[] = [];
  for (const f of readdirSync(dir)) {
    const p = path.join(dir, f);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isFile()) all.push({ p, t: p === mine ? Infinity : st.mtimeMs });
  }
  all.sort((a, b) => b.t - a.t);
  for (const { p } of all.slice(MEMOS_KEPT)) rmSync(p, { force: true });
}
