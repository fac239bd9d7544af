// What a built stage leaves in the store (Entry, ObjectRef, TensorRef), and checking an
// entry file read back: its checksum, its key and its shape, so damage is reported as a
// CorruptError and never surfaces as a TypeError or a wrong result.

import { canonicalJson, sha256 } from './hash.ts';
import type { KeyRecord } from './key.ts';

/** Entries are small JSON records; a larger file is damage, not an entry. */
export const MAX_ENTRY_BYTES = 16 << 20;

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
  /** Content hash of the output (volatile JSON keys and provenance excluded); what downstream keys use. */
  outputHash: string;
  /**
   * Where the inputs of the run that built it came from, never hashed into outputHash: the
   * labels of its external files (`files`, by external name) and what the stage said
   * (`stage`, StageResult.provenance). A later build reading the same bytes under another
   * name reuses the entry and its provenance.
   */
  provenance?: Provenance;
  seconds: number;
  builtAt: string;
  /** sha256 of the canonical entry without this field: detects a damaged entry file. */
  check?: string;
}

export interface Provenance {
  files: Record<string, string>;
  stage: Record<string, unknown>;
}

// The key record is documented, versioned and built in key.ts.
export type { KeyRecord };

export class CorruptError extends Error {
  readonly reason = 'corrupt';
  /** The entry the damage was found through, when known: the caller drops it and recomputes. */
  stage?: string;
  key?: string;
  constructor(message: string, at?: { stage: string; key: string }) {
    super(message);
    if (at) {
      this.stage = at.stage;
      this.key = at.key;
    }
  }
}

/** The CorruptError for a damaged entry file of (stage, key). */
export function badEntry(stage: string, key: string, why: string): CorruptError {
  return new CorruptError(`stage ${stage}: cache entry ${key.slice(0, 12)} ${why}`, { stage, key });
}

/** The entry with its `check` field (sha256 of the canonical entry without it) filled in. */
export function sealEntry(entry: Entry): Entry {
  const { check: _drop, ...body } = entry;
  return { ...body, check: sha256(canonicalJson(body)) };
}

/** Parse and check an entry file's text for (stage, key); CorruptError if damaged. */
export function parseEntry(text: string, stage: string, key: string): Entry {
  let entry: Entry;
  try {
    entry = JSON.parse(text);
  } catch {
    throw badEntry(stage, key, 'is not valid JSON (truncated or damaged)');
  }
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw badEntry(stage, key, 'is not an entry record (damaged)');
  const { check, ...body } = entry;
  let sum: string | null = null;
  try {
    sum = sha256(canonicalJson(body));
  } catch {
    sum = null;
  }
  if (!check || sum !== check || entry.key !== key) throw badEntry(stage, key, 'fails its checksum (damaged)');
  if (!wellFormed(entry, stage)) throw badEntry(stage, key, 'does not have the shape of an entry (damaged)');
  return entry;
}

/** The refs of every object an entry points at, with a label for messages. */
export function entryObjects(e: Entry): { ref: ObjectRef; what: string }[] {
  const s = e.record.stage;
  const out: { ref: ObjectRef; what: string }[] = [{ ref: e.outputs.json, what: `stage ${s}: json output` }];
  for (const [n, r] of Object.entries(e.outputs.tensors)) out.push({ ref: r, what: `stage ${s}: tensor ${n}` });
  for (const [n, r] of Object.entries(e.outputs.artifacts)) out.push({ ref: r, what: `stage ${s}: artifact ${n}` });
  return out;
}

const isRef = (r: any) => r && typeof r === 'object' && typeof r.hash === 'string' && /^[0-9a-f]{64}$/.test(r.hash) && Number.isInteger(r.bytes) && r.bytes >= 0;
const isMap = (m: any, each: (v: any) => boolean) => m && typeof m === 'object' && !Array.isArray(m) && Object.values(m).every(each);

/** Does a parsed entry have the fields the engine reads (so damage never surfaces as a TypeError)? */
export function wellFormed(e: any, stage: string): boolean {
  return (
    typeof e.key === 'string' &&
    e.record && typeof e.record === 'object' && e.record.stage === stage &&
    isMap(e.codeFiles ?? {}, (v) => typeof v === 'string') &&
    e.outputs && typeof e.outputs === 'object' &&
    isRef(e.outputs.json) &&
    isMap(e.outputs.tensors, (t) => isRef(t) && typeof t.dtype === 'string' && Array.isArray(t.shape)) &&
    isMap(e.outputs.artifacts, isRef) &&
    typeof e.outputHash === 'string' &&
    (e.provenance === undefined || (e.provenance !== null && typeof e.provenance === 'object' && isMap(e.provenance.files, (v) => typeof v === 'string') && isMap(e.provenance.stage, () => true)))
  );
}
