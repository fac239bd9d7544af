// Reading an object file back, checked: its size before anything is read, then its sha256
// against its name. An object only checked (`keep` false: a hit's outputs, which a no-op
// run does not read) is not read again when its stat is the one it had when it was last
// hashed intact and settled (the memo; keep/hash.ts statKey says why that is safe); an
// object read for use is always re-hashed.

import fs from 'node:fs';
import { StatMemo, sha256, sha256Fd, sha256File } from './hash.ts';
import { CorruptError, badEntry, entryObjects, outputHashOf, type Entry, type ObjectRef } from './entry.ts';
import type { Store } from './store-api.ts';

const VERIFIED_VERSION = 1;

/** Objects hashed intact and settled, by name: the cache's verified.json. */
export class VerifiedMemo extends StatMemo {
  static load(file: string): VerifiedMemo {
    let doc: any = null;
    try {
      doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      /* none yet, or unreadable: hash again */
    }
    return new VerifiedMemo(doc?.version === VERIFIED_VERSION ? doc.objects : null);
  }

  /** Write it when this run learnt something (a read-only or full cache loses only speed). */
  save(write: (text: string) => void): void {
    if (!this.dirty) return;
    try {
      write(JSON.stringify({ version: VERIFIED_VERSION, objects: this }));
      this.dirty = false;
    } catch {
      /* verified again next run */
    }
  }
}

/**
 * Check every object of an entry and, for one with artifacts (files a build writes under
 * reports/ even when nothing reads its output), that its outputHash is its outputs' own.
 * Other entries have it recomputed where their output is read (loadOutput).
 */
export function verifyEntry(store: Store, entry: Entry): void {
  const at = { stage: entry.record.stage, key: entry.key };
  const declared = store.declared?.(at.stage);
  const rehash = !!declared && Object.keys(entry.outputs.artifacts).length > 0;
  // The JSON of an entry whose outputHash is recomputed is read below (and checked there): once.
  for (const { ref, what } of entryObjects(entry)) if (!(rehash && ref === entry.outputs.json)) store.verifyObject(ref, what, at);
  if (!rehash) return;
  let hash: string | null = null;
  try {
    hash = outputHashOf(JSON.parse(Buffer.from(store.getObject(entry.outputs.json, `stage ${at.stage}: json output`, at)).toString('utf8')), declared.volatile ?? [], entry.outputs.tensors, entry.outputs.artifacts);
  } catch (e) {
    if (e instanceof CorruptError) throw e;
  }
  if (hash !== entry.outputHash) throw badEntry(at.stage, at.key, "has an outputHash that is not its outputs' (forged)");
}

/**
 * The object at `p` (named by `ref`), or null when only checked. Throws CorruptError when
 * missing or damaged. `now`: the clock read before the stat (see settled).
 */
export function readObject(p: string, ref: ObjectRef, what: string, at: { stage: string; key: string } | undefined, keep: boolean, memo: StatMemo, now: number): Uint8Array | null {
  const short = ref.hash.slice(0, 12);
  let fd: number;
  try {
    fd = fs.openSync(p, 'r');
  } catch {
    throw new CorruptError(`${what}: object ${short} is missing from the cache`, at);
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    const size = Number(st.size);
    if (size !== ref.bytes) {
      const how = size < ref.bytes ? 'truncated' : 'longer than written: appended to or replaced';
      throw new CorruptError(`${what}: object ${short} has ${size} bytes, expected ${ref.bytes} (${how})`, at);
    }
    if (!keep && memo.get(ref.hash, st) === ref.hash) return null; // hashed intact, and not written since
    let buf: Buffer | null = null;
    let off = 0;
    let hash: string;
    if (keep) {
      buf = Buffer.allocUnsafe(size);
      while (off < size) {
        const n = fs.readSync(fd, buf, off, size - off, off);
        if (n <= 0) break;
        off += n;
      }
      hash = sha256(buf.subarray(0, off));
    } else {
      ({ hash, read: off } = sha256Fd(fd, size));
    }
    if (off !== size) throw new CorruptError(`${what}: object ${short} shrank while being read (${off} of ${size} bytes)`, at);
    if (hash !== ref.hash) {
      memo.forget(ref.hash);
      throw new CorruptError(`${what}: object ${short} fails its hash check (damaged)`, at);
    }
    memo.set(ref.hash, st, hash, now);
    return buf && new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The sha256 of a file outside the objects (a materialized artifact under reports/), known by
 * its stat when it was hashed before and settled (the same memo, under `name`), else read
 * and remembered. Throws as fs.statSync does.
 */
export function knownFileHash(memo: StatMemo, name: string, file: string, now: number): string {
  const st = fs.statSync(file, { bigint: true });
  const known = memo.get(name, st);
  if (known !== undefined) return known;
  const hash = sha256File(file);
  memo.set(name, st, hash, now);
  return hash;
}
