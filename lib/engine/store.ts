// The cache store.
//
//   cache/objects/ab/abcdef…    content-addressed blobs, named by the sha256 of their bytes
//   cache/entries/<stage>/<key>.json   one record per built stage key (see Entry)
//   cache/entries/<stage>/latest       the key last built or used, for `status` reasons
//   cache/locks/<stage>-<key>.lock      held while a process builds that stage key
//   cache/tmp/                          partial writes; renamed into place when complete
//
// Every write goes to tmp/ and is renamed into place, so a reader sees a complete file
// or none. Every read re-hashes what it read: a truncated or bit-flipped object or entry
// is reported as corrupt (never served) and the caller recomputes it. A read checks the
// file's size against its entry's before reading it, so a damaged file never costs more
// memory than the object it replaced.
//
// Writes check every write's count, and remove their tmp file on any error; a full disk,
// a read-only or foreign-owned cache become one error naming the cache (cache-errors.ts).
// A read-only cache still serves hits: only the `latest` pointers cannot be recorded, and
// that is said once.

import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { canonicalJson, sha256 } from './hash.ts';
import type { RemoteTier } from './remote.ts'; // [remote]
import type { KeyRecord } from './key.ts';
import { cacheWriteError } from './cache-errors.ts';
import { liveLocks } from './lock.ts';

/** The file-system calls a write makes: injectable, so tests can play a full or read-only disk. */
export interface WriteIo {
  mkdirSync: typeof fs.mkdirSync;
  openSync: typeof fs.openSync;
  writeSync: (fd: number, buf: Uint8Array, offset: number, length: number) => number;
  fsyncSync: typeof fs.fsyncSync;
  closeSync: typeof fs.closeSync;
  renameSync: typeof fs.renameSync;
  rmSync: typeof fs.rmSync;
}

const realIo: WriteIo = {
  mkdirSync: fs.mkdirSync,
  openSync: fs.openSync,
  writeSync: (fd, buf, offset, length) => fs.writeSync(fd, buf, offset, length),
  fsyncSync: fs.fsyncSync,
  closeSync: fs.closeSync,
  renameSync: fs.renameSync,
  rmSync: fs.rmSync,
};

/** Entries are small JSON records; a larger file is damage, not an entry. */
const MAX_ENTRY_BYTES = 16 << 20;

export interface ObjectRef {
  hash: string;
  bytes: number;
}

export interface TensorRef extends ObjectRef {
  dtype: string;
  shape: number[];
}

/** What a built stage left in the store. */
export interface Entry {
  /** The cache key (sha256 of `record`). */
  key: string;
  /** The key record itself, kept so `status` can name what changed. */
  record: KeyRecord;
  /** Per-file hashes behind record.code, for "code changed: stages/x.ts". */
  codeFiles: Record<string, string>;
  outputs: {
    json: ObjectRef;
    tensors: Record<string, TensorRef>;
    artifacts: Record<string, ObjectRef>;
  };
  /** Content hash of the output (volatile JSON keys excluded); what downstream keys use. */
  outputHash: string;
  seconds: number;
  builtAt: string;
  /** sha256 of the canonical entry without this field: detects a damaged entry file. */
  check?: string;
}

// The key record is documented, versioned and built in key.ts.
export type { KeyRecord };

export class CorruptError extends Error {
  readonly reason = 'corrupt';
  /** The entry the damage was found through, when known: the caller drops it and recomputes. */
  stage?: string;
  key?: string;
  constructor(message: string, at?: { stage: string; key: string }) {
    super(message);
    if (at) {
      this.stage = at.stage;
      this.key = at.key;
    }
  }
}

export class Store {
  readonly root: string;
  /** [remote] Optional second level (remote.ts): pulled on a local miss, pushed after a build. */
  remote?: RemoteTier;
  /** Replaceable by tests, to play a full, read-only or foreign-owned disk. */
  io: WriteIo;
  /** Where the store's one-time notices go (the pipeline points it at its reporter). */
  warn: (message: string) => void = (m) => process.stderr.write(`warning: ${m}\n`);
  private toldReadOnly = false;
  constructor(root: string, io: Partial<WriteIo> = {}) {
    this.root = root;
    this.io = { ...realIo, ...io };
  }

  private dir(...parts: string[]) {
    return path.join(this.root, ...parts);
  }

  objectPath(hash: string): string {
    return this.dir('objects', hash.slice(0, 2), hash);
  }

  /**
   * Write bytes atomically to `dest` (tmp file, every write's count checked, fsync, rename).
   * On any error the tmp file is removed; disk and permission errors become a
   * CacheWriteError naming the cache directory.
   */
  writeAtomic(dest: string, bytes: string | Uint8Array): void {
    const io = this.io;
    const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    let tmp: string | null = null;
    let fd = -1;
    try {
      const tmpDir = this.dir('tmp');
      io.mkdirSync(tmpDir, { recursive: true });
      io.mkdirSync(path.dirname(dest), { recursive: true });
      tmp = path.join(tmpDir, `${process.pid}-${randomBytes(6).toString('hex')}`);
      fd = io.openSync(tmp, 'w');
      for (let off = 0; off < buf.byteLength; ) {
        const n = io.writeSync(fd, buf, off, buf.byteLength - off);
        if (!(n > 0)) throw Object.assign(new Error(`short write to ${tmp}: ${off} of ${buf.byteLength} bytes`), { code: 'ENOSPC' });
        off += n;
      }
      io.fsyncSync(fd);
      const f = fd;
      fd = -1;
      io.closeSync(f);
      io.renameSync(tmp, dest);
      tmp = null;
    } catch (e) {
      if (fd >= 0) {
        try {
          io.closeSync(fd);
        } catch {}
      }
      if (tmp !== null) {
        try {
          io.rmSync(tmp, { force: true });
        } catch {}
      }
      throw cacheWriteError(e, this.root);
    }
  }

  /** Store a blob; returns its ref. Idempotent: an intact existing object is kept. */
  putObject(bytes: Uint8Array): ObjectRef {
    const hash = sha256(bytes);
    const p = this.objectPath(hash);
    let ok = false;
    try {
      ok = fs.statSync(p).size === bytes.byteLength && sha256(fs.readFileSync(p)) === hash;
    } catch {
      ok = false;
    }
    if (!ok) this.writeAtomic(p, bytes);
    return { hash, bytes: bytes.byteLength };
  }

  /**
   * Read a blob and check it against its name. Throws CorruptError when damaged or missing.
   * The size is checked before anything is read: a file of the wrong size is never read whole.
   */
  getObject(ref: ObjectRef, what: string, at?: { stage: string; key: string }): Uint8Array {
    const p = this.objectPath(ref.hash);
    const short = ref.hash.slice(0, 12);
    let fd: number;
    try {
      fd = fs.openSync(p, 'r');
    } catch {
      throw new CorruptError(`${what}: object ${short} is missing from the cache`, at);
    }
    try {
      const st = fs.fstatSync(fd);
      const size = st.size;
      if (size !== ref.bytes) {
        const how = size < ref.bytes ? 'truncated' : 'longer than written: appended to or replaced';
        throw new CorruptError(`${what}: object ${short} has ${size} bytes, expected ${ref.bytes} (${how})`, at);
      }
      const buf = Buffer.allocUnsafe(size);
      let off = 0;
      while (off < size) {
        const n = fs.readSync(fd, buf, off, size - off, off);
        if (n <= 0) break;
        off += n;
      }
      if (off !== size) throw new CorruptError(`${what}: object ${short} shrank while being read (${off} of ${size} bytes)`, at);
      if (sha256(buf) !== ref.hash) {
        throw new CorruptError(`${what}: object ${short} fails its hash check (damaged)`, at);
      }
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Check an object without keeping it. */
  verifyObject(ref: ObjectRef, what: string, at?: { stage: string; key: string }): void {
    this.getObject(ref, what, at);
  }

  entryPath(stage: string, key: string): string {
    return this.dir('entries', stage, `${key}.json`);
  }

  putEntry(entry: Entry): void {
    const { check: _drop, ...body } = entry;
    const withCheck: Entry = { ...body, check: sha256(canonicalJson(body)) };
    this.writeAtomic(this.entryPath(entry.record.stage, entry.key), JSON.stringify(withCheck, null, 1));
    this.setLatest(entry.record.stage, entry.key);
  }

  /** The entry for (stage, key), null if absent; CorruptError if present but damaged. */
  getEntry(stage: string, key: string): Entry | null {
    const p = this.entryPath(stage, key);
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st) return null;
    const at = { stage, key };
    const bad = (why: string) => new CorruptError(`stage ${stage}: cache entry ${key.slice(0, 12)} ${why}`, at);
    if (!st.isFile() || st.size > MAX_ENTRY_BYTES) throw bad(`is ${st.isFile() ? `${st.size} bytes, too large to be an entry` : 'not a file'} (damaged)`);
    let text: string;
    try {
      text = fs.readFileSync(p, 'utf8');
    } catch {
      return null; // removed since the stat
    }
    let entry: Entry;
    try {
      entry = JSON.parse(text);
    } catch {
      throw bad('is not valid JSON (truncated or damaged)');
    }
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw bad('is not an entry record (damaged)');
    const { check, ...body } = entry;
    let sum: string | null = null;
    try {
      sum = sha256(canonicalJson(body));
    } catch {
      sum = null;
    }
    if (!check || sum !== check || entry.key !== key) throw bad('fails its checksum (damaged)');
    if (!wellFormed(entry, stage)) throw bad('does not have the shape of an entry (damaged)');
    return entry;
  }

  /** Drop an entry (damaged, or its objects are); on a read-only cache there is nothing to do. */
  dropEntry(stage: string, key: string): void {
    // Its objects whose bytes no longer match their names go too: they can never be served,
    // and the recomputation may not write them again (volatile outputs differ), so they
    // would stay behind damaged. Only the file we checked (same inode) is removed, so a good
    // copy renamed into place meanwhile by another process stays.
    let entry: Entry | null = null;
    try {
      entry = JSON.parse(fs.readFileSync(this.entryPath(stage, key), 'utf8'));
    } catch {}
    for (const ref of entry && wellFormed(entry, stage) ? entryObjects(entry).map((o) => o.ref) : []) {
      const p = this.objectPath(ref.hash);
      try {
        const st = fs.statSync(p);
        if (st.size === ref.bytes && sha256(fs.readFileSync(p)) === ref.hash) continue;
        if (fs.statSync(p).ino === st.ino) fs.rmSync(p);
      } catch {
        /* missing already, or a read-only cache */
      }
    }
    try {
      fs.rmSync(this.entryPath(stage, key), { force: true });
    } catch {
      /* read-only: the entry stays damaged and is never served */
    }
  }

  /**
   * Record the key last built or used (for `status` reasons). Best effort: on a read-only
   * or full cache a hit is still served, and that it could not be recorded is said once.
   */
  setLatest(stage: string, key: string): void {
    const file = this.dir('entries', stage, 'latest');
    try {
      if (fs.readFileSync(file, 'utf8') === key) return; // nothing to record
    } catch {}
    try {
      this.writeAtomic(file, key);
    } catch (e) {
      if ((e as { reason?: string }).reason !== 'cache-write') throw e;
      if (!this.toldReadOnly) {
        this.toldReadOnly = true;
        this.warn(`cache ${this.root} is not writable (${(e as { code?: string }).code}): serving what is cached, but cannot record which results were used`);
      }
    }
  }

  /** The entry last built or used for a stage (any key), for explaining staleness. */
  latestEntry(stage: string): Entry | null {
    let key: string;
    try {
      key = fs.readFileSync(this.dir('entries', stage, 'latest'), 'utf8').trim();
    } catch {
      return null;
    }
    try {
      return this.getEntry(stage, key);
    } catch {
      return null;
    }
  }

  /** Every entry in the store as (stage, key) pairs. */
  listEntries(): { stage: string; key: string; path: string }[] {
    const base = this.dir('entries');
    const out: { stage: string; key: string; path: string }[] = [];
    if (!fs.existsSync(base)) return out;
    for (const stage of fs.readdirSync(base)) {
      for (const f of fs.readdirSync(path.join(base, stage))) {
        if (f.endsWith('.json')) out.push({ stage, key: f.slice(0, -5), path: path.join(base, stage, f) });
      }
    }
    return out;
  }

  /** Every object in the store with its size and modification time. */
  listObjects(): { hash: string; path: string; bytes: number; mtimeMs: number }[] {
    const base = this.dir('objects');
    const out: { hash: string; path: string; bytes: number; mtimeMs: number }[] = [];
    if (!fs.existsSync(base)) return out;
    for (const d of fs.readdirSync(base)) {
      for (const f of fs.readdirSync(path.join(base, d))) {
        const p = path.join(base, d, f);
        const st = fs.statSync(p);
        out.push({ hash: f, path: p, bytes: st.size, mtimeMs: st.mtimeMs });
      }
    }
    return out;
  }

  /**
   * What older engines left in the cache that is not data: `validators/` held generated
   * JavaScript that every command imported. Nothing reads it now; gc removes it.
   */
  removeLegacy(dryRun = false): number {
    const dir = this.dir('validators');
    if (!fs.existsSync(dir)) return 0;
    let bytes = 0;
    for (const f of fs.readdirSync(dir)) bytes += fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.size ?? 0;
    if (!dryRun) fs.rmSync(dir, { recursive: true, force: true });
    return bytes;
  }

  /** Partial writes left by killed processes. */
  listTmp(): { path: string; bytes: number; mtimeMs: number }[] {
    const base = this.dir('tmp');
    if (!fs.existsSync(base)) return [];
    return fs.readdirSync(base).map((f) => {
      const p = path.join(base, f);
      const st = fs.statSync(p);
      return { path: p, bytes: st.size, mtimeMs: st.mtimeMs };
    });
  }

  /** Locks whose holders still hold them (lease not expired), as "stage-key (pid N on host H)". */
  liveLocks(): string[] {
    return liveLocks(this.dir('locks'));
  }

  lockPath(stage: string, key: string): string {
    return this.dir('locks', `${stage}-${key.slice(0, 16)}.lock`);
  }
}

/** The refs of every object an entry points at, with a label for messages. */
export function entryObjects(e: Entry): { ref: ObjectRef; what: string }[] {
  const s = e.record.stage;
  const out: { ref: ObjectRef; what: string }[] = [{ ref: e.outputs.json, what: `stage ${s}: json output` }];
  for (const [n, r] of Object.entries(e.outputs.tensors)) out.push({ ref: r, what: `stage ${s}: tensor ${n}` });
  for (const [n, r] of Object.entries(e.outputs.artifacts)) out.push({ ref: r, what: `stage ${s}: artifact ${n}` });
  return out;
}

const isRef = (r: any) => r && typeof r === 'object' && typeof r.hash === 'string' && /^[0-9a-f]{64}$/.test(r.hash) && Number.isInteger(r.bytes) && r.bytes >= 0;
const isMap = (m: any, each: (v: any) => boolean) => m && typeof m === 'object' && !Array.isArray(m) && Object.values(m).every(each);

/** Does a parsed entry have the fields the engine reads (so damage never surfaces as a TypeError)? */
function wellFormed(e: any, stage: string): boolean {
  return (
    typeof e.key === 'string' &&
    e.record && typeof e.record === 'object' && e.record.stage === stage &&
    isMap(e.codeFiles ?? {}, (v) => typeof v === 'string') &&
    e.outputs && typeof e.outputs === 'object' &&
    isRef(e.outputs.json) &&
    isMap(e.outputs.tensors, (t) => isRef(t) && typeof t.dtype === 'string' && Array.isArray(t.shape)) &&
    isMap(e.outputs.artifacts, isRef) &&
    typeof e.outputHash === 'string'
  );
}
