// The first N bytes of enwik9 straight from the Hutter Prize site: the zip is fetched as a
// stream, fed to the same streaming zip reader as a local zip (lib/data/zip.ts), and the
// request is aborted as soon as N bytes are out, so the transfer is a few KB, not 300 MB.

import { DataError, LOCAL_COPY_HINT } from './errors.ts';
import type { OnProgress, Prefix } from './source.ts';
import { firstEntryPrefix } from './zip.ts';

/** The official enwik9 archive, as linked from http://prize.hutter1.net/. */
export const ENWIK9_URL = 'http://mattmahoney.net/dc/enwik9.zip';

export interface DownloadOptions {
  onProgress?: OnProgress;
  /** Give up when no response or no data arrives for this long (ms). */
  idleMs?: number;
}

/** "fetch failed: connect ECONNREFUSED 127.0.0.1:9" from undici's error and its cause. */
function describe(e: unknown): string {
  const err = e as { message?: string; cause?: { message?: string; code?: string } };
  const cause = err.cause?.message ?? err.cause?.code;
  return cause && cause !== err.message ? `${err.message}: ${cause}` : String(err.message ?? e);
}

export async function downloadPrefix(url: string, n: number, opts: DownloadOptions = {}): Promise<Prefix> {
  const idleMs = opts.idleMs ?? 30_000;
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
  const fail = (what: string) => new DataError('network', `could not download ${url}: ${what}`, LOCAL_COPY_HINT);
  const stallMsg = () => `no data for ${idleMs / 1000} s after ${received} bytes`;
  try {
    arm();
    let res: Response;
    try {
      res = await fetch(url, { signal: ac.signal });
    } catch (e) {
      throw fail(stalled ? `no response within ${idleMs / 1000} s` : describe(e));
    }
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel().catch(() => {});
      throw fail(`HTTP ${res.status} ${res.statusText}`.trim());
    }
    const body = res.body;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for await (const c of body) {
        received += c.length;
        arm();
        yield c;
      }
    }
    try {
      const z = await firstEntryPrefix(chunks(), n, { label: url, onProgress: opts.onProgress });
      return { bytes: z.bytes, source: 'download', name: url, entry: z.entry, transferred: z.consumed };
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw fail(stalled ? stallMsg() : `the connection broke after ${received} bytes (${describe(e)})`);
    }
  } finally {
    clearTimeout(timer);
    ac.abort(); // closes the connection if it is still open
  }
}
