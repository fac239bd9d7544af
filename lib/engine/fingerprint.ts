// Fingerprints of external files (data, imported weights) for the cache key: a display name
// (the basename, or ExternalFile.display) and the content, never the path, and no dates
// wherever that is affordable. Two checkouts (or users) reading the same bytes from
// different folders get the same key.

import fs from 'node:fs';
import path from 'node:path';
import { sha256, sha256File } from './hash.ts';
import type { ExternalFile } from './types.ts';

/** A missing external file: the message names the file and how to set it. */
export class MissingFileError extends Error {
  readonly reason = 'missing-file';
}

/**
 * Content fingerprints already made in one build or plan (see Pipeline.fingerprints): a
 * file several stages declare (the vega bundles) is hashed once. Keyed by the path and
 * the file's identity (device, inode, size, mtime, ctime), so a file replaced or written
 * meanwhile is hashed again. Never kept across builds: a rewrite within one clock tick
 * keeps mtime and ctime, and a later build must see it.
 */
export type FingerprintMemo = Map<string, string>;

export function fingerprint(f: ExternalFile, stage: string, memo?: FingerprintMemo): string {
  return `${f.display ?? path.basename(f.path)} ${contentFingerprint(f, stage, memo)}`;
}

/** The content part: a prefix's or the whole file's sha256 (size, mtime and first MiB above 64 MiB). */
export function contentFingerprint(f: ExternalFile, stage: string, memo?: FingerprintMemo): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(f.path);
  } catch {
    throw new MissingFileError(`stage ${stage}: ${f.name} file not found: ${f.path}` + (f.hint ? `\nhint: ${f.hint}` : ''));
  }
  if (!st.isFile()) throw new MissingFileError(`stage ${stage}: ${f.name} is not a file: ${f.path}` + (f.hint ? `\nhint: ${f.hint}` : ''));
  const readPrefix = (n: number) => {
    const fd = fs.openSync(f.path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(n, st.size));
      let got = 0;
      while (got < buf.length) {
        const r = fs.readSync(fd, buf, got, buf.length - got, got);
        if (r === 0) break;
        got += r;
      }
      return buf.subarray(0, got);
    } finally {
      fs.closeSync(fd);
    }
  };
  const id = memo && `${f.path}\0${f.maxBytes ?? ''}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  const known = id && memo.get(id);
  if (known) return known;
  let fp: string;
  if (f.maxBytes !== undefined) fp = `prefix:${f.maxBytes}:${sha256(readPrefix(f.maxBytes))}`;
  else if (st.size <= 64 << 20) fp = `sha256:${sha256File(f.path)}`;
  // Large files (enwik9.zip): size, mtime and the first MiB, not 300 MB of hashing per run.
  else fp = `stat:${st.size}:${st.mtimeMs}:${sha256(readPrefix(1 << 20))}`;
  if (id) memo.set(id, fp);
  return fp;
}
