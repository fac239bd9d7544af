// The sha256 of the files this project knows by content (the paper's reference files):
// prefixes of enwik9 that any correct source must reproduce, and the paper's weights as the
// authors released them. A file that claims to be one of these (ENWIK9, the download, the
// shipped copy; not a user's own data.path) and hashes otherwise is refused, so a damaged
// download or a wrong file never reaches the cache.

import { DataError } from './errors.ts';

/** sha256 of the first N bytes of enwik9, for the prefix lengths we know. */
export const ENWIK9_PREFIX_SHA256: Readonly<Record<number, string>> = {
  1024: 'ef3e698d40b8b36d6d1776feccc25bab3d01de872a4fd8e56f5b929631568496',
  2048: 'bc51ea2c32cc92722855012d7db27fe653c5d363676f632284291dfcfd267456',
  1048576: '4fb5efa9f35df431737731bf3c8f38a467b69731940ff82a4ee0e218aae58834',
};

// sat_model.bin's sha256 lives in inputs.ts: the model stage's declaration keys on it.
export { PAPER_WEIGHTS_SHA256 } from './inputs.ts';

/**
 * null when `bytes` is a prefix length we know and its sha256 matches, or one we do not
 * know; otherwise the error for a source (`label`) that is not enwik9.
 */
export function knownPrefixMismatch(bytes: Uint8Array, sha256: string, label: string): DataError | null {
  const want = ENWIK9_PREFIX_SHA256[bytes.length];
  if (want === undefined || want === sha256) return null;
  return new DataError(
    'mismatch',
    `the first ${bytes.length} bytes of ${label} have sha256 ${sha256}, not those of enwik9 (${want})`,
    'point ENWIK9 at enwik9, enwik8 or a prefix of them (or enwik9.zip), or download it again if it is damaged; for your own text use --set data.path=FILE (read as it is)',
  );
}
