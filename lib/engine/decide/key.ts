// The cache key: the sha256 of a small record (KeyRecord). This file is the one place
// that documents the record, versions it and builds it.
//
// Each field is there because a change to it must invalidate the stage. Upstream
// *outputs* (content hashes), not upstream keys, enter the record: a re-run that produces
// identical output stops invalidation there (early cutoff).

import { hashJson } from '../keep/hash.ts';
import { fingerprint, type FingerprintMemo } from './fingerprint.ts';
import type { ExternalFile, StageDef } from '../types.ts';

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
  return { record, key: hashJson(record), codeFiles: k.code.files, externals: k.externals, overrides };
}
