// The one Store a build sees. Two implement it: LocalStore (store.ts), the cache folder,
// and LayeredStore (layered.ts), the same folder with a remote cache behind it and a key
// lock shared across machines. Build, plan and gc call these methods and nothing else, so
// none of them knows whether a remote is there.

import type { Declared, Entry, ObjectRef } from './entry.ts';
import type { KeyRecord } from '../decide/key.ts';
import type { StatMemo } from './hash.ts';

/** A stage's checked result as the store takes it: tensors as their encoders, the JSON as its text too. */
export interface StoredResult {
  key: string;
  record: KeyRecord;
  codeFiles: Record<string, string>;
  json: Record<string, unknown>;
  jsonText: string;
  /** Keys of the JSON left out of the outputHash (StageDef.volatile). */
  volatile: readonly string[];
  /** Each tensor's file bytes (keep/tensor.ts), made when it is written. */
  tensors: Record<string, { encode: () => Uint8Array; dtype: string; shape: number[] }>;
  artifacts: Record<string, string | Uint8Array>;
  provenance: Entry['provenance'];
  seconds: number;
}
import type { WriteIo } from './atomic-write.ts';

export interface Store {
  /** The local cache folder (every layer reads and writes through it). */
  readonly root: string;
  /** Replaceable by tests, to play a full, read-only or foreign-owned disk. */
  io: WriteIo;
  /** Where the store's one-time notices go (the pipeline points it at its reporter). */
  warn: (message: string) => void;
  /** Each stage's declared tensors and volatile keys, to check entries read back (set by the pipeline; none: unchecked). */
  declared?: (stage: string) => (Declared & { volatile?: readonly string[] }) | undefined;

  objectPath(hash: string): string;
  writeAtomic(dest: string, bytes: string | Uint8Array): void;
  putObject(bytes: Uint8Array): ObjectRef;
  getObject(ref: ObjectRef, what: string, at?: { stage: string; key: string }): Uint8Array;
  verifyObject(ref: ObjectRef, what: string, at?: { stage: string; key: string }): void;
  verifyEntry(entry: Entry): void;
  /** Files' hashes known by their stat (objects, entries' seals, materialized artifacts): keep/objects.ts. */
  readonly memo: StatMemo;
  /** The clock `memo` judges a file settled by (tests move it on). */
  clock: () => number;
  /** Keep what this run learnt about the cache for the next (objects found intact); best effort. */
  saveMemo(): void;
  entryPath(stage: string, key: string): string;
  putEntry(entry: Entry): void;
  /** One stage's result stored: its objects, then its entry (returned). */
  put(result: StoredResult): Entry;
  getEntry(stage: string, key: string): Entry | null;
  dropEntry(stage: string, key: string): void;
  setLatest(stage: string, key: string): void;
  latestEntry(stage: string): Entry | null;
  keysOf(stage: string): string[];
  readonly locksDir: string;
  lockPath(stage: string, key: string): string;

  /** Before a lookup of (stage, key): bring it in from a further layer; true when it is now local. */
  pull(stage: string, key: string): Promise<boolean>;
  /** After a build, before its locks go: hand the entry to further layers (a waiter then finds it). Never throws. */
  push(entry: Entry): Promise<void>;
  /** Around a stage build: a lock shared with other machines, or null when there are none. */
  lockKey(stage: string, key: string, onWait: (holder: string) => void): Promise<(() => Promise<void>) | null>;
}

/** A remote cache behind the local store (remote.ts): it reads and writes the local store it is given. */
export interface RemoteTier {
  /** Fetch (stage, key), or the objects its local entry lacks, into the local store; true when it is now local. */
  pull(local: Store, stage: string, key: string): Promise<boolean>;
  /** Upload the entry's objects, then the entry. Never throws. */
  push(local: Store, entry: Entry): Promise<void>;
}

/** A lock on (stage, key) shared by every machine (lib/queue/keylock.ts, in Redis). */
export interface KeyLock {
  lock(stage: string, key: string, onWait: (holder: string) => void): Promise<() => Promise<void>>;
}
