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
// is reported as corrupt (never served) and the caller recomputes it.

import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { canonicalJson, sha256 } from './hash.ts';
import type { RemoteTier } from './remote.ts'; // [remote]
import type { KeyRecord } from './key.ts';

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
}

export class Store {
  readonly root: string;
  /** [remote] Optional second level (remote.ts): pulled on a local miss, pushed after a build. */
  remote?: RemoteTier;
  constructor(root: string) {
    this.root = root;
  }

  private dir(...parts: string[]) {
    return path.join(this.root, ...parts);
  }

  objectPath(hash: string): string {
    return this.dir('objects', hash.slice(0, 2), hash);
  }

  /** Write bytes atomically to `dest` (tmp file + fsync + rename). */
  writeAtomic(dest: string, bytes: string | Uint8Array): void {
    const tmpDir = this.dir('tmp');
    fs.mkdirSync(tmpDir, { recursive: true });
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    const tmp = path.join(tmpDir, `${process.pid}-${randomBytes(6).toString('hex')}`);
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, dest);
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

  /** Read a blob and check it against its name. Throws CorruptError when damaged or missing. */
  getObject(ref: ObjectRef, what: string): Uint8Array {
    const p = this.objectPath(ref.hash);
    let buf: Buffer;
    try {
      buf = fs.readFileSync(p);
    } catch {
      throw new CorruptError(`${what}: object ${ref.hash.slice(0, 12)} is missing from the cache`);
    }
    if (buf.byteLength !== ref.bytes) {
      throw new CorruptError(`${what}: object ${ref.hash.slice(0, 12)} has ${buf.byteLength} bytes, expected ${ref.bytes} (truncated?)`);
    }
    if (sha256(buf) !== ref.hash) throw new CorruptError(`${what}: object ${ref.hash.slice(0, 12)} fails its hash check (damaged)`);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Check an object without keeping it. */
  verifyObject(ref: ObjectRef, what: string): void {
    this.getObject(ref, what);
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
    let text: string;
    try {
      text = fs.readFileSync(p, 'utf8');
    } catch {
      return null;
    }
    let entry: Entry;
    try {
      entry = JSON.parse(text);
    } catch {
      throw new CorruptError(`stage ${stage}: cache entry ${key.slice(0, 12)} is not valid JSON (truncated?)`);
    }
    const { check, ...body } = entry;
    if (!check || sha256(canonicalJson(body)) !== check || entry.key !== key) {
      throw new CorruptError(`stage ${stage}: cache entry ${key.slice(0, 12)} fails its checksum (damaged)`);
    }
    return entry;
  }

  dropEntry(stage: string, key: string): void {
    fs.rmSync(this.entryPath(stage, key), { force: true });
  }

  setLatest(stage: string, key: string): void {
    this.writeAtomic(this.dir('entries', stage, 'latest'), key);
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

  /** Locks held by live processes, as "stage (pid N)". */
  liveLocks(): string[] {
    const base = this.dir('locks');
    if (!fs.existsSync(base)) return [];
    const out: string[] = [];
    for (const f of fs.readdirSync(base)) {
      if (!f.endsWith('.lock')) continue;
      try {
        const h = JSON.parse(fs.readFileSync(path.join(base, f), 'utf8'));
        process.kill(h.pid, 0);
        out.push(`${f.slice(0, -5)} (pid ${h.pid})`);
      } catch {
        /* dead or unreadable: not a live lock */
      }
    }
    return out;
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
