// Where the `data` stage's bytes come from: a local file, named by the
// param data.path or else the env var ENWIK9, that is either plain text (enwik9, enwik8,
// or any prefix of them) or a zip of it. Only the first N bytes are ever read: a plain
// file by one positioned read, a zip by stream-inflating its first entry until N bytes are
// out (lib/data/zip.ts). Without a local file the stage downloads (lib/data/download.ts).

import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { DataError, shortError } from './errors.ts';
import { SOURCE_HINT, isZipMagic } from './inputs.ts';
import { firstEntryPrefix } from './zip.ts';

export type SourceKind = 'embedded' | 'file' | 'zip' | 'download';

export interface Prefix {
  /** The first N bytes. */
  bytes: Uint8Array;
  source: SourceKind;
  /** The file's basename, or the URL. */
  name: string;
  /** The zip entry the bytes came from; null for a plain file. */
  entry: string | null;
  /** Bytes read from the file or the network (less than the file for a zip). */
  transferred: number;
}

/** (bytes out so far, bytes read from the file or network). */
export type OnProgress = (out: number, transferred: number) => void;

/** Printable preview: ASCII 0x20..0x7e as is, every other byte as '.'. */
export function preview(bytes: Uint8Array, max = 60): string {
  let s = '';
  for (let i = 0; i < Math.min(max, bytes.length); i++) {
    const b = bytes[i];
    s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
  }
  return s;
}

/** The first `n` bytes of a plain file, or of the first entry of a zip file. */
export async function readPrefix(file: string, n: number, onProgress?: OnProgress): Promise<Prefix> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new DataError('missing', `source file ${file} does not exist`, SOURCE_HINT);
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new DataError('missing', `source ${file} is not a regular file`, SOURCE_HINT);
    const name = path.basename(file);
    const magic = new Uint8Array(4);
    await fh.read(magic, 0, 4, 0);
    if (isZipMagic(magic) || /\.zip$/i.test(file)) {
      // The zip reader stops the stream (and so the reads) once n bytes are out.
      const stream = fh.createReadStream({ start: 0, highWaterMark: 64 * 1024, autoClose: false });
      const z = await firstEntryPrefix(stream, n, { label: file, onProgress });
      return { bytes: z.bytes, source: 'zip', name, entry: z.entry, transferred: z.consumed };
    }
    if (st.size < n) throw shortError(file, st.size, n);
    const bytes = new Uint8Array(n);
    const step = 16 << 20;
    for (let have = 0; have < n; ) {
      const { bytesRead } = await fh.read(bytes, have, Math.min(step, n - have), have);
      if (bytesRead === 0) throw shortError(file, have, n); // truncated while we read
      have += bytesRead;
      onProgress?.(have, have);
    }
    return { bytes, source: 'file', name, entry: null, transferred: n };
  } finally {
    await fh.close();
  }
}
