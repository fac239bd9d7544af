// The first N bytes of a zip archive's first entry, read from a stream of the archive's
// bytes (a file or an HTTP body) and stopping as soon as N bytes have come out: the rest
// of the entry is never inflated and the rest of the archive is never read.
//
// Only the first local file header is needed (PKWARE APPNOTE.TXT §4.3.7), little-endian:
//   offset size field
//        0    4 signature 0x04034b50 ("PK\3\4")
//        4    2 version needed to extract
//        6    2 general-purpose flags (bit 0: encrypted; bit 3: CRC and sizes follow the data)
//        8    2 compression method (0 stored, 8 deflate)
//       10    4 modification time and date
//       14    4 CRC-32 of the uncompressed data
//       18    4 compressed size      (0xffffffff: in the zip64 extra field)
//       22    4 uncompressed size    (0xffffffff: in the zip64 extra field)
//       26    2 file name length n
//       28    2 extra field length m
//       30    n file name, then m bytes of extra fields (id 0x0001: zip64 sizes)
// The entry's data follows at 30 + n + m. The central directory at the end of the archive
// is never read (a streamed download has not got there).

import zlib from 'node:zlib';
import { DataError, shortError } from './errors.ts';

const SIG_LOCAL = 0x04034b50; // "PK\3\4"
const SIG_END = 0x06054b50; // "PK\5\6": end of central directory, i.e. an empty archive
const HEADER = 30;

export interface LocalHeader {
  name: string;
  flags: number;
  method: number;
  crc32: number;
  /** null when the header does not say (flag bit 3: sizes follow the data). */
  compressedSize: number | null;
  uncompressedSize: number | null;
  /** Offset of the entry's data from the start of the header. */
  dataOffset: number;
}

export interface EntryPrefix {
  /** The first N bytes of the first entry. */
  bytes: Uint8Array;
  /** The first entry's file name. */
  entry: string;
  /** Archive bytes pulled from the source when we stopped (for tests and progress). */
  consumed: number;
}

export interface PrefixOptions {
  /** The archive as named in messages: a path or a URL. */
  label: string;
  /** Called as bytes come out: (bytes out so far, archive bytes consumed). */
  onProgress?: (out: number, consumed: number) => void;
}

function corrupt(label: string, what: string): DataError {
  return new DataError(
    'corrupt',
    `${label} is not a zip archive we can read: ${what}`,
    'check the file (unzip -t FILE), download it again, or point ENWIK9 / data.path at the unzipped enwik9',
  );
}

/**
 * Parses the local header at the start of `b`. Returns null while `b` is too short to hold
 * all of it (the caller reads more); throws DataError('corrupt') if it is not one.
 */
export function parseLocalHeader(b: Uint8Array, label: string): LocalHeader | null {
  if (b.length < 4) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const sig = dv.getUint32(0, true);
  if (sig === SIG_END) throw corrupt(label, 'the archive has no entries');
  if (sig !== SIG_LOCAL) {
    const hex = Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
    throw corrupt(label, `it starts with bytes ${hex}, not a local file header (50 4b 03 04, "PK\\3\\4")`);
  }
  if (b.length < HEADER) return null;
  const nameLen = dv.getUint16(26, true);
  const extraLen = dv.getUint16(28, true);
  const dataOffset = HEADER + nameLen + extraLen;
  if (b.length < dataOffset) return null;
  const flags = dv.getUint16(6, true);
  const sizesFollow = (flags & 8) !== 0;
  let compressedSize: number | null = sizesFollow ? null : dv.getUint32(18, true);
  let uncompressedSize: number | null = sizesFollow ? null : dv.getUint32(22, true);
  // zip64: a 0xffffffff size is in extra field 0x0001 (uncompressed first, then compressed).
  for (let o = HEADER + nameLen; o + 4 <= dataOffset; ) {
    const id = dv.getUint16(o, true);
    const len = dv.getUint16(o + 2, true);
    if (id === 0x0001) {
      let p = o + 4;
      const u64 = () => {
        if (p + 8 > o + 4 + len) throw corrupt(label, 'its zip64 extra field is too short');
        const v = Number(dv.getBigUint64(p, true));
        p += 8;
        return v;
      };
      if (uncompressedSize === 0xffffffff) uncompressedSize = u64();
      if (compressedSize === 0xffffffff) compressedSize = u64();
    }
    o += 4 + len;
  }
  return {
    name: new TextDecoder().decode(b.subarray(HEADER, HEADER + nameLen)),
    flags,
    method: dv.getUint16(8, true),
    crc32: dv.getUint32(14, true),
    compressedSize,
    uncompressedSize,
    dataOffset,
  };
}

/**
 * The first `n` bytes of the first entry of the zip archive streamed by `source`.
 * Stops pulling from `source` as soon as they are out and closes it (`return()` on its
 * iterator: a file stream is destroyed, an HTTP body cancelled). Errors from `source`
 * itself propagate unchanged; problems with the archive are DataErrors.
 */
export async function firstEntryPrefix(
  source: AsyncIterable<Uint8Array>,
  n: number,
  opts: PrefixOptions,
): Promise<EntryPrefix> {
  const { label } = opts;
  const it = source[Symbol.asyncIterator]();
  let consumed = 0;
  const pull = async (): Promise<Uint8Array | null> => {
    const r = await it.next();
    if (r.done) return null;
    consumed += r.value.length;
    return r.value;
  };
  try {
    // 1. The local header (usually within the first chunk).
    let head: Uint8Array = new Uint8Array(0);
    let h: LocalHeader | null;
    while (!(h = parseLocalHeader(head, label))) {
      const c = await pull();
      if (!c) throw corrupt(label, `it ends after ${head.length} bytes, inside the first local file header`);
      const joined = new Uint8Array(head.length + c.length);
      joined.set(head);
      joined.set(c, head.length);
      head = joined;
    }
    const what = `the first entry "${h.name}"`;
    if (h.flags & 1) throw corrupt(label, `${what} is encrypted`);
    if (h.method !== 0 && h.method !== 8) throw corrupt(label, `${what} uses compression method ${h.method} (only 0 stored and 8 deflate are supported)`);
    if (h.method === 0 && h.compressedSize === null) throw corrupt(label, `${what} is stored without a size in its header`);
    if (h.uncompressedSize !== null && h.uncompressedSize < n) throw shortError(`${what} of ${label}`, h.uncompressedSize, n);

    // 2. The entry's data, cut at its compressed size when the header gives it.
    let pending: Uint8Array | null = head.subarray(h.dataOffset);
    let left = h.compressedSize ?? Infinity;
    const next = async (): Promise<Uint8Array | null> => {
      if (left <= 0) return null;
      let c: Uint8Array | null = pending;
      pending = null;
      if (!c || c.length === 0) c = await pull();
      if (!c) return null;
      if (c.length > left) c = c.subarray(0, left);
      left -= c.length;
      return c;
    };
    const out = new Uint8Array(n);
    const progress = (have: number) => opts.onProgress?.(have, consumed);
    const have = h.method === 0 ? await copyStored(out, next, progress) : await inflateInto(out, next, progress, label, what);
    if (have < n) {
      if (h.method === 0 && left > 0) throw corrupt(label, `it ends after ${consumed} bytes, in the middle of ${what}`);
      throw shortError(`${what} of ${label}`, have, n);
    }
    // The whole entry came out: its CRC-32 can be checked.
    if (h.uncompressedSize === n && (h.flags & 8) === 0 && zlib.crc32(out) !== h.crc32) {
      throw corrupt(label, `${what} fails its CRC-32 check`);
    }
    return { bytes: out, entry: h.name, consumed };
  } finally {
    await it.return?.();
  }
}

/** Copies a stored (uncompressed) entry into `out` until it is full or the entry ends. */
async function copyStored(
  out: Uint8Array,
  next: () => Promise<Uint8Array | null>,
  progress: (have: number) => void,
): Promise<number> {
  let have = 0;
  while (have < out.length) {
    const c = await next();
    if (!c) break;
    const k = Math.min(c.length, out.length - have);
    out.set(c.subarray(0, k), have);
    have += k;
    progress(have);
  }
  return have;
}

/**
 * Stream-inflates raw deflate data into `out` until it is full or the deflate stream
 * ends; returns the number of bytes written. Bytes after the end of the deflate stream
 * (data descriptor, central directory) are ignored by zlib.
 */
async function inflateInto(
  out: Uint8Array,
  next: () => Promise<Uint8Array | null>,
  progress: (have: number) => void,
  label: string,
  what: string,
): Promise<number> {
  const n = out.length;
  const inflate = zlib.createInflateRaw();
  let have = 0;
  let ended = false;
  let failure: Error | null = null;
  inflate.on('data', (b: Buffer) => {
    const k = Math.min(b.length, n - have);
    out.set(b.subarray(0, k), have);
    have += k;
  });
  const done = new Promise<void>((resolve) => {
    inflate.once('end', () => {
      ended = true;
      resolve();
    });
    inflate.once('error', (e) => {
      failure = e;
      resolve();
    });
  });
  try {
    while (have < n && !ended && !failure) {
      const c = await next();
      if (!c) {
        inflate.end();
        await done;
        break;
      }
      await Promise.race([new Promise<void>((resolve) => inflate.write(c, () => resolve())), done]);
      progress(have);
    }
    if (failure !== null && have < n) {
      const msg = (failure as Error).message;
      if (/unexpected end/i.test(msg)) throw corrupt(label, `its data ends in the middle of ${what} (${have} bytes inflated)`);
      throw corrupt(label, `the deflate data of ${what} is damaged (${msg}) after ${have} bytes`);
    }
    return have;
  } finally {
    inflate.destroy();
  }
}
