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
import { entryObjects, type Entry, type Store } from './store.ts';

/** What a Store's `remote` offers the pipeline (see the marked lines in pipeline.ts). */
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

export type Kind = 'cas' | 'ac';

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

export interface RemoteOptions {
  /** user:pass when not in the URL (from TOTAL_INTERP_REMOTE_CACHE_AUTH, read by the CLI). */
  auth?: string;
  /** Where warnings go (one line each, without the "warning: " prefix). */
  warn?: (message: string) => void;
  /** Per-request timeout. */
  timeoutMs?: number;
}

const HEX64 = /^[0-9a-f]{64}$/;

export class RemoteError extends Error {
  readonly reason = 'usage';
}

export class RemoteCache implements RemoteTier {
  /** The base URL without credentials, for messages. */
  readonly redacted: string;
  readonly stats: RemoteStats = { hits: 0, misses: 0, rejected: 0, objectsDown: 0, bytesDown: 0, entriesUp: 0, objectsUp: 0, bytesUp: 0 };
  /** Set after the first connection failure: every call is then a local-only no-op. */
  down = false;
  private base: string;
  private authHeader: string | null;
  private secrets: string[];
  private warnFn: (m: string) => void;
  private timeoutMs: number;
  private rejectedSeen = new Set<string>();
  /** Objects found damaged on the remote: overwritten by the next push that has them. */
  private damaged = new Set<string>();
  /** Entry keys known to be on the remote (this process put or got them): no HEAD again. */
  private onRemote = new Set<string>();

  constructor(url: string, opts: RemoteOptions = {}) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new RemoteError(`--remote-cache: not a URL: ${redactText(url)}\nhint: --remote-cache http://HOST:PORT/PREFIX`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new RemoteError(`--remote-cache: only http:// and https:// are supported, got ${u.protocol}\nhint: --remote-cache http://HOST:PORT/PREFIX`);
    }
    const user = decodeURIComponent(u.username);
    const pass = decodeURIComponent(u.password);
    const auth = user || pass ? `${user}:${pass}` : opts.auth || null;
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    this.base = u.href.replace(/\/+$/, '');
    this.redacted = auth ? this.base.replace('://', '://***@') : this.base;
    const token = auth ? Buffer.from(auth).toString('base64') : null;
    this.authHeader = token ? `Basic ${token}` : null;
    this.secrets = [auth, token, auth?.slice(auth.indexOf(':') + 1)].filter((s): s is string => !!s && s.length >= 3);
    this.warnFn = opts.warn ?? ((m) => process.stderr.write(`warning: ${m}\n`));
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  /** Remove credentials from any text before it is shown. */
  scrub(text: string): string {
    let t = redactText(text);
    for (const s of this.secrets) t = t.split(s).join('***');
    return t;
  }

  /** Count and report a damaged download once (the pipeline asks again after taking its lock). */
  private reject(id: string, message: string) {
    if (this.rejectedSeen.has(id)) return;
    this.rejectedSeen.add(id);
    this.stats.rejected++;
    this.warn(message);
  }

  private warn(m: string) {
    this.warnFn(this.scrub(m));
  }

  private unreachable(what: string, detail: string) {
    if (this.down) return;
    this.down = true;
    this.warn(`remote cache ${this.redacted} unreachable (${what}: ${detail}); building locally without it`);
  }

  private async request(method: string, kind: Kind, hash: string, body?: Uint8Array): Promise<Response | null> {
    if (this.down) return null;
    if (!HEX64.test(hash)) throw new Error(`remote cache: bad ${kind} name ${JSON.stringify(hash)}`);
    const headers: Record<string, string> = {};
    if (this.authHeader) headers.authorization = this.authHeader;
    if (body) headers['content-type'] = 'application/octet-stream';
    let res: Response;
    try {
      res = await fetch(`${this.base}/${kind}/${hash}`, { method, headers, body: body as BodyInit | undefined, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      this.unreachable(`${method} ${kind}`, err.cause?.code ?? err.cause?.message ?? err.message);
      return null;
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      this.unreachable(`${method} ${kind}`, `HTTP ${res.status}, check the credentials`);
      return null;
    }
    if (res.status >= 500) {
      await res.body?.cancel();
      this.unreachable(`${method} ${kind}`, `HTTP ${res.status}`);
      return null;
    }
    return res;
  }

  /** The bytes stored under kind/hash, or null (absent, or the remote is down). */
  async get(kind: Kind, hash: string): Promise<Uint8Array | null> {
    const res = await this.request('GET', kind, hash);
    if (!res) return null;
    if (res.status !== 200) {
      await res.body?.cancel();
      return null;
    }
    try {
      return new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      this.unreachable(`GET ${kind}`, (e as Error).message);
      return null;
    }
  }

  /** Whether kind/hash is there (false when the remote is down). */
  async has(kind: Kind, hash: string): Promise<boolean> {
    const res = await this.request('HEAD', kind, hash);
    if (!res) return false;
    await res.body?.cancel();
    return res.status === 200;
  }

  /** Store bytes under kind/hash. False when it could not. */
  async put(kind: Kind, hash: string, bytes: Uint8Array): Promise<boolean> {
    const res = await this.request('PUT', kind, hash, bytes);
    if (!res) return false;
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 300) return true;
    this.warn(`remote cache ${this.redacted}: PUT ${kind}/${hash.slice(0, 12)} answered HTTP ${res.status}; not uploaded`);
    return false;
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

/** Replace user:pass@ in any URL inside `text` with ***@. */
export function redactText(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
}
