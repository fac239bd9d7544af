// A GET read chunk by chunk that gives up when nothing arrives for a while: the two
// downloads (enwik9's zip, the paper's weights) share it. Every failure is one error made
// by the caller's `fail(why)`: the request refused or unanswered, an HTTP status other than
// 200, no data for idleMs, or the connection cut.

export interface Stream {
  /** The body's chunks; read them once. */
  chunks: AsyncGenerator<Uint8Array>;
  /** Content-Length, or 0 when the server sent none. */
  total: number;
  /** Bytes read so far. */
  received(): number;
  /** Stop the timer and close the connection (also when the body was not read to the end). */
  close(): void;
}

/** "fetch failed: connect ECONNREFUSED 127.0.0.1:9" from undici's error and its cause. */
export function describeFetchError(e: unknown): string {
  const err = e as { message?: string; cause?: { message?: string; code?: string } };
  const cause = err.cause?.message ?? err.cause?.code;
  return cause && cause !== err.message ? `${err.message}: ${cause}` : String(err.message ?? e);
}

export async function openStream(url: string, idleMs: number, fail: (why: string) => Error): Promise<Stream> {
  const ac = new AbortController();
  let stalled = false;
  let received = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      ac.abort();
    }, idleMs);
  };
  const close = () => {
    clearTimeout(timer);
    ac.abort(); // closes the connection if it is still open
  };
  let res: Response;
  try {
    arm();
    res = await fetch(url, { signal: ac.signal, redirect: 'follow' });
  } catch (e) {
    close();
    throw fail(stalled ? `no response within ${idleMs / 1000} s` : describeFetchError(e));
  }
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel().catch(() => {});
    close();
    throw fail(`HTTP ${res.status} ${res.statusText}`.trim());
  }
  const body = res.body;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for await (const c of body) {
        received += c.length;
        arm();
        yield c;
      }
    } catch (e) {
      throw fail(stalled ? `no data for ${idleMs / 1000} s after ${received} bytes` : `the connection broke after ${received} bytes (${describeFetchError(e)})`);
    } finally {
      clearTimeout(timer);
    }
  }
  return { chunks: chunks(), total: Number(res.headers.get('content-length') ?? 0), received: () => received, close };
}
