// The one atomic writer: a tmp file, every write's count checked, fsync (unless the caller
// says the file is checked when read, see Store.putObject), rename into place;
// on any error the tmp file is removed. Into the cache (writeAtomic) the tmp file is staged
// in <cache>/tmp/ and disk or permission errors become one error naming the cache
// (errors.ts); elsewhere (writeFileAtomic: reports/, a sweep's aggregate) it sits beside the
// destination, so the rename never crosses file systems. The file-system calls are
// injectable (WriteIo), so tests can play a full, read-only or foreign-owned disk.

import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { cacheWriteError } from '../errors.ts';

/** The file-system calls a write makes: injectable, so tests can play a full or read-only disk. */
export interface WriteIo {
  mkdirSync: typeof fs.mkdirSync;
  openSync: typeof fs.openSync;
  writeSync: (fd: number, buf: Uint8Array, offset: number, length: number) => number;
  fsyncSync: typeof fs.fsyncSync;
  closeSync: typeof fs.closeSync;
  renameSync: typeof fs.renameSync;
  rmSync: typeof fs.rmSync;
}

export const realIo: WriteIo = {
  mkdirSync: fs.mkdirSync,
  openSync: fs.openSync,
  writeSync: (fd, buf, offset, length) => fs.writeSync(fd, buf, offset, length),
  fsyncSync: fs.fsyncSync,
  closeSync: fs.closeSync,
  renameSync: fs.renameSync,
  rmSync: fs.rmSync,
};

/**
 * Write bytes atomically to `dest` through `io`, staging in `<cacheRoot>/tmp/`. On any
 * error the tmp file is removed; disk and permission errors become a CacheWriteError
 * naming `cacheRoot`.
 */
export function writeAtomic(io: WriteIo, cacheRoot: string, dest: string, bytes: string | Uint8Array, durable = true): void {
  try {
    writeThrough(io, path.join(cacheRoot, 'tmp'), `${process.pid}-${randomBytes(6).toString('hex')}`, dest, bytes, durable);
  } catch (e) {
    throw cacheWriteError(e, cacheRoot);
  }
}

/** Write bytes atomically to a file outside the cache (its folder is made); errors are the file system's own. */
export function writeFileAtomic(dest: string, bytes: string | Uint8Array, io: WriteIo = realIo): void {
  writeThrough(io, path.dirname(dest), `.${path.basename(dest)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`, dest, bytes);
}

/** `durable` false: no fsync, for a file a crash may lose or leave empty and whose reader finds that out (still renamed whole into place). */
function writeThrough(io: WriteIo, tmpDir: string, tmpName: string, dest: string, bytes: string | Uint8Array, durable = true): void {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  let tmp: string | null = null;
  let fd = -1;
  try {
    io.mkdirSync(tmpDir, { recursive: true });
    io.mkdirSync(path.dirname(dest), { recursive: true });
    tmp = path.join(tmpDir, tmpName);
    fd = io.openSync(tmp, 'w');
    for (let off = 0; off < buf.byteLength; ) {
      const n = io.writeSync(fd, buf, off, buf.byteLength - off);
      if (!(n > 0)) throw Object.assign(new Error(`short write to ${tmp}: ${off} of ${buf.byteLength} bytes`), { code: 'ENOSPC' });
      off += n;
    }
    if (durable) io.fsyncSync(fd);
    const f = fd;
    fd = -1;
    io.closeSync(f);
    io.renameSync(tmp, dest);
    tmp = null;
  } catch (e) {
    if (fd >= 0) {
      try {
        io.closeSync(fd);
      } catch {}
    }
    if (tmp !== null) {
      try {
        io.rmSync(tmp, { force: true });
      } catch {}
    }
    throw e;
  }
}
