// The HTTP side of the remote cache (remote.ts): the Bazel HTTP cache protocol's three
// verbs on /cas/<sha256> and /ac/<key>, with credentials kept out of every message and a
// remote that fails to answer switched off after one warning.

export type Kind = 'cas' | 'ac';

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

export class HttpCache {
  /** The base URL without credentials, for messages. */
  readonly redacted: string;
  /** Set after the first connection failure: every call is then a local-only no-op. */
  down = false;
  private base: string;
  private authHeader: string | null;
  private secrets: string[];
  protected warnFn: (m: string) => void;
  private timeoutMs: number;

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

  protected warn(m: string) {
    this.warnFn(this.scrub(m));
  }

  protected unreachable(what: string, detail: string) {
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
}

/** Replace user:pass@ in any URL inside `text` with ***@. */
export function redactText(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
}
