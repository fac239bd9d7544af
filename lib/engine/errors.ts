// Every error the engine raises on purpose carries a `reason` from one closed union, so a
// caller (the CLI) can switch on it exhaustively and pick an exit code and a hint. An error
// without one of these reasons is a bug.

export type EngineReason =
  /** The caller asked for something that does not exist or does not fit (exit 2). */
  | 'usage'
  | 'unknown-stage'
  | 'unknown-tensor'
  | 'param'
  /** A stage file does not export a stage declaration. */
  | 'bad-stage'
  /** The stage graph is invalid (duplicates, unknown inputs, a cycle). */
  | 'duplicate'
  | 'unknown-input'
  | 'cycle'
  /** A declared external file is missing. */
  | 'missing-file'
  /** A stage's run threw. */
  | 'stage-failed'
  /** Another process holds a lock that the operation cannot wait for. */
  | 'busy'
  /** Waited for another process's lock longer than the limit. */
  | 'lock-timeout'
  /** The cache's disk refused a write (full, read-only, not ours). */
  | 'cache-write'
  /** A stage's output is not in the cache (and the caller asked not to build it). */
  | 'not-built'
  /** A cache object or entry failed its hash check. */
  | 'corrupt'
  /** The scheduler reached a state it should never reach. */
  | 'internal';

/**
 * The one error shape: a reason, a message, and a hint as its own field (what to do about
 * it; never a line of the message). The engine's, the queue's and the CLI's errors are all
 * one, each with its own union of reasons.
 */
export class ReasonedError<R extends string = string> extends Error {
  readonly reason: R;
  readonly hint?: string;
  constructor(reason: R, message: string, hint?: string) {
    super(message);
    this.reason = reason;
    if (hint !== undefined) this.hint = hint;
  }
}

/**
 * Every error the engine raises on purpose (ParamError, GraphError, MissingFileError,
 * LockTimeoutError, CorruptError, CacheWriteError and RemoteError only name their reason).
 */
export class EngineError extends ReasonedError<EngineReason> {}

/**
 * Text written outside the engine (a stage's error, a data reader's) follows the project's
 * convention of a last line "hint: …": split into message and hint once, where such an
 * error enters the engine (a stage's run or prepare, and the CLI for what reaches it directly).
 */
export function splitHint(text: string, hint?: string): { message: string; hint?: string } {
  if (hint !== undefined) return { message: text, hint };
  const m = /\nhint: ([^\n]*)$/.exec(text);
  return m ? { message: text.slice(0, m.index), hint: m[1] } : { message: text };
}

const REASONS: ReadonlySet<string> = new Set<EngineReason>([
  'usage', 'unknown-stage', 'unknown-tensor', 'param', 'bad-stage', 'duplicate', 'unknown-input', 'cycle',
  'missing-file', 'stage-failed', 'busy', 'lock-timeout', 'cache-write', 'not-built', 'corrupt', 'internal',
]);

/** The engine reason of an error (ParamError, GraphError, MissingFileError and EngineError all carry one), or null. */
export function reasonOf(e: unknown): EngineReason | null {
  const r = (e as { reason?: unknown } | null)?.reason;
  return typeof r === 'string' && REASONS.has(r) ? (r as EngineReason) : null;
}

// ---- the cache's disk ----
// What the cache's file system can refuse: a full disk, a read-only or foreign-owned
// directory. Each becomes one error naming the cache directory and one hint, instead of a
// raw `ENOSPC: no space left on device, write`.

export class CacheWriteError extends EngineError {
  declare readonly reason: 'cache-write';
  readonly code: string;
  constructor(message: string, code: string, hint?: string) {
    super('cache-write', message, hint);
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
  // The caller says how to choose another cache directory (the CLI: TOTAL_INTERP_CACHE).
  return new CacheWriteError(`cannot write to the cache ${cacheDir}: ${WHY[code]} (${code})`, code, `${space ? 'free space on that disk' : 'make that directory writable'}, or use another cache directory`);
}
