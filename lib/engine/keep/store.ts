// The cache store.
//   cache/objects/ab/abcdef…    content-addressed blobs, named by the sha256 of their bytes
//   cache/entries/<stage>/<key>.json   one record per built stage key (see Entry)
//   cache/entries/<stage>/latest       the key last built or used, for `status` reasons
//   cache/locks/<stage>-<key>.lock      held while a process builds that stage key
//   cache/tmp/                          partial writes; renamed into place when complete
//   cache/verified.json, imports.json    objects found intact, sources' imports and hashes (memos)
//
// Every write goes through atomic-write.ts; objects without fsync, which a crash may empty or cut. Every
// read re-hashes what it read after checking its size (an object only checked may be known intact by its
// stat: objects.ts): a damaged object or entry is reported as corrupt (never served) and recomputed.
// A read-only cache still serves hits; that `latest` cannot be recorded is said once.

import fs from 'node:fs';
import path from 'node:path';
import { sha256 } from './hash.ts';
import { VerifiedMemo, readObject, verifyEntry } from './objects.ts';
import { writeAtomic, realIo, type WriteIo } from './atomic-write.ts';
import { CorruptError, MAX_ENTRY_BYTES, badEntry, entryObjects, outputHashOf, parseEntry, sealEntry, wellFormed, type Declared, type Entry, type ObjectRef, type TensorRef } from './entry.ts';
import type { Store, StoredResult } from './store-api.ts';
export type { Entry, ObjectRef, Store, StoredResult };

/** The cache folder as a Store: every layer (layered.ts) reads and writes through it. */
export class LocalStore implements Store {
  readonly root: string;
  /** Replaceable by tests, to play a full, read-only or foreign-owned disk. */
  io: WriteIo;
  /** Where the store's one-time notices go (the pipeline points it at its reporter). */
  warn: (message: string) => void = (m) => process.stderr.write(`warning: ${m}\n`);
  /** Each stage's declared tensors and volatile keys, to check entries read back (set by the pipeline; none: unchecked). */
  declared?: (stage: string) => (Declared & { volatile?: readonly string[] }) | undefined;
  private toldReadOnly = false;
  /** Objects hashed intact and settled, by name (cache/verified.json, loaded on first use). */
  private verified: VerifiedMemo | null = null;
  /** The wall clock that says when an object has settled (tests move it on). */
  clock: () => number = Date.now;
  constructor(root: string, io: Partial<WriteIo> = {}) {
    this.root = root;
    this.io = { ...realIo, ...io };
  }

  private dir(...parts: string[]) {
    return path.join(this.root, ...parts);
  }

  /** Where the object named `hash` is; only a name of 64 hex characters names a file here. */
  objectPath(hash: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new CorruptError(`object name ${JSON.stringify(String(hash).slice(0, 80))} is not 64 hex characters (damaged or forged entry)`);
    return this.dir('objects', hash.slice(0, 2), hash);
  }

  /** Write bytes atomically to `dest` (see atomic-write.ts); errors name the cache directory. */
  writeAtomic(dest: string, bytes: string | Uint8Array, durable = true): void {
    writeAtomic(this.io, this.root, dest, bytes, durable);
  }

  /** Store a blob; returns its ref. Idempotent: an intact existing object is kept. No fsync (see above). */
  putObject(bytes: Uint8Array): ObjectRef {
    const hash = sha256(bytes);
    const p = this.objectPath(hash);
    let ok = false;
    try {
      ok = fs.statSync(p).size === bytes.byteLength && sha256(fs.readFileSync(p)) === hash;
    } catch {
      ok = false;
    }
    if (!ok) this.writeAtomic(p, bytes, false);
    return { hash, bytes: bytes.byteLength };
  }

  /**
   * Read a blob and check it against its name. Throws CorruptError when damaged or missing.
   * The size is checked before anything is read: a file of the wrong size is never read whole.
   */
  getObject(ref: ObjectRef, what: string, at?: { stage: string; key: string }): Uint8Array {
    return this.checkObject(ref, what, at, true)!;
  }

  /** Check an object without keeping it (objects.ts: known intact by its stat, or re-hashed). */
  verifyObject(ref: ObjectRef, what: string, at?: { stage: string; key: string }): void {
    this.checkObject(ref, what, at, false);
  }

  /** The verified memo (objects.ts), loaded on first use. */
  get memo(): VerifiedMemo {
    return (this.verified ??= VerifiedMemo.load(this.dir('verified.json')));
  }

  private checkObject(ref: ObjectRef, what: string, at: { stage: string; key: string } | undefined, keep: boolean): Uint8Array | null {
    return readObject(this.objectPath(ref.hash), ref, what, at, keep, this.memo, this.clock());
  }

  /** Every object of an entry checked, and for one with artifacts its outputHash (objects.ts). */
  verifyEntry(entry: Entry): void {
    verifyEntry(this, entry);
  }

  /** Keep which objects were found intact, for the next run (objects.ts; best effort). */
  saveMemo(): void {
    this.verified?.save((text) => this.writeAtomic(this.dir('verified.json'), text));
  }

  /**
   * Store one stage's result: every output as an object (each tensor encoded as it is written), then the
   * entry that names them, written last so that no entry names an object not yet there.
   */
  put(r: StoredResult): Entry {
    const tensors: Record<string, TensorRef> = {};
    for (const [name, t] of Object.entries(r.tensors)) tensors[name] = { ...this.putObject(t.encode()), dtype: t.dtype, shape: t.shape };
    const artifacts: Record<string, ObjectRef> = {};
    for (const [p, content] of Object.entries(r.artifacts)) artifacts[p] = this.putObject(typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    const entry: Entry = {
      key: r.key,
      record: r.record,
      codeFiles: r.codeFiles,
      outputs: { json: this.putObject(Buffer.from(r.jsonText, 'utf8')), tensors, artifacts },
      outputHash: outputHashOf(r.json, r.volatile, tensors, artifacts),
      provenance: r.provenance,
      seconds: r.seconds,
      builtAt: new Date().toISOString(),
    };
    this.putEntry(entry);
    return entry;
  }

  entryPath(stage: string, key: string): string {
    return this.dir('entries', stage, `${key}.json`);
  }

  putEntry(entry: Entry): void {
    this.writeAtomic(this.entryPath(entry.record.stage, entry.key), JSON.stringify(sealEntry(entry), null, 1));
    this.setLatest(entry.record.stage, entry.key);
  }

  /**
   * The entry for (stage, key), null if absent; CorruptError if present but damaged. Its seal
   * is re-hashed unless the file is the one found intact before (same stat, settled: the
   * verified memo, objects.ts); its fields are checked either way.
   */
  getEntry(stage: string, key: string): Entry | null {
    const p = this.entryPath(stage, key);
    const now = this.clock(); // before the stat: see settled
    const st = fs.statSync(p, { bigint: true, throwIfNoEntry: false });
    if (!st) return null;
    if (!st.isFile() || st.size > MAX_ENTRY_BYTES) throw badEntry(stage, key, `is ${st.isFile() ? `${st.size} bytes, too large to be an entry` : 'not a file'} (damaged)`);
    let text: string;
    try {
      text = fs.readFileSync(p, 'utf8');
    } catch {
      return null; // removed since the stat
    }
    const memo = this.memo;
    const name = `entries/${stage}/${key}`;
    const entry = parseEntry(text, stage, key, this.declared?.(stage), memo.get(name, st));
    memo.set(name, st, entry.check!, now);
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
      this.writeAtomic(file, key, false); // a hint for `status`: a crash that empties it loses only the hint, so no fsync
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

  /** The keys of one stage's entries. */
  keysOf(stage: string): string[] {
    let files: string[];
    try {
      files = fs.readdirSync(this.dir('entries', stage));
    } catch {
      return [];
    }
    return files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
  }

  /** Nothing behind the local cache: no pull, no push, no lock beyond this machine's. */
  pull(_stage: string, _key: string): Promise<boolean> {
    return Promise.resolve(false);
  }
  push(_entry: Entry): Promise<void> {
    return Promise.resolve();
  }
  lockKey(_stage: string, _key: string, _onWait: (holder: string) => void): Promise<(() => Promise<void>) | null> {
    return Promise.resolve(null);
  }
  /** Where the lock files are (lock.ts, lease.ts). */
  get locksDir(): string {
    return this.dir('locks');
  }

  lockPath(stage: string, key: string): string {
    return this.dir('locks', `${stage}-${key.slice(0, 16)}.lock`);
  }
}
