// The first 1024 bytes of enwik9 ship with the project (data/enwik9-head-1024.txt, with its
// attribution in data/README.md): the paper's data, so the default pipeline needs neither
// a network nor a copy of enwik9. Checked against its known sha256 on every read.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DataError } from './errors.ts';
import { ENWIK9_PREFIX_SHA256 } from './known.ts';
import { EMBEDDED_BYTES, EMBEDDED_NAME, EMBEDDED_PATH } from './inputs.ts';

/** The first `n` (≤ 1024) embedded bytes, after checking the whole file's sha256. */
export function readEmbedded(n: number, file = EMBEDDED_PATH): Uint8Array {
  if (n > EMBEDDED_BYTES) throw new RangeError(`the embedded data has ${EMBEDDED_BYTES} bytes, ${n} requested`);
  const hint = `restore it (git checkout -- data/${EMBEDDED_NAME}), or point ENWIK9 / data.path at a copy of enwik9`;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch {
    throw new DataError('missing', `the embedded data data/${EMBEDDED_NAME} is missing`, hint);
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== ENWIK9_PREFIX_SHA256[EMBEDDED_BYTES]) {
    throw new DataError(
      'corrupt',
      `the embedded data data/${EMBEDDED_NAME} has sha256 ${sha}, not that of enwik9's first ${EMBEDDED_BYTES} bytes (${ENWIK9_PREFIX_SHA256[EMBEDDED_BYTES]})`,
      hint,
    );
  }
  return bytes.subarray(0, n);
}
