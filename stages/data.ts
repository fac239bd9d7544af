// Paper §2 ("1024 bytes of enwik9"), SPEC §0 "Data", issue 3 part 1: the first N = data.bytes
// bytes x_0..x_{N-1} of enwik9.
// The source, in order: the param data.path, the env var ENWIK9 (a plain file or a zip of
// one; declared as an external file, so its fingerprint is in the cache key: only its first
// N bytes for a plain file), else a streamed download of data.url (in the key as a param),
// stopped as soon as N bytes are out. Reading is in lib/data/.
import { createHash } from 'node:crypto';
import { defineStage } from '../lib/engine/types.ts';
import { SOURCE_HINT } from '../lib/data/errors.ts';
import { localSource, looksLikeZip, preview, readPrefix, type OnProgress } from '../lib/data/source.ts';
import type { Params } from '../schemas/data.params.ts';
// The downloader (fetch, zlib streams) is imported only when there is no local source.

export default defineStage<Params>({
  name: 'data',
  description: 'the first data.bytes bytes of enwik9 (a file, its zip, or a streamed download)',
  section: '§2',
  inputs: [],
  env: ['ENWIK9'],
  externals(params, env) {
    const file = localSource(params.path, env);
    if (!file) return [];
    // A zip's first N inflated bytes can depend on any part of it: fingerprint it all.
    return [{ name: 'source', path: file, maxBytes: looksLikeZip(file) ? undefined : params.bytes, hint: SOURCE_HINT }];
  },
  tensors: ['bytes'],
  async run({ params, externals, env, progress }) {
    const n = params.bytes;
    const file = externals.source?.path ?? localSource(params.path, env);
    const onProgress: OnProgress = (out, transferred) =>
      progress(out, n, file ? `read ${transferred} bytes` : `downloaded ${(transferred / 1024).toFixed(1)} KB`);
    const got = file
      ? await readPrefix(file, n, onProgress)
      : await (await import('../lib/data/download.ts')).downloadPrefix(params.url, n, { onProgress });
    return {
      json: {
        bytes: n,
        source: got.source,
        name: got.name,
        entry: got.entry,
        sha256: createHash('sha256').update(got.bytes).digest('hex'),
        preview: preview(got.bytes),
      },
      tensors: { bytes: { dtype: 'uint8', shape: [n], data: got.bytes } },
    };
  },
});
