// Errors of the `data` stage, tagged by a `reason` so that callers and tests can tell
// them apart without parsing messages. Every message ends with a line `hint: ...`.

export type DataErrorReason =
  | 'missing' // the source file does not exist (or vanished)
  | 'short' // the source (or the zip's first entry) has fewer than N bytes
  | 'corrupt' // not a zip we can read, or its deflate data is damaged
  | 'network' // DNS, refused, HTTP status, connection cut or stalled
  | 'mismatch'; // a prefix whose sha256 we know (lib/data/known.ts) came out different

export class DataError extends Error {
  readonly reason: DataErrorReason;
  /** For 'short': how many bytes the source has. */
  has?: number;
  constructor(reason: DataErrorReason, what: string, hint: string) {
    super(`${what}\nhint: ${hint}`);
    this.name = 'DataError';
    this.reason = reason;
  }
}

/** What to do when the download fails: use a local copy instead. */
export const LOCAL_COPY_HINT =
  'download http://mattmahoney.net/dc/enwik9.zip (or enwik9) yourself and point at the local copy: ENWIK9=FILE or --set data.path=FILE (any prefix of enwik9 at least data.bytes long works); data.bytes <= 1024 needs no download';

export const SHORT_HINT =
  'lower --set data.bytes=N, or point ENWIK9 / data.path at a longer prefix of enwik9 (or enwik9 itself)';

export function shortError(what: string, has: number, n: number): DataError {
  const e = new DataError('short', `${what} has ${has} bytes, fewer than the ${n} requested (data.bytes = ${n})`, SHORT_HINT);
  e.has = has;
  return e;
}
