// Fingerprints of external files (data, imported weights) for the cache key: a display name
// (the basename, or ExternalFile.display) and the content, never the path, and no dates
// wherever that is affordable. Two checkouts (or users) reading the same bytes from
// different folders get the same key.

import fs from 'node:fs';
import path from 'node:path';
import { sha256 } from './hash.ts';
import type { ExternalFile } from './types.ts';

/** A missing external file: the message names the file and how to set it. */
export class MissingFileError extends Error {
  readonly reason = 'missing-file';
}

export function fingerprint(f: ExternalFile, stage: string): string {
  return `${f.display ?? path.basename(f.path)} ${contentFingerprint(f, stage)}`;
}

/** The content part: a prefix's or the whole file's sha256 (size, mtime and first MiB above 64 MiB). */
export function contentFingerprint(f: ExternalFile, stage: string): string {
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
  if (f.maxBytes !== undefined) return `prefix:${f.maxBytes}:${sha256(readPrefix(f.maxBytes))}`;
  if (st.size <= 64 << 20) return `sha256:${sha256(fs.readFileSync(f.path))}`;
  // Large files (enwik9.zip): size, mtime and the first MiB, not 300 MB of hashing per run.
  return `stat:${st.size}:${st.mtimeMs}:${sha256(readPrefix(1 << 20))}`;
}
