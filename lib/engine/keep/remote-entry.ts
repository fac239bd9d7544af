// A remote entry as it arrives: parsed and checked like a local one (entry.ts), tied to the
// key it was asked for, and, when the remote is keyed (an entry key, passed in by the CLI), carrying a
// valid HMAC tag. Used by remote.ts for every entry it pulls and pushes.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson, hashJson, sha256 } from './hash.ts';
import { entryProblem, type Declared, type Entry, type TensorRef } from './entry.ts';

/** The HMAC-SHA256 under `hmacKey` of an entry: its canonical JSON without `check` and `tag`. */
export function entryTag(hmacKey: string, entry: Entry): string {
  const { check: _c, tag: _t, ...body } = entry as Entry & { tag?: string };
  return createHmac('sha256', hmacKey).update(canonicalJson(body)).digest('hex');
}

/**
 * Parse and check a remote entry the way Store.getEntry checks a local one, and more: the
 * record must hash to the key it was asked for and, with `hmacKey`, carry a valid tag. An
 * Entry (with its tag), or why it was rejected. Never throws.
 */
export function checkEntry(bytes: Uint8Array, stage: string, key: string, o: { declared?: Declared; hmacKey?: string | null } = {}): Entry | string {
  let entry: Entry & { tag?: unknown };
  try {
    entry = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return 'is not valid JSON';
  }
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return 'is not a cache entry';
  const { check, tag, ...body } = entry;
  try {
    if (!check || sha256(canonicalJson(body)) !== check) return 'fails its checksum (damaged)';
  } catch {
    return 'fails its checksum (damaged)';
  }
  const why = entryProblem(entry, stage, o.declared);
  if (why) return why;
  if (entry.key !== key || hashJson(entry.record) !== key) return 'does not belong to this key';
  if (o.hmacKey) {
    if (typeof tag !== 'string' || !/^[0-9a-f]{64}$/.test(tag)) return 'has no HMAC tag (an entry key is set: only tagged entries are served)';
    if (!timingSafeEqual(Buffer.from(tag, 'hex'), Buffer.from(entryTag(o.hmacKey, entry), 'hex'))) return 'has an HMAC tag that is not valid under the entry key';
  }
  return entry;
}

/** Why a downloaded tensor file does not match its ref (its header's dtype and shape), or null. */
export async function tensorMismatch(obj: Uint8Array, t: TensorRef, what: string): Promise<string | null> {
  const { tensorHeader } = await import('./tensor.ts');
  let h: { dtype: string; shape: number[] };
  try {
    h = tensorHeader(obj, what);
  } catch (e) {
    return `has ${(e as Error).message}`;
  }
  if (h.dtype === t.dtype && JSON.stringify(h.shape) === JSON.stringify(t.shape)) return null;
  return `says ${what} is ${t.dtype} ${JSON.stringify(t.shape)}, its file holds ${h.dtype} ${JSON.stringify(h.shape)}`;
}
