// Paper §2 ("1024 bytes of enwik9"), SPEC §0 "Data", issue 3 part 1 and issue 10: the first
// N = data.bytes bytes x_0..x_{N-1} of enwik9.
// The source, in order: the param data.path, the env var ENWIK9 (a plain file or a zip of
// one), else for N ≤ 1024 the copy shipped with the project (data/enwik9-head-1024.txt),
// else a streamed download of data.url (in the key as a param), stopped as soon as N bytes
// are out. A local file, embedded or not, is declared as an external, so its content
// fingerprint and name are in the cache key (only its first N bytes for a plain file), never
// its path: ENWIK9 is a pathEnv. A source that claims to be enwik9 (ENWIK9, the download,
// the shipped copy) must match the sha256 we know for its prefix (1024 bytes, 1 MiB;
// lib/data/known.ts); data.path is the user's own text and is read as it is. Reading is in lib/data/.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { defineStage } from '../lib/engine/types.ts';
import { EMBEDDED_BYTES, EMBEDDED_NAME, EMBEDDED_PATH, SOURCE_HINT, localSource, looksLikeZip } from '../lib/data/inputs.ts';
import type { OnProgress, Prefix } from '../lib/data/source.ts';
// The readers (files, zips, the downloader) are imported when the stage runs: every
// pipeline run loads this declaration, few run it.

import type { Params } from '../schemas/data.params.ts';

/** Where the bytes come from for these params: a local file, the embedded copy, or the network. */
function sourceOf(params: Params, env: Record<string, string | undefined>): { kind: 'local'; file: string } | { kind: 'embedded' } | { kind: 'download' } {
  const file = localSource(params.path, env);
  if (file) return { kind: 'local', file };
  return params.bytes <= EMBEDDED_BYTES ? { kind: 'embedded' } : { kind: 'download' };
}

export default defineStage<Params>({
  name: 'data',
  description: 'the first data.bytes bytes of enwik9 (the shipped 1024, a file, its zip, or a streamed download)',
  section: '§2',
  inputs: [],
  pathEnv: ['ENWIK9'],
  // A data file enters keys by its name and content (the external), not its folder.
  keyParams: (p) => (p.path ? { ...p, path: `file:${path.basename(p.path)}` } : p),
  externals(params, env) {
    const src = sourceOf(params, env);
    if (src.kind === 'embedded') return [{ name: 'source', path: EMBEDDED_PATH, maxBytes: params.bytes, display: `embedded:${EMBEDDED_NAME}` }];
    if (src.kind === 'download') return [];
    // A zip's first N inflated bytes can depend on any part of it: fingerprint it all.
    return [{ name: 'source', path: src.file, maxBytes: looksLikeZip(src.file) ? undefined : params.bytes, hint: SOURCE_HINT }];
  },
  tensors: ['bytes'],
  async run({ params, externals, env, progress }) {
    const n = params.bytes;
    // The file the engine resolved and fingerprinted, when it did (else the same rule again).
    const declared = externals.source?.path;
    const src = declared ? (declared === EMBEDDED_PATH ? { kind: 'embedded' as const } : { kind: 'local' as const, file: declared }) : sourceOf(params, env);
    const { preview, readPrefix } = await import('../lib/data/source.ts');
    let got: Prefix;
    if (src.kind === 'embedded') {
      const { readEmbedded } = await import('../lib/data/embedded.ts');
      got = { bytes: readEmbedded(n), source: 'embedded', name: EMBEDDED_NAME, entry: null, transferred: n };
      progress(n, n, `read ${n} embedded bytes`);
    } else if (src.kind === 'local') {
      got = await readPrefix(src.file, n, (out, transferred) => progress(out, n, `read ${transferred} bytes`));
    } else {
      const onProgress: OnProgress = (out, transferred) => progress(out, n, `downloaded ${(transferred / 1024).toFixed(1)} KB`);
      got = await (await import('../lib/data/download.ts')).downloadPrefix(params.url, n, { onProgress });
    }
    const sha256 = createHash('sha256').update(got.bytes).digest('hex');
    // What claims to be enwik9 (the download, ENWIK9, the embedded copy) must hash as it;
    // a user's own data.path is any text, taken as given (the report names it).
    if (!(src.kind === 'local' && params.path)) {
      const { knownPrefixMismatch } = await import('../lib/data/known.ts');
      const mismatch = knownPrefixMismatch(got.bytes, sha256, got.source === 'download' ? params.url : got.name);
      if (mismatch) throw mismatch;
    }
    return {
      json: {
        bytes: n,
        source: got.source,
        name: got.name,
        entry: got.entry,
        sha256,
        preview: preview(got.bytes),
      },
      tensors: { bytes: { dtype: 'uint8', shape: [n], data: got.bytes } },
    };
  },
});
