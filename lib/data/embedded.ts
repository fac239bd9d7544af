// The first 1024 bytes of enwik9 ship with the project (data/enwik9-head-1024.txt, with its
// attribution in data/README.md): the paper's data, so the default pipeline needs neither
// a network nor a copy of enwik9. Its first 2048 bytes ship too (data/enwik9-head-2048.txt):
// the default held-out text of an N <= 1024 prefix is the N bytes after it. Each file is
// checked against its known sha256 on every read.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DataError } from './errors.ts';
import { ENWIK9_PREFIX_SHA256 } from './known.ts';
import { EMBEDDED_BYTES, EMBEDDED_HELDOUT_BYTES, EMBEDDED_HELDOUT_NAME, EMBEDDED_HELDOUT_PATH, EMBEDDED_NAME, EMBEDDED_PATH } from './inputs.ts';

/** The first `n` (≤ 1024) embedded bytes, after checking the whole file's sha256. */
export function readEmbedded(n: number, file = EMBEDDED_PATH): Uint8Array {
  if (n > EMBEDDED_BYTES) throw new RangeError(`the embedded data has ${EMBEDDED_BYTES} bytes, ${n} requested`);
  return readChecked(file, EMBEDDED_NAME, EMBEDDED_BYTES).subarray(0, n);
}

/** Bytes [offset, offset + n) of the embedded 2048-byte head of enwik9, after checking its sha256. */
export function readEmbeddedRange(offset: number, n: number, file = EMBEDDED_HELDOUT_PATH): Uint8Array {
  if (offset < 0 || offset + n > EMBEDDED_HELDOUT_BYTES) {
    throw new RangeError(`the embedded data has ${EMBEDDED_HELDOUT_BYTES} bytes, [${offset}, ${offset + n}) requested`);
  }
  return readChecked(file, EMBEDDED_HELDOUT_NAME, EMBEDDED_HELDOUT_BYTES).slice(offset, offset + n);
}

/** The whole of a shipped file, refused unless it hashes to enwik9's first `size` bytes. */
function readChecked(file: string, name: string, size: number): Uint8Array {
  const hint = `restore it (git checkout -- data/${name}), or point ENWIK9 / data.path at a copy of enwik9`;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch {
    throw new DataError('missing', `the embedded data data/${name} is missing`, hint);
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== ENWIK9_PREFIX_SHA256[size]) {
    throw new DataError('corrupt', `the embedded data data/${name} has sha256 ${sha}, not that of enwik9's first ${size} bytes (${ENWIK9_PREFIX_SHA256[size]})`, hint);
  }
  return bytes;
}
