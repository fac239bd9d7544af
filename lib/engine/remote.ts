// A second cache level over HTTP, in the protocol of Bazel's HTTP remote caches:
//
//   GET/PUT/HEAD <base>/cas/<sha256>   an object, named by the sha256 of its bytes
//   GET/PUT      <base>/ac/<key>       a stage entry (the JSON of store.ts's Entry), by cache key
//
// Any server that speaks it works: bazel-remote (with --disable_http_ac_validation, since
// our entries are not Bazel ActionResults), or nginx with WebDAV (`dav_methods PUT;
// create_full_put_path on;`). We write no server of our own.
//
// The local store stays the first level. On a local miss the pipeline asks `pull`, which
// fetches the entry and its objects, checks them exactly as a local read does (the entry's
// own check hash, the record hashing to the key, every object's sha256 and size), and
// writes them into the local store; what fails a check is ignored (a warning) and the stage
// is built. After a build, `push` uploads the objects (HEAD first: content-addressed, so
// an object already there is not sent again) and then the entry, so a reader that sees an
// entry finds its objects.
//
// Credentials come from the URL (http://user:pass@host/…) or are passed in by the caller
// (the CLI reads TOTAL_INTERP_REMOTE_CACHE_AUTH=user:pass). They are sent as a Basic
// Authorization header and never appear in a message: every message names the remote by
// `redacted`, and any text that could echo them is scrubbed.
//
// An unreachable remote (connection refused, DNS, timeout, 401/403, 5xx) gives one warning;
// the remote is then switched off for the rest of the process and the build goes on locally.

import { canonicalJson, hashJson, sha256 } from './hash.ts';
import type { Store } from './store.ts';
import { entryObjects, type Entry } from './entry.ts';
import { HttpCache } from './remote-http.ts';

export { HttpCache, RemoteError, redactText, type Kind, type RemoteOptions } from './remote-http.ts';

/** What a Store's `remote` offers the pipeline (see the lines marked [remote] in build.ts). */
export interface RemoteTier {
  /** Before a local read: fetch (stage, key), or the objects its local entry lacks, into the local store. True when it is now local. */
  pull(store: Store, stage: string, key: string): Promise<boolean>;
  /** After a build: upload the entry's objects, then the entry. Never throws. */
  push(store: Store, entry: Entry): Promise<void>;
  /**
   * Optional cross-machine lock around a stage build (the Redis key lock of lib/queue):
   * resolves with a release function once held; `onWait` is told who holds it.
   */
  lock?(stage: string, key: string, onWait: (holder: string) => void): Promise<() => Promise<void>>;
}

export interface RemoteStats {
  /** Entries found remotely and verified. */
  hits: number;
  /** Entries not on the remote. */
  misses: number;
  /** Remote entries or objects that failed a check (ignored). */
  rejected: number;
  objectsDown: number;
  bytesDown: number;
  entriesUp: number;
  objectsUp: number;
  bytesUp: number;
}

/** The remote cache as the store's second level: pull on a local miss, push after a build. */
export class RemoteCache extends HttpCache implements RemoteTier {
  readonly stats: RemoteStats = { hits: 0, misses: 0, rejected: 0, objectsDown: 0, bytesDown: 0, entriesUp: 0, objectsUp: 0, bytesUp: 0 };
  private rejectedSeen = new Set<string>();
  /** Objects found damaged on the remote: overwritten by the next push that has them. */
  private damaged = new Set<string>();
  /** Entry keys known to be on the remote (this process put or got them): no HEAD again. */
  private onRemote = new Set<string>();

  /** Count and report a damaged download once (the pipeline asks again after taking its lock). */
  private reject(id: string, message: string) {
    if (this.rejectedSeen.has(id)) return;
    this.rejectedSeen.add(id);
    this.stats.rejected++;
    this.warn(message);
  }

  async pull(store: Store, stage: string, key: string): Promise<boolean> {
    if (this.down) return false;
    // A local entry that is intact needs no download, only whatever objects it lacks; a
    // damaged one is replaced by the remote's.
    let local: Entry | null = null;
    try {
      local = store.getEntry(stage, key);
    } catch {
      local = null;
    }
    let entry: Entry;
    if (local) entry = local;
    else {
      const bytes = await this.get('ac', key);
      if (!bytes) {
        if (!this.down) this.stats.misses++;
        return false;
      }
      const checked = checkEntry(bytes, stage, key);
      if (typeof checked === 'string') {
        this.reject(`ac/${key}/${sha256(bytes)}`, `remote cache: entry for stage ${stage} (${key.slice(0, 12)}) ${checked}; ignored, building it`);
        return false;
      }
      entry = checked;
    }
    for (const { ref, what } of entryObjects(entry)) {
      try {
        store.verifyObject(ref, what);
        continue; // already here and intact
      } catch {
        /* fetch it */
      }
      const obj = await this.get('cas', ref.hash);
      if (!obj) {
        if (!this.down) {
          this.stats.rejected++;
          this.warn(`remote cache: ${what}: object ${ref.hash.slice(0, 12)} is missing from the remote; building stage ${stage}`);
        }
        return false;
      }
      const got = sha256(obj);
      if (obj.byteLength !== ref.bytes || got !== ref.hash) {
        this.damaged.add(ref.hash);
        this.reject(`cas/${ref.hash}/${got}`, `remote cache: ${what}: object ${ref.hash.slice(0, 12)} fails its hash check (damaged on the remote); building stage ${stage}`);
        return false;
      }
      store.putObject(obj);
      this.stats.objectsDown++;
      this.stats.bytesDown += obj.byteLength;
    }
    if (local) {
      // Built here before (or without) the remote: share it now.
      if (!this.onRemote.has(key)) {
        if (await this.has('ac', key)) this.onRemote.add(key);
        else await this.push(store, local);
      }
      return true;
    }
    store.putEntry(entry);
    this.onRemote.add(key);
    this.stats.hits++;
    return true;
  }

  async push(store: Store, entry: Entry): Promise<void> {
    if (this.down) return;
    try {
      await this.pushUnchecked(store, entry);
    } catch (e) {
      // A local object damaged since it was written: nothing is uploaded; the local
      // cache reports and rebuilds it on its next read.
      this.warn(`remote cache: not uploading stage ${entry.record.stage}: ${(e as Error).message}`);
    }
  }

  private async pushUnchecked(store: Store, entry: Entry): Promise<void> {
    for (const { ref, what } of entryObjects(entry)) {
      // HEAD says only that a file is there: one this process found damaged is sent again.
      if (!this.damaged.has(ref.hash) && (await this.has('cas', ref.hash))) continue;
      if (this.down) return;
      const bytes = store.getObject(ref, what);
      if (!(await this.put('cas', ref.hash, bytes))) return; // never an entry without its objects
      this.damaged.delete(ref.hash);
      this.stats.objectsUp++;
      this.stats.bytesUp += bytes.byteLength;
    }
    const local = store.getEntry(entry.record.stage, entry.key);
    if (!local) return;
    const text = Buffer.from(JSON.stringify(local));
    if (await this.put('ac', entry.key, text)) {
      this.onRemote.add(entry.key);
      this.stats.entriesUp++;
      this.stats.bytesUp += text.byteLength;
    }
  }
}

/**
 * Parse and check a remote entry the way Store.getEntry checks a local one, and more: the
 * record must hash to the key it was asked for. An Entry, or why it was rejected.
 */
export function checkEntry(bytes: Uint8Array, stage: string, key: string): Entry | string {
  let entry: Entry;
  try {
    entry = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return 'is not valid JSON';
  }
  if (!entry || typeof entry !== 'object' || !entry.record || !entry.outputs) return 'is not a cache entry';
  const { check, ...body } = entry;
  if (!check || sha256(canonicalJson(body)) !== check) return 'fails its checksum (damaged)';
  if (entry.key !== key || hashJson(entry.record) !== key) return 'does not belong to this key';
  if (entry.record.stage !== stage) return `belongs to stage ${entry.record.stage}`;
  return entry;
}
