// Paper §2 ("1024 bytes of enwik9"), docs/definitions.md §0 "Data" and §6.3: the first
// N = data.bytes bytes x_0..x_{N-1} of enwik9, and the held-out text: by default the N bytes
// after them (bytes N..2N-1), or the block data.heldoutOffset / data.heldoutBytes pin.
// The source, in order: the param data.path, the env var ENWIK9 (a plain file or a zip of
// one), else for N ≤ 1024 the copy shipped with the project (data/enwik9-head-1024.txt; the
// held-out text from data/enwik9-head-2048.txt when it lies in the first 2048 bytes), else a
// streamed download of data.url (in the key as a param), stopped as soon as the bytes it
// needs are out. A local file, embedded or not, is declared as an external, so its content
// fingerprint is in the cache key (only the prefix a run reads for a plain file), never its
// path nor its name: ENWIK9 is a pathEnv, and data.path enters keys as null. The output is
// the bytes; where they came from (embedded, file, zip, download; the file's name, the zip
// entry) is provenance, so the same bytes from another source re-run nothing downstream.
// A source that claims to be enwik9 (ENWIK9, the download, the shipped copy) must match the
// sha256 we know for its prefix (1024, 2048 bytes, 1 MiB; lib/data/known.ts); data.path is
// the user's own text and is read as it is. A pinned held-out block that overlaps the
// training prefix, or that a plain file is too short for, is a usage error before anything
// runs. Reading is in lib/data/.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { defineStage, type ExternalFile } from '../lib/engine/types.ts';
import {
  EMBEDDED_BYTES,
  EMBEDDED_HELDOUT_BYTES,
  EMBEDDED_HELDOUT_NAME,
  EMBEDDED_HELDOUT_PATH,
  EMBEDDED_NAME,
  EMBEDDED_PATH,
  SOURCE_HINT,
  checkSourceLength,
  fileSize,
  heldoutRange,
  heldoutWithin,
  heldoutShort,
  localSource,
  looksLikeZip,
} from '../lib/data/inputs.ts';
import type { OnProgress, Prefix } from '../lib/data/source.ts';
import type { HeldoutRange } from '../lib/data/inputs.ts';
// The readers (files, zips, the downloader) are imported when the stage runs: every
// pipeline run loads this declaration, few run it.

import type { Params } from '../schemas/data.params.ts';

type Source = { kind: 'local'; file: string } | { kind: 'embedded' } | { kind: 'download' };

/** Where the training bytes come from for these params: a local file, the embedded copy, or the network. */
function sourceOf(params: Params, env: Record<string, string | undefined>): Source {
  const file = localSource(params.path, env);
  if (file) return { kind: 'local', file };
  return params.bytes <= EMBEDDED_BYTES ? { kind: 'embedded' } : { kind: 'download' };
}

/**
 * Where the held-out bytes come from: the training bytes' file or download, except that an
 * embedded training prefix takes them from the shipped 2048 bytes when those hold them.
 */
function heldoutSourceOf(train: Source, need: number): Source {
  if (train.kind !== 'embedded') return train;
  return need <= EMBEDDED_HELDOUT_BYTES ? { kind: 'embedded' } : { kind: 'download' };
}

/**
 * A plain file (ENWIK9 or data.path) holds the training prefix but ends before the default
 * held-out block, and the block lies in enwik9's first 2048 bytes, which ship with the
 * project: those bytes are the held-out text (once the run has checked that the file's
 * prefix is enwik9's), so a 1 KiB copy of enwik9 is the same data as the shipped one.
 */
function shortEnwik9(params: Params, file: string, held: HeldoutRange): boolean {
  if (held.pinned || held.bytes === 0 || held.need > EMBEDDED_HELDOUT_BYTES || looksLikeZip(file)) return false;
  const size = fileSize(file);
  return size !== null && size >= params.bytes && size < held.need;
}

const heldoutOf = (params: Params) => heldoutRange(params.bytes, params.heldoutOffset, params.heldoutBytes);

export default defineStage<Params>({
  name: 'data',
  description: 'the first data.bytes bytes of enwik9 and the held-out text after them (the shipped 2048, a file, its zip, or a streamed download)',
  section: '§2',
  inputs: [],
  pathEnv: ['ENWIK9'],
  // A data file enters keys by its content (the external), not its folder or name.
  keyParams: (p) => (p.path ? { ...p, path: null } : p),
  fileParams: (p) => (p.path ? ['path'] : []),
  externals(params, env) {
    const held = heldoutOf(params); // throws a usage error on an overlapping block
    const src = sourceOf(params, env);
    if (src.kind === 'local') {
      checkSourceLength(src.file, params.bytes, held);
      // A zip's first N inflated bytes can depend on any part of it: fingerprint it all.
      const out: ExternalFile[] = [{ name: 'source', path: src.file, maxBytes: looksLikeZip(src.file) ? undefined : held.need, hint: SOURCE_HINT }];
      if (shortEnwik9(params, src.file, held)) out.push({ name: 'heldout', path: EMBEDDED_HELDOUT_PATH, maxBytes: held.need, display: `embedded:${EMBEDDED_HELDOUT_NAME}` });
      return out;
    }
    const out: ExternalFile[] = [];
    if (src.kind === 'embedded') out.push({ name: 'source', path: EMBEDDED_PATH, maxBytes: params.bytes, display: `embedded:${EMBEDDED_NAME}` });
    if (held.bytes > 0 && heldoutSourceOf(src, held.need).kind === 'embedded') {
      out.push({ name: 'heldout', path: EMBEDDED_HELDOUT_PATH, maxBytes: held.need, display: `embedded:${EMBEDDED_HELDOUT_NAME}` });
    }
    return out;
  },
  tensors: ['bytes', 'heldout'],
  async run({ params, externals, env, progress }) {
    const n = params.bytes;
    let held = heldoutOf(params);
    const wanted = held;
    // The file the engine resolved and fingerprinted, when it did (else the same rule again).
    const declared = externals.source?.path;
    const src: Source = declared ? (declared === EMBEDDED_PATH ? { kind: 'embedded' } : { kind: 'local', file: declared }) : sourceOf(params, env);
    const heldSrc = heldoutSourceOf(src, held.need);
    const { preview, readPrefix } = await import('../lib/data/source.ts');
    const { knownPrefixMismatch } = await import('../lib/data/known.ts');
    // One read of every byte the run needs from a local file or the network: the training
    // prefix and, when it comes from the same place, the held-out block after it.
    const need = held.bytes > 0 && heldSrc.kind !== 'embedded' ? held.need : n;
    if (src.kind === 'local') checkSourceLength(src.file, n, held);
    const read = async (k: number): Promise<Prefix | null> => {
      if (src.kind === 'local') return readPrefix(src.file, k, (out, transferred) => progress(out, k, `read ${transferred} bytes`));
      if (src.kind === 'download' || k > n) {
        const onProgress: OnProgress = (out, transferred) => progress(out, k, `downloaded ${(transferred / 1024).toFixed(1)} KB`);
        return (await import('../lib/data/download.ts')).downloadPrefix(params.url, k, { onProgress });
      }
      return null;
    };
    let whole: Prefix | null = null;
    try {
      whole = await read(need);
    } catch (e) {
      // A source that ends before `need`: the default held-out block shrinks to what follows
      // the prefix; otherwise name the part it lacks, the prefix or the pinned block.
      const has = (e as { reason?: string; has?: number }).reason === 'short' ? (e as { has?: number }).has : undefined;
      if (need === n || has === undefined) throw e;
      const label = src.kind === 'local' ? src.file : params.url;
      if (has >= n && !held.pinned) {
        held = heldoutWithin(held, n, has);
        whole = await read(held.bytes > 0 ? held.need : n);
      } else if (has >= n) throw heldoutShort(path.basename(label), has, n, held);
      else throw (await import('../lib/data/errors.ts')).shortError(label, has, n);
    }
    const claimsEnwik9 = !(src.kind === 'local' && params.path);
    if (claimsEnwik9 && whole && whole.bytes.length > n) {
      const label = whole.source === 'download' ? params.url : whole.name;
      const wrong = knownPrefixMismatch(whole.bytes, createHash('sha256').update(whole.bytes).digest('hex'), label);
      if (wrong) throw wrong;
    }
    let got: Prefix;
    if (src.kind === 'embedded') {
      const { readEmbedded } = await import('../lib/data/embedded.ts');
      got = { bytes: readEmbedded(n), source: 'embedded', name: EMBEDDED_NAME, entry: null, transferred: n };
      progress(n, n, `read ${n} embedded bytes`);
    } else {
      got = { ...whole!, bytes: whole!.bytes.length === n ? whole!.bytes : whole!.bytes.slice(0, n) };
    }
    const sha256 = createHash('sha256').update(got.bytes).digest('hex');
    // What claims to be enwik9 (the download, ENWIK9, the embedded copy) must hash as it;
    // a user's own data.path is any text, taken as given (the report names it).
    if (claimsEnwik9) {
      const mismatch = knownPrefixMismatch(got.bytes, sha256, got.source === 'download' ? params.url : got.name);
      if (mismatch) throw mismatch;
    }

    let heldout: Uint8Array;
    let heldFrom: { source: Prefix['source'] | 'none'; name: string };
    if (held.bytes === 0) {
      heldout = new Uint8Array(0);
      heldFrom = { source: 'none', name: '' };
    } else if (heldSrc.kind === 'embedded') {
      const { readEmbeddedRange } = await import('../lib/data/embedded.ts');
      heldout = readEmbeddedRange(held.offset, held.bytes, externals.heldout?.path);
      heldFrom = { source: 'embedded', name: EMBEDDED_HELDOUT_NAME };
    } else {
      heldout = whole!.bytes.slice(held.offset, held.need);
      heldFrom = { source: whole!.source, name: whole!.name };
    }
    // A 1 KiB copy of enwik9 (shortEnwik9), whatever names it: its held-out text is the shipped bytes after it,
    // once its prefix is checked against them byte for byte.
    if (externals.heldout && src.kind === 'local' && held.bytes < wanted.bytes) {
      const { readEmbeddedRange } = await import('../lib/data/embedded.ts');
      const head = readEmbeddedRange(0, wanted.need, externals.heldout.path);
      if (Buffer.from(head.subarray(0, n)).equals(Buffer.from(got.bytes))) {
        held = wanted;
        heldout = head.slice(wanted.offset, wanted.need);
        heldFrom = { source: 'embedded', name: EMBEDDED_HELDOUT_NAME };
      }
    }
    return {
      json: {
        bytes: n,
        sha256,
        preview: preview(got.bytes),
        heldout: { offset: held.offset, bytes: held.bytes, sha256: createHash('sha256').update(heldout).digest('hex') },
      },
      provenance: { source: got.source, name: got.name, entry: got.entry, heldout: heldFrom },
      tensors: {
        bytes: { dtype: 'uint8', shape: [n], data: got.bytes },
        heldout: { dtype: 'uint8', shape: [held.bytes], data: heldout },
      },
    };
  },
});
