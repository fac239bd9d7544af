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
// fetches the entry and its objects, checks them (below) and writes them into the local
// store. After a build, `push` uploads the objects (HEAD first: content-addressed, so an
// object already there is not sent again) and then the entry, so a reader that sees an
// entry finds its objects.
//
// Credentials come from the URL (http://user:pass@host/…) or are passed in by the caller
// (the CLI passes them from its environment). They are sent as a Basic
// Authorization header and never appear in a message: every message names the remote by
// `redacted`, and any text that could echo them is scrubbed.
//
// An unreachable remote (connection refused, DNS, timeout, 401/403, 5xx) gives one warning;
// the remote is then switched off for the rest of the process and the build goes on locally.
// A reset connection is retried once first (remote-http.ts).
//
// What the remote sends is data, never trusted: an entry is served only if it passes every
// check a local read makes (entryProblem: refs of 64 hex characters, artifact names inside
// reports/<label>/, tensor refs their files can hold, the tensors the stage declares), its
// record hashes to the key asked for, every object matches its name and declared size (a
// download is cut off past it), every tensor file's header matches its ref, and its
// outputHash is recomputed from the objects. With an entry key (`key`, passed in by the CLI), every entry
// pushed carries `tag`, an HMAC-SHA256 under that key of the whole entry (key, record, refs,
// outputHash), and an entry without a valid tag is not served. Whatever fails is one warning
// and the stage is built locally: a remote can make a build slower, never wrong or stopped.

import { sha256 } from './hash.ts';
import type { RemoteTier, Store } from './store-api.ts';
import { MAX_ENTRY_BYTES, entryObjects, outputHashOf, type Entry } from './entry.ts';
import { HttpCache, TooLargeError, type RemoteOptions } from './remote-http.ts';
import { checkEntry, entryTag, tensorMismatch } from './remote-entry.ts';

export { checkEntry, entryTag } from './remote-entry.ts';
export { HttpCache, RemoteError, TooLargeError, redactText, type Kind, type RemoteOptions } from './remote-http.ts';

export type { RemoteTier } from './store-api.ts';

export interface RemoteStats {
  /** Entries found remotely and verified. */
  hits: number;
  /** Entries not on the remote. */
  misses: number;
  /** Remote entries or objects that failed a check (ignored). */
  rejected: number;
  /** Requests retried once after the server reset the connection. */
  retried: number;
  objectsDown: number;
  bytesDown: number;
  entriesUp: number;
  objectsUp: number;
  bytesUp: number;
}

/** The remote cache as the store's second level: pull on a local miss, push after a build. */
export class RemoteCache extends HttpCache implements RemoteTier {
  readonly stats: RemoteStats = { hits: 0, misses: 0, rejected: 0, retried: 0, objectsDown: 0, bytesDown: 0, entriesUp: 0, objectsUp: 0, bytesUp: 0 };
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

  /** The HMAC key entries are tagged and checked with (null: none). */
  private hmacKey: string | null;

  /** `key`: the HMAC key entries are tagged and checked with (the CLI passes its setting). */
  constructor(url: string, opts: RemoteOptions & { key?: string } = {}) {
    super(url, opts);
    this.hmacKey = opts.key ? opts.key : null;
    this.secrets.push(...(this.hmacKey && this.hmacKey.length >= 3 ? [this.hmacKey] : []));
  }

  async pull(store: Store, stage: string, key: string): Promise<boolean> {
    if (this.down) return false;
    const retriedBefore = this.retries;
    try {
      return await this.pullChecked(store, stage, key);
    } catch (e) {
      // Nothing a remote sends may stop a build: what slipped past the checks above is
      // still only a reason to build the stage here.
      this.reject(`pull/${stage}/${key}`, `remote cache: entry for stage ${stage} (${key.slice(0, 12)}): ${(e as Error).message}; ignored, building it`);
      return false;
    } finally {
      this.stats.retried += this.retries - retriedBefore;
    }
  }

  private async pullChecked(store: Store, stage: string, key: string): Promise<boolean> {
    // A local entry that is intact needs no download, only whatever objects it lacks; a
    // damaged one is replaced by the remote's.
    let local: Entry | null = null;
    try {
      local = store.getEntry(stage, key);
    } catch {
      local = null;
    }
    const declared = store.declared?.(stage);
    const refuse = (id: string, why: string) => {
      this.reject(id, `remote cache: entry for stage ${stage} (${key.slice(0, 12)}) ${why}; ignored, building it`);
      return false;
    };
    let entry: Entry;
    if (local) entry = local;
    else {
      let bytes: Uint8Array | null;
      try {
        bytes = await this.get('ac', key, MAX_ENTRY_BYTES);
      } catch (e) {
        if (e instanceof TooLargeError) return refuse(`ac/${key}/large`, `is too large to be an entry (${e.message})`);
        throw e;
      }
      if (!bytes) {
        if (!this.down) this.stats.misses++;
        return false;
      }
      const checked = checkEntry(bytes, stage, key, { declared, hmacKey: this.hmacKey });
      if (typeof checked === 'string') return refuse(`ac/${key}/${sha256(bytes)}`, checked);
      entry = checked;
      const total = entryObjects(entry).reduce((n, o) => n + o.ref.bytes, 0);
      if (total > this.maxBytes) return refuse(`ac/${key}/total`, `declares ${total} bytes of outputs, more than the ${this.maxBytes} allowed (the download cap)`);
    }
    const tensorRefs = new Map(Object.values(entry.outputs.tensors).map((t) => [t.hash, t]));
    for (const { ref, what } of entryObjects(entry)) {
      try {
        store.verifyObject(ref, what);
        continue; // already here and intact
      } catch {
        /* fetch it */
      }
      let obj: Uint8Array | null;
      try {
        obj = await this.get('cas', ref.hash, ref.bytes);
      } catch (e) {
        if (!(e instanceof TooLargeError)) throw e;
        this.damaged.add(ref.hash);
        return refuse(`cas/${ref.hash}/large`, `has ${what}: object ${ref.hash.slice(0, 12)} larger than its declared ${ref.bytes} bytes (refused unread)`);
      }
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
      const t = tensorRefs.get(ref.hash);
      const bad = t ? await tensorMismatch(obj, t, what) : null;
      if (bad) return refuse(`cas/${ref.hash}/tensor`, bad);
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
    // The outputHash is what downstream keys are made of: it must be these outputs' own,
    // or a re-sealed entry could pass other results off under it.
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(Buffer.from(store.getObject(entry.outputs.json, `stage ${stage}: json output`)).toString('utf8'));
    } catch (e) {
      return refuse(`ac/${key}/json`, `has a json output that does not decode (${(e as Error).message})`);
    }
    if (!json || typeof json !== 'object' || Array.isArray(json) || outputHashOf(json, declared?.volatile ?? [], entry.outputs.tensors, entry.outputs.artifacts) !== entry.outputHash) {
      return refuse(`ac/${key}/outputHash`, 'has an outputHash that is not its outputs\' (re-sealed with other outputs?)');
    }
    const { tag: _tag, ...stored } = entry as Entry & { tag?: string };
    store.putEntry(stored);
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
    const text = Buffer.from(JSON.stringify(this.hmacKey ? { ...local, tag: entryTag(this.hmacKey, local) } : local));
    if (await this.put('ac', entry.key, text)) {
      this.onRemote.add(entry.key);
      this.stats.entriesUp++;
      this.stats.bytesUp += text.byteLength;
    }
  }
}
