// The cache key: the sha256 of a small record (KeyRecord). This file is the one place
// that documents the record, versions it and builds it.
//
// Each field is there because a change to it must invalidate the stage. Upstream
// *outputs* (content hashes), not upstream keys, enter the record: a re-run that produces
// identical output stops invalidation there (early cutoff).

import fs from 'node:fs';
import path from 'node:path';
import { hashJson, sha256, sha256File } from '../keep/hash.ts';
import type { ExternalFile, StageDef } from '../types.ts';
import { EngineError } from '../errors.ts';

/**
 * Engine format version: bump it when the way outputs are stored or keys are made
 * changes, so that no entry written the old way is ever served.
 */
export const ENGINE_VERSION = 2;

export interface KeyRecord {
  /** Engine format version: a change in how outputs are stored or keys are made. */
  engine: number;
  /** Stage name: two stages with the same code and params must not share results. */
  stage: string;
  /** Hash of the stage file, every project module it imports (transitively) and its schemas: the code that computes the result. */
  code: string;
  /** Resolved params (defaults filled in): the stage's declared knobs; a param that names a file enters as its keyParams form (no folder, no name). */
  params: unknown;
  /** Upstream output content hashes (not keys; provenance left out): what the stage reads; equal content means early cutoff. */
  inputs: Record<string, string>;
  /** Content fingerprints of declared external files (data, imported weights), never their names: content from outside the project. */
  externals: Record<string, string>;
  /** Values of declared environment variables: anything else the stage reads from outside. */
  env: Record<string, string | null>;
  /** Non-default params of every stage, for a stage that declares `overrides`: it reads them. */
  overrides?: Record<string, Record<string, unknown>>;
}

/** Everything a key is made from, as the plan has gathered it for one stage. */
export interface KeyInputs {
  def: StageDef;
  code: { files: Record<string, string>; hash: string };
  params: Record<string, unknown>;
  /** Upstream entries (only their outputHash enters). */
  upstream: Record<string, { outputHash: string }>;
  externals: Record<string, ExternalFile>;
  env: Record<string, string | undefined>;
  /** Non-default params of the whole pipeline; used only when def.overrides. */
  overrides: Record<string, Record<string, unknown>>;
  /** Fingerprints made earlier in this build (not part of the key: see FingerprintMemo). */
  fingerprints?: FingerprintMemo;
}

/** A stage's record and key, with what the runner needs to build it. */
export interface Keyed {
  record: KeyRecord;
  key: string;
  codeFiles: Record<string, string>;
  externals: Record<string, ExternalFile>;
  /** Each external file's label (externalLabel), for the provenance of what is built from it. */
  labels: Record<string, string>;
  overrides: Record<string, Record<string, unknown>>;
}

/** The one function that makes a key record (and so a key). */
export function makeKey(k: KeyInputs): Keyed {
  const name = k.def.name;
  const overrides = k.def.overrides ? k.overrides : {};
  const record: KeyRecord = {
    engine: ENGINE_VERSION,
    stage: name,
    code: k.code.hash,
    params: k.def.keyParams ? k.def.keyParams(k.params as any) : k.params,
    inputs: Object.fromEntries(Object.entries(k.upstream).map(([u, e]) => [u, e.outputHash])),
    externals: Object.fromEntries(Object.entries(k.externals).map(([x, f]) => [x, fingerprint(f, name, k.fingerprints)])),
    env: Object.fromEntries(Object.entries(k.env).map(([x, v]) => [x, v ?? null])),
    ...(k.def.overrides ? { overrides } : {}),
  };
  const labels = Object.fromEntries(Object.entries(k.externals).map(([x, f]) => [x, externalLabel(f)]));
  return { record, key: hashJson(record), codeFiles: k.code.files, externals: k.externals, labels, overrides };
}

// Fingerprints of external files (data, imported weights) for the cache key: the content
// alone, never the path nor the name, and no dates wherever that is affordable. Two
// checkouts (or users) reading the same bytes from different folders, under different
// names, get the same key. The name is a label (externalLabel): it goes into the
// provenance of what is built from the file.

/** A missing external file: the message names the file and how to set it. */
export class MissingFileError extends EngineError {
  declare readonly reason: 'missing-file';
  constructor(message: string, hint?: string) {
    super('missing-file', message, hint);
  }
}

/**
 * Content fingerprints already made in one build or plan (see Pipeline.fingerprints): a
 * file several stages declare (the vega bundles) is hashed once. Keyed by the path and
 * the file's identity (device, inode, size, mtime, ctime), so a file replaced or written
 * meanwhile is hashed again. Never kept across builds: a rewrite within one clock tick
 * keeps mtime and ctime, and a later build must see it.
 */
export type FingerprintMemo = Map<string, string>;

/** What an external file is called in provenance and messages: its display name, else its basename. */
export function externalLabel(f: ExternalFile): string {
  return f.display ?? path.basename(f.path);
}

/**
 * What enters the key for an external file: a prefix's or the whole file's sha256 (size,
 * mtime and first MiB above 64 MiB), or the sha256 pinned in code. A pinned hash and a
 * file of those bytes (up to 64 MiB) give the same string.
 */
export function fingerprint(f: ExternalFile, stage: string, memo?: FingerprintMemo): string {
  if (f.sha256 !== undefined) return `sha256:${f.sha256}`;
  return contentFingerprint(f, stage, memo);
}

/** The fingerprint of the file's bytes as found on disk (fingerprint without a pinned hash). */
export function contentFingerprint(f: ExternalFile, stage: string, memo?: FingerprintMemo): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(f.path);
  } catch {
    throw new MissingFileError(`stage ${stage}: ${f.name} file not found: ${f.path}`, f.hint);
  }
  if (!st.isFile()) throw new MissingFileError(`stage ${stage}: ${f.name} is not a file: ${f.path}`, f.hint);
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

/**
 * When a cached entry was built from the same bytes under other names than this build
 * gives them (ENWIK9 vs the embedded copy, "paper" vs a renamed copy of the weights): the
 * words for it, else null. The entry's outputs, and so its provenance, are the other run's.
 */
export function otherNames(entry: { provenance?: { files: Record<string, string> } }, keyed: Keyed): string | null {
  const was = entry.provenance?.files ?? {};
  const diff = Object.entries(keyed.externals)
    .map(([n, f]) => [n, externalLabel(f), was[n]] as const)
    .filter(([, now, then]) => then !== undefined && then !== now);
  return diff.length ? `built from identical bytes named ${diff.map(([n, now, then]) => `${then}; here ${n} is ${now}`).join(', ')}` : null;
}
