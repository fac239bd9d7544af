// What a built stage leaves in the store (Entry, ObjectRef, TensorRef), and checking an
// entry file read back: its checksum, its key and its shape, so damage is reported as a
// CorruptError and never surfaces as a TypeError or a wrong result.

import { canonicalJson, hashJson, sha256 } from './hash.ts';
import type { KeyRecord } from '../decide/key.ts';
import { EngineError } from '../errors.ts';

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

export class CorruptError extends EngineError {
  declare readonly reason: 'corrupt';
  /** The entry the damage was found through, when known: the caller drops it and recomputes. */
  stage?: string;
  key?: string;
  constructor(message: string, at?: { stage: string; key: string }) {
    super('corrupt', message);
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

/**
 * Parse and check an entry file's text for (stage, key); CorruptError if damaged, or if a
 * field is unsafe to use (entryProblem: a ref that is not hex, an artifact name outside
 * reports/<label>/, a tensor ref its file cannot hold), checksum or not: anyone who can
 * write a shared cache can also re-seal an entry. `sealed`: the seal the caller knows this
 * file carried intact (keep/objects.ts's memo), so it is not re-hashed.
 */
export function parseEntry(text: string, stage: string, key: string, declared?: Declared, sealed?: string): Entry {
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
    // `sealed`: the seal this very file (same stat) was found to carry intact before.
    sum = sealed !== undefined && check === sealed ? sealed : sha256(canonicalJson(body));
  } catch {
    sum = null;
  }
  if (!check || sum !== check || entry.key !== key) throw badEntry(stage, key, 'fails its checksum (damaged)');
  const why = entryProblem(entry, stage, declared);
  if (why) throw badEntry(stage, key, `${why} (damaged or forged)`);
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

const HEX64 = /^[0-9a-f]{64}$/;
const isRef = (r: any) => !!r && typeof r === 'object' && typeof r.hash === 'string' && HEX64.test(r.hash) && Number.isSafeInteger(r.bytes) && r.bytes >= 0;
const isMap = (m: any, each: (v: any, k: string) => boolean) => !!m && typeof m === 'object' && !Array.isArray(m) && Object.entries(m).every(([k, v]) => each(v, k));

/** Bytes per element of each dtype a tensor may have (tensor.ts encodes these and no others). */
export const DTYPE_BYTES: Record<string, number> = { float32: 4, float64: 8, int32: 4, uint32: 4, int16: 2, uint16: 2, int8: 1, uint8: 1 };
/** Most a tensor file's msgpack header adds to its data (format, dtype, shape and bin headers). */
const TENSOR_HEADER_MAX = 256;

/**
 * Why a tensor ref cannot describe a tensor file, or null: its dtype must be one tensor.ts
 * writes and its shape must account for the file's size (data plus a small header), so a
 * forged shape is refused before anything is read.
 */
export function tensorRefProblem(t: any): string | null {
  if (!isRef(t)) return 'is not an object ref (64 hex characters and a size)';
  const size = DTYPE_BYTES[t.dtype];
  if (typeof t.dtype !== 'string' || !size || !Object.hasOwn(DTYPE_BYTES, t.dtype)) return `has dtype ${JSON.stringify(t.dtype)}, not one of ${Object.keys(DTYPE_BYTES).join(', ')}`;
  if (!Array.isArray(t.shape) || t.shape.length > 8 || t.shape.some((d: unknown) => !Number.isSafeInteger(d) || (d as number) < 0)) return `has shape ${JSON.stringify(t.shape)}, not a list of at most 8 sizes`;
  const data = t.shape.reduce((a: number, b: number) => a * b, 1) * size;
  if (data > t.bytes || t.bytes > data + TENSOR_HEADER_MAX + 16 * t.shape.length) return `has shape ${JSON.stringify(t.shape)} of ${t.dtype} (${data} bytes of data), which a ${t.bytes}-byte file cannot hold`;
  return null;
}

/** Sub-folders of reports/<label>/ that artifacts may be written into. */
export const ARTIFACT_FOLDERS: readonly string[] = ['plots'];
// A file name of at most 255 bytes; `=` and `+` because report labels spell params in words
// (train-h8-sgd-e3-seed42-n1024-evalEvery=1).
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._=+-]{0,254}$/;

/**
 * Why an artifact name cannot be written under reports/, or null. An artifact is
 * `<label>/<file>` or `<label>/<folder>/<file>` with <folder> one of ARTIFACT_FOLDERS; every
 * part is a plain name (letters, digits, `.`, `_`, `-`, `=`, `+`, not starting with a dot), so no name
 * is absolute, climbs with `..`, or reaches outside reports/<label>/.
 */
export function artifactNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return 'is not a string';
  const parts = name.split('/');
  if (parts.length < 2 || parts.length > 3 || !parts.every((s) => SEGMENT.test(s))) {
    return `${JSON.stringify(name.slice(0, 300))} is not <label>/<file> of plain names (letters, digits, . _ - = +, not starting with a dot)`;
  }
  if (parts.length === 3 && !ARTIFACT_FOLDERS.includes(parts[1])) return `${JSON.stringify(name)} is in folder ${parts[1]}/, not one of ${ARTIFACT_FOLDERS.join(', ')}`;
  return null;
}

/** What the stage declares about its output: tensor names (when it lists them). */
export interface Declared {
  tensors?: readonly string[];
}

/**
 * Why a parsed entry cannot be served, or null: every field the engine reads is there with
 * its type (so damage never surfaces as a TypeError), every ref is 64 hex characters (a ref
 * names a file in the store), every tensor ref is consistent (tensorRefProblem) and, when
 * the stage lists its tensors, the entry has them (it may have more), and every artifact name stays
 * inside reports/<label>/ (artifactNameProblem).
 */
export function entryProblem(e: any, stage: string, declared?: Declared): string | null {
  if (!e || typeof e !== 'object' || Array.isArray(e)) return 'is not an entry record';
  if (typeof e.key !== 'string' || !HEX64.test(e.key)) return 'has no key of 64 hex characters';
  if (!e.record || typeof e.record !== 'object' || e.record.stage !== stage) return `does not record stage ${stage}`;
  if (!isMap(e.record.inputs ?? {}, (v) => typeof v === 'string')) return 'has a record whose inputs are not output hashes';
  if (!isMap(e.codeFiles ?? {}, (v) => typeof v === 'string')) return 'has codeFiles that are not hashes';
  const o = e.outputs;
  if (!o || typeof o !== 'object' || Array.isArray(o)) return 'has no outputs';
  if (!isRef(o.json)) return 'has a json output that is not an object ref (64 hex characters and a size)';
  if (!o.tensors || typeof o.tensors !== 'object' || Array.isArray(o.tensors)) return 'has no tensors map';
  for (const [n, t] of Object.entries(o.tensors)) {
    const why = tensorRefProblem(t);
    if (why) return `has tensor ${JSON.stringify(n.slice(0, 100))} that ${why}`;
  }
  const lacking = (declared?.tensors ?? []).filter((n) => !Object.hasOwn(o.tensors, n));
  if (lacking.length) return `has tensors [${Object.keys(o.tensors).join(',').slice(0, 200)}], without [${lacking.join(',')}] that the stage declares`;
  if (!o.artifacts || typeof o.artifacts !== 'object' || Array.isArray(o.artifacts)) return 'has no artifacts map';
  for (const [n, r] of Object.entries(o.artifacts)) {
    const why = artifactNameProblem(n);
    if (why) return `has artifact ${why}`;
    if (!isRef(r)) return `has artifact ${JSON.stringify(n)} that is not an object ref (64 hex characters and a size)`;
  }
  if (typeof e.outputHash !== 'string' || !HEX64.test(e.outputHash)) return 'has no outputHash of 64 hex characters';
  const p = e.provenance;
  if (p !== undefined && (p === null || typeof p !== 'object' || !isMap(p.files, (v) => typeof v === 'string') || !isMap(p.stage, () => true))) return 'has a provenance record that is not {files, stage}';
  return null;
}

/** Does a parsed entry have the fields the engine reads, each safe to use (entryProblem)? */
export function wellFormed(e: any, stage: string, declared?: Declared): boolean {
  return entryProblem(e, stage, declared) === null;
}

/** Hash of a stage's output: the refs of its parts, with volatile JSON keys left out (provenance is never among them). */
export function outputHashOf(json: Record<string, unknown>, volatile: readonly string[], tensors: Record<string, ObjectRef>, artifacts: Record<string, ObjectRef>): string {
  const stable: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) if (!volatile.includes(k)) stable[k] = v;
  return hashJson({
    json: canonicalJson(stable),
    tensors: Object.fromEntries(Object.entries(tensors).map(([k, r]) => [k, r.hash])),
    artifacts: Object.fromEntries(Object.entries(artifacts).map(([k, r]) => [k, r.hash])),
  });
}
