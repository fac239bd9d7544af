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
