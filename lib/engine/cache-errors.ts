// What the cache's file system can refuse: a full disk, a read-only or foreign-owned
// directory. Each becomes one error naming the cache directory and one hint, instead of a
// raw `ENOSPC: no space left on device, write`.

export class CacheWriteError extends Error {
  readonly reason = 'cache-write';
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

const WHY: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
};

/** Is this an error the cache's disk or permissions caused (rather than a bug)? */
export function isCacheIoError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && code in WHY;
}

/** Turn a disk/permission error into a CacheWriteError naming the cache; others are returned as they are. */
export function cacheWriteError(e: unknown, cacheDir: string): unknown {
  if (e instanceof CacheWriteError || !isCacheIoError(e)) return e;
  const code = (e as NodeJS.ErrnoException).code!;
  const space = code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';
  return new CacheWriteError(
    `cannot write to the cache ${cacheDir}: ${WHY[code]} (${code})\n` +
      `hint: ${space ? 'free space on that disk' : 'make that directory writable'}, or use another cache directory with TOTAL_INTERP_CACHE=DIR`,
    code,
  );
}
