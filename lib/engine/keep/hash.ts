// Hashing and canonical JSON: the two primitives every cache key is made of.

import { createHash } from 'node:crypto';
import fs from 'node:fs';

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

// One buffer for every file hashed by sha256Fd: a no-op run checks every cached object
// (megabytes), and a fresh buffer per file made that cost twice the hashing in
// allocation, page faults and garbage collection.
let chunk: Buffer | null = null;

/**
 * The sha256 of the first `size` bytes of an open file, read in chunks through one reused
 * buffer; `read` is less than `size` when the file ended first.
 */
export function sha256Fd(fd: number, size: number): { hash: string; read: number } {
  chunk ??= Buffer.allocUnsafe(1 << 20);
  const h = createHash('sha256');
  let read = 0;
  while (read < size) {
    const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, size - read), read);
    if (n <= 0) break;
    h.update(chunk.subarray(0, n));
    read += n;
  }
  return { hash: h.digest('hex'), read };
}

/**
 * A file as the disk last saw it: size, modification and change times (ns), device and inode, as
 * one string. Remembering a file's hash under it (the code hashes, objects verified) lets a
 * later run skip re-reading an unchanged file, and is safe because:
 * - every write to a file moves its ctime to the time of that write, and no call sets a
 *   ctime back (touch -d, tar and rsync -t set an mtime, never a ctime); a file replaced by
 *   a rename has another inode;
 * - a hash is remembered only for a file whose mtime and ctime were at least SETTLED_MS
 *   before it was read (settled): a later write then gets a time at least that much past
 *   the remembered one, which differs on any file system whose clock ticks at most every
 *   2 s (FAT's does; ext4, APFS and tmpfs tick in ns), so it can never look unchanged.
 *   A file written within the last SETTLED_MS is re-hashed on every run until it settles.
 * Not caught (as by git's index, which trusts the same fields): bytes changed under the file
 * system (a raw device write, bit rot), and a file server whose clock runs behind this
 * machine's by more than SETTLED_MS. An object read for use is always re-hashed.
 */
export function statKey(st: fs.BigIntStats): string {
  return `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.dev}:${st.ino}`;
}

export const SETTLED_MS = 2000;

/** Whether a hash of a file with this stat, read no earlier than `readAtMs` (the clock read before the stat), may be remembered under statKey. */
export function settled(st: fs.BigIntStats, readAtMs: number): boolean {
  const last = st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs;
  return BigInt(Math.floor(readAtMs)) * 1_000_000n - last >= BigInt(SETTLED_MS) * 1_000_000n;
}

/**
 * Files' hashes known by their stat (statKey), kept as JSON by their owner: name -> [statKey,
 * sha256]. A hash is remembered only for a settled file (written at least SETTLED_MS before
 * `readAtMs`, the clock read before the stat); at most `max`, the most recently set last.
 */
export class StatMemo {
  private map = new Map<string, [string, string]>();
  dirty = false;
  constructor(
    json: unknown = null,
    private readonly max = 4096,
  ) {
    for (const [name, v] of Object.entries(json && typeof json === 'object' ? json : {})) {
      if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && /^[0-9a-f]{64}$/.test(v[1])) this.map.set(name, [v[0], v[1]]);
    }
  }
  /** The hash remembered for `name` if its stat is still `st`. */
  get(name: string, st: fs.BigIntStats): string | undefined {
    const k = this.map.get(name);
    return k && k[0] === statKey(st) ? k[1] : undefined;
  }
  /** Remember a hash just computed (or forget the name, when the file has not settled). */
  set(name: string, st: fs.BigIntStats, hash: string, readAtMs: number): void {
    const had = this.map.get(name);
    if (!settled(st, readAtMs)) {
      if (this.map.delete(name)) this.dirty = true;
    } else if (!had || had[0] !== statKey(st) || had[1] !== hash) {
      this.map.delete(name);
      this.map.set(name, [statKey(st), hash]);
      this.dirty = true;
    }
  }
  forget(name: string): void {
    if (this.map.delete(name)) this.dirty = true;
  }
  toJSON(): Record<string, [string, string]> {
    return Object.fromEntries([...this.map].slice(-this.max));
  }
}

/** The sha256 of a whole file (see sha256Fd); throws as fs.openSync does. */
export function sha256File(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    return sha256Fd(fd, fs.fstatSync(fd).size).hash;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Canonical JSON: object keys sorted at every level, no whitespace, so equal values
 * always give equal text. Non-finite numbers and undefined are errors here rather than
 * silently becoming null (a key must never hide a NaN param).
 */
export function canonicalJson(value: unknown, path = '$'): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`canonicalJson: non-finite number at ${path}: ${value}`);
      return JSON.stringify(value);
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return '[' + value.map((v, i) => canonicalJson(v, `${path}[${i}]`)).join(',') + ']';
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
      return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(obj[k], `${path}.${k}`)).join(',') + '}';
    }
    default:
      throw new Error(`canonicalJson: cannot encode ${typeof value} at ${path}`);
  }
}

export function hashJson(value: unknown): string {
  return sha256(canonicalJson(value));
}
