// The first N bytes of enwik9 straight from the Hutter Prize site: the zip is fetched as a
// stream, fed to the same streaming zip reader as a local zip (lib/data/zip.ts), and the
// request is aborted as soon as N bytes are out, so the transfer is a few KB, not 300 MB.

import { DataError, LOCAL_COPY_HINT } from './errors.ts';
import type { OnProgress, Prefix } from './source.ts';
import { firstEntryPrefix } from './zip.ts';
import { describeFetchError, openStream } from './stream.ts';


export interface DownloadOptions {
  onProgress?: OnProgress;
  /** Give up when no response or no data arrives for this long (ms). */
  idleMs?: number;
}

export async function downloadPrefix(url: string, n: number, opts: DownloadOptions = {}): Promise<Prefix> {
  const fail = (what: string) => new DataError('network', `could not download ${url}: ${what}`, LOCAL_COPY_HINT);
  const stream = await openStream(url, opts.idleMs ?? 30_000, fail);
  try {
    const z = await firstEntryPrefix(stream.chunks, n, { label: url, onProgress: opts.onProgress });
    return { bytes: z.bytes, source: 'download', name: url, entry: z.entry, transferred: z.consumed };
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw fail(`the connection broke after ${stream.received()} bytes (${describeFetchError(e)})`);
  } finally {
    stream.close();
  }
}
