// The project's inputs by name and place, and which local file a run reads: what the data
// and model stages' declarations ask at every pipeline run (their externals and env), so
// this file imports nothing of ours and reads at most a file's first four bytes. The
// readers are elsewhere, imported when a stage runs: embedded.ts (the shipped 1024 bytes),
// source.ts and zip.ts (a local file or zip), download.ts, paper-weights.ts.

import { openSync, readSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** How many bytes of enwik9 ship with the project (data/, with its attribution in data/README.md). */
export const EMBEDDED_BYTES = 1024;

/** The embedded file's name, as shown in outputs and reports. */
export const EMBEDDED_NAME = 'enwik9-head-1024.txt';

/** Where the embedded file is (inside the project; never shown or keyed as a path). */
export const EMBEDDED_PATH = fileURLToPath(new URL(`../../data/${EMBEDDED_NAME}`, import.meta.url));

/**
 * enwik9's first 2048 bytes also ship with the project (data/enwik9-head-2048.txt): the
 * training KiB and the KiB after it, so that the default held-out text (the N bytes after
 * an N ≤ 1024 prefix) needs no network.
 */
export const EMBEDDED_HELDOUT_BYTES = 2048;
export const EMBEDDED_HELDOUT_NAME = 'enwik9-head-2048.txt';
export const EMBEDDED_HELDOUT_PATH = fileURLToPath(new URL(`../../data/${EMBEDDED_HELDOUT_NAME}`, import.meta.url));

/** How to set the source; shared by the engine's missing-file check and the data errors. */
export const SOURCE_HINT =
  'set --set data.path=FILE or ENWIK9=FILE (enwik9, enwik8, a prefix of them, or enwik9.zip), or leave both unset: data.bytes <= 1024 reads the copy shipped in data/';

/** The local source: the param data.path, else the env var ENWIK9, else null (embedded or download). */
export function localSource(dataPath: string | null | undefined, env: Record<string, string | undefined>): string | null {
  if (dataPath) return path.resolve(dataPath);
  if (env.ENWIK9) return path.resolve(env.ENWIK9);
  return null;
}

/** Does `b` start with a zip local file header signature (PK\3\4)? */
export function isZipMagic(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 3 && b[3] === 4;
}

/**
 * Is `file` a zip? By its extension or, failing that, by its first four bytes. False when
 * it cannot be read (the engine's existence check then reports it).
 */
export function looksLikeZip(file: string): boolean {
  if (/\.zip$/i.test(file)) return true;
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const b = new Uint8Array(4);
    return readSync(fd, b, 0, 4, 0) === 4 && isZipMagic(b);
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export const PAPER_WEIGHTS_FILE = 'sat_model.bin';
/** inimino/hutter commit 74ddb51 (the file is byte-identical in 86fbef8, efbaac3 and f808449). */
export const PAPER_WEIGHTS_COMMIT = '74ddb51992a8c24544dc27796e9c7b4a86781f5b';
export const PAPER_WEIGHTS_URL = `https://raw.githubusercontent.com/inimino/hutter/${PAPER_WEIGHTS_COMMIT}/${PAPER_WEIGHTS_FILE}`;
/** sat_model.bin from the authors' repository (inimino/hutter, commit 74ddb51). */
export const PAPER_WEIGHTS_SHA256 = '239036a0c2319f6835f56ee54bbc3ae8d19a10ab1224c26c77a3f66e59d2b68b';
/** How imported paper weights are named in provenance and reports, wherever the file lives. */
export const PAPER_WEIGHTS_NAME = `paper:${PAPER_WEIGHTS_FILE}`;

/**
 * Environment variables paper-weights.ts reads. They say where the file is, never what it
 * holds (the pinned sha256 does), so they stay out of cache keys.
 */
export const PAPER_WEIGHTS_ENV = [
  'TOTAL_INTERP_PAPER_WEIGHTS', // a local copy
  'TOTAL_INTERP_DOWNLOADS', // the download folder
  'XDG_CACHE_HOME',
  'HOME',
  'TOTAL_INTERP_PAPER_WEIGHTS_URL', // another URL to fetch from (tests serve it on loopback)
] as const;

/**
 * A held-out block the params ask for that cannot be had: it overlaps the training prefix,
 * or the source is too short for it. A usage error (the CLI exits 2), raised before
 * anything runs. The message ends with a `hint:` line.
 */
export class HeldoutError extends Error {
  readonly reason = 'usage';
}

export interface HeldoutRange {
  /** First held-out byte (an offset into enwik9). */
  offset: number;
  /** Held-out length in bytes (0: no held-out text). */
  bytes: number;
  /** How many bytes of the source a run reads: the training prefix and the held-out block. */
  need: number;
  /**
   * Whether the user pinned the block (data.heldoutOffset or data.heldoutBytes set): a pinned
   * block the source cannot hold is an error; the default block (the N bytes after the
   * prefix) shrinks to what the source has after the prefix, down to none, so any text file
   * of at least N bytes works as data.
   */
  pinned: boolean;
}

const HELDOUT_HINT =
  'leave data.heldoutOffset and data.heldoutBytes null (the N bytes after the training prefix), set data.heldoutOffset >= data.bytes, or --set data.heldoutBytes=0 for no held-out text';

/**
 * The held-out block for training size `n`: by default bytes [n, 2n) of enwik9; `offset`
 * and `bytes` (null = n) pin another block (e.g. one fixed block for every size). It must
 * not overlap the training prefix [0, n) and must hold at least one prediction (2 bytes),
 * unless it is empty.
 */
export function heldoutRange(n: number, offset: number | null | undefined, bytes: number | null | undefined): HeldoutRange {
  const off = offset ?? n;
  const len = bytes ?? n;
  const pinned = offset != null || bytes != null;
  if (len === 0) return { offset: off, bytes: 0, need: n, pinned };
  if (len < 2) throw new HeldoutError(`data.heldoutBytes = ${len}: a held-out text needs at least 2 bytes (one prediction)\nhint: ${HELDOUT_HINT}`);
  if (off < n) {
    throw new HeldoutError(
      `the held-out block [${off}, ${off + len}) overlaps the training prefix [0, ${n}) (data.heldoutOffset = ${offset ?? 'null'}, data.bytes = ${n})\nhint: ${HELDOUT_HINT}`,
    );
  }
  return { offset: off, bytes: len, need: off + len, pinned };
}

/** A plain file's size, or null when it is not a readable regular file. */
export function fileSize(file: string): number | null {
  try {
    const st = statSync(file);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

/** The default held-out block cut to a source of `has` bytes: what follows the prefix, or none under 2 bytes. */
export function heldoutWithin(r: HeldoutRange, n: number, has: number): HeldoutRange {
  if (r.pinned || has >= r.need) return r;
  return has - n >= 2 ? { offset: n, bytes: has - n, need: has, pinned: false } : { offset: n, bytes: 0, need: n, pinned: false };
}

/**
 * For a plain local file that holds the training prefix: a usage error when it is too short
 * for the held-out block after it. Says nothing about a file shorter than the prefix (the
 * reader reports it, as it always has), a zip (its inflated length is known only by reading
 * it) or a file that cannot be read (the engine reports it missing).
 */
export function checkSourceLength(file: string, n: number, r: HeldoutRange): void {
  if (r.bytes === 0 || !r.pinned || looksLikeZip(file)) return;
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return;
    size = st.size;
  } catch {
    return;
  }
  if (size < n || size >= r.need) return;
  throw heldoutShort(path.basename(file), size, n, r);
}

/** The error for a source with the training prefix but not all of the held-out block. */
export function heldoutShort(name: string, size: number, n: number, r: HeldoutRange): HeldoutError {
  return new HeldoutError(
    `source ${name} has ${size} bytes: the training prefix [0, ${n}) but not all of the held-out block [${r.offset}, ${r.need})\nhint: point ENWIK9 / data.path at a longer prefix of enwik9 (or enwik9 itself), pin another block with data.heldoutOffset / data.heldoutBytes, or --set data.heldoutBytes=0 for no held-out text`,
  );
}
