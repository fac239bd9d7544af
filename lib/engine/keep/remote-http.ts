// The HTTP side of the remote cache (remote.ts): the Bazel HTTP cache protocol's three
// verbs on /cas/<sha256> and /ac/<key>, with credentials kept out of every message and a
// remote that fails to answer switched off after one warning.
//
// A connection the server closed under us (undici's UND_ERR_SOCKET, ECONNRESET, EPIPE: a
// keep-alive that ran out while a long stage built) is retried once on a new connection
// before the remote counts as unreachable. A download is read as a stream and given up as
// soon as it exceeds what the caller expects (an object's declared size, an entry's 16 MiB)
// or the hard cap (maxBytes, default 8 GiB), so a huge or endless body
// is never held in memory; and when no data arrives for `timeoutMs`, or, after that long,
// it averages less than MIN_RATE (64 KiB/s: a server trickling bytes holds a build up too).

import { EngineError } from '../errors.ts';

export type Kind = 'cas' | 'ac';

export interface RemoteOptions {
  /** user:pass when not in the URL (the CLI reads it from its environment). */
  auth?: string;
  /** Where warnings go (one line each, without the "warning: " prefix). */
  warn?: (message: string) => void;
  /** Give up a request when no data has come for this long (default 60 s). */
  timeoutMs?: number;
  /** The most any one download may be (default 8 GiB; the CLI passes its setting). */
  maxBytes?: number;
}

/** The hard cap on one download when the caller sets none. */
export const DEFAULT_MAX_BYTES = 8 * 2 ** 30;

/** The slowest average rate a download may keep up after its first timeoutMs (bytes per second). */
export const MIN_RATE = 64 << 10;

/** A download that was larger than allowed: refused after reading at most the limit. */
export class TooLargeError extends Error {}

/** Errors that mean the server closed a connection we meant to reuse: worth one retry. */
const RESET = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED']);
function resetCode(e: unknown): string | null {
  for (let c: any = e, i = 0; c && i < 4; c = c.cause, i++) if (typeof c.code === 'string' && RESET.has(c.code)) return c.code;
  return null;
}

const HEX64 = /^[0-9a-f]{64}$/;

export class RemoteError extends EngineError {
  declare readonly reason: 'usage';
  /** What is wrong, for the caller to word (the CLI names its flag and variables: lib/cli/errors.ts). */
  readonly what: 'url' | 'max-bytes';
  constructor(what: 'url' | 'max-bytes', message: string, hint?: string) {
    super('usage', message, hint);
    this.what = what;
  }
}

export class HttpCache {
  /** The base URL without credentials, for messages. */
  readonly redacted: string;
  /** Set after the first connection failure: every call is then a local-only no-op. */
  down = false;
  private base: string;
  private authHeader: string | null;
  protected secrets: string[];
  protected warnFn: (m: string) => void;
  private timeoutMs: number;
  readonly maxBytes: number;
  /** Requests retried after a reset connection (for tests and the reliability bench). */
  retries = 0;

  constructor(url: string, opts: RemoteOptions = {}) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new RemoteError('url', `remote cache: not a URL: ${redactText(url)}`, 'a URL such as http://HOST:PORT/PREFIX');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new RemoteError('url', `remote cache: only http:// and https:// are supported, got ${u.protocol}`, 'a URL such as http://HOST:PORT/PREFIX');
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
    if (opts.maxBytes !== undefined && !(Number.isSafeInteger(opts.maxBytes) && opts.maxBytes >= 1)) throw new RemoteError('max-bytes', `the download cap must be a positive number of bytes, got ${opts.maxBytes}`);
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  /** Remove credentials from any text before it is shown. */
  scrub(text: string): string {
    let t = redactText(text);
    for (const s of this.secrets) t = t.split(s).join('***');
    return t;
  }

  protected warn(m: string) {
    this.warnFn(this.scrub(m));
  }

  protected unreachable(what: string, detail: string) {
    if (this.down) return;
    this.down = true;
    this.warn(`remote cache ${this.redacted} unreachable (${what}: ${detail}); building locally without it`);
  }

  /**
   * One request; `read` consumes the response (its body at most once). A reset connection
   * is retried once; then, like a refused one, a timeout, 401/403 or 5xx, it switches the
   * remote off (null). The idle timer runs until `read` is done: a body that stops coming is
   * given up too.
   */
  private async request<T>(method: string, kind: Kind, hash: string, body: Uint8Array | undefined, read: (res: Response, alive: () => void) => Promise<T>): Promise<T | null> {
    if (this.down) return null;
    if (!HEX64.test(hash)) throw new Error(`remote cache: bad ${kind} name ${JSON.stringify(hash)}`);
    const headers: Record<string, string> = {};
    if (this.authHeader) headers.authorization = this.authHeader;
    if (body) headers['content-type'] = 'application/octet-stream';
    for (let attempt = 0; ; attempt++) {
      const ac = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const alive = () => {
        clearTimeout(timer);
        timer = setTimeout(() => ac.abort(new Error(`no answer for ${this.timeoutMs / 1000} s`)), this.timeoutMs);
      };
      alive();
      try {
        const res = await fetch(`${this.base}/${kind}/${hash}`, { method, headers, body: body as BodyInit | undefined, signal: ac.signal });
        if (res.status === 401 || res.status === 403 || res.status >= 500) {
          await res.body?.cancel().catch(() => {});
          this.unreachable(`${method} ${kind}`, res.status < 500 ? `HTTP ${res.status}, check the credentials` : `HTTP ${res.status}`);
          return null;
        }
        return await read(res, alive);
      } catch (e) {
        if (e instanceof TooLargeError) throw e;
        const code = resetCode(e);
        if (code && attempt === 0) {
          this.retries++;
          continue; // the server closed an idle keep-alive connection: once more, on a new one
        }
        const err = e as Error & { cause?: { code?: string; message?: string } };
        const detail = ac.signal.aborted ? String((ac.signal.reason as Error)?.message ?? 'timed out') : (code ?? err.cause?.code ?? err.cause?.message ?? err.message);
        this.unreachable(`${method} ${kind}`, detail);
        return null;
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /**
   * The bytes stored under kind/hash, or null (absent, or the remote is down). TooLargeError
   * when the body is longer than `limit` (default and at most: maxBytes), found from its
   * Content-Length or while reading, never after holding more than `limit` bytes.
   */
  async get(kind: Kind, hash: string, limit = this.maxBytes): Promise<Uint8Array | null> {
    const max = Math.min(limit, this.maxBytes);
    const what = `${kind}/${hash.slice(0, 12)}`;
    const got = await this.request('GET', kind, hash, undefined, async (res, alive) => {
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => {});
        return 'absent' as const;
      }
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (declared > max) {
        await res.body?.cancel().catch(() => {});
        throw new TooLargeError(`${what} is ${declared} bytes, more than the ${max} expected`);
      }
      const parts: Uint8Array[] = [];
      let n = 0;
      const reader = res.body!.getReader();
      const t0 = performance.now();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        alive();
        n += value.byteLength;
        // A body that keeps trickling never trips the idle timer: past timeoutMs it must
        // average MIN_RATE, or it is given up like a stalled one.
        if (performance.now() - t0 > this.timeoutMs + (n / MIN_RATE) * 1000) {
          await reader.cancel().catch(() => {});
          throw new Error(`${what} came slower than ${MIN_RATE >> 10} KiB/s`);
        }
        if (n > max) {
          await reader.cancel().catch(() => {});
          throw new TooLargeError(`${what} is more than the ${max} bytes expected`);
        }
        parts.push(value);
      }
      const out = new Uint8Array(n);
      let off = 0;
      for (const p of parts) {
        out.set(p, off);
        off += p.byteLength;
      }
      return out;
    });
    return got === null || got === 'absent' ? null : got;
  }

  /** Whether kind/hash is there (false when the remote is down). */
  async has(kind: Kind, hash: string): Promise<boolean> {
    const status = await this.request('HEAD', kind, hash, undefined, async (res) => {
      await res.body?.cancel().catch(() => {});
      return res.status;
    });
    return status === 200;
  }

  /** Store bytes under kind/hash. False when it could not. */
  async put(kind: Kind, hash: string, bytes: Uint8Array): Promise<boolean> {
    const status = await this.request('PUT', kind, hash, bytes, async (res) => {
      await res.body?.cancel().catch(() => {});
      return res.status;
    });
    if (status === null) return false;
    if (status >= 200 && status < 300) return true;
    this.warn(`remote cache ${this.redacted}: PUT ${kind}/${hash.slice(0, 12)} answered HTTP ${status}; not uploaded`);
    return false;
  }
}

/** Replace user:pass@ in any URL inside `text` with ***@. */
export function redactText(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
}
