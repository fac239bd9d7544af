// The project's inputs by name and place, and which local file a run reads: what the data
// and model stages' declarations ask at every pipeline run (their externals and env), so
// this file imports nothing of ours and reads at most a file's first four bytes. The
// readers are elsewhere, imported when a stage runs: embedded.ts (the shipped 1024 bytes),
// source.ts and zip.ts (a local file or zip), download.ts, paper-weights.ts.

import { openSync, readSync, closeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** How many bytes of enwik9 ship with the project (data/, with its attribution in data/README.md). */
export const EMBEDDED_BYTES = 1024;

/** The embedded file's name, as shown in outputs and reports. */
export const EMBEDDED_NAME = 'enwik9-head-1024.txt';

/** Where the embedded file is (inside the project; never shown or keyed as a path). */
export const EMBEDDED_PATH = fileURLToPath(new URL(`../../data/${EMBEDDED_NAME}`, import.meta.url));

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
