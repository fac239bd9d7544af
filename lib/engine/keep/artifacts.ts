// Artifacts: files for users (reports, figures) that stages return. They are stored in
// the cache like any output and materialized under the reports folder. A file there that
// is byte-identical to an entry's artifact links the file to that entry: gc keeps the
// entries every materialized file was built from, and their upstream closure.

import fs from 'node:fs';
import path from 'node:path';
import { sha256 } from './hash.ts';
import { knownFileHash } from './objects.ts';
import { CorruptError, artifactNameProblem, type Entry } from './entry.ts';
import type { Store } from './store.ts';
import { writeFileAtomic } from './atomic-write.ts';

/** Write the entries' artifacts into `reportsDir`, only where they differ. Returns the paths. */
export function materialize(store: Store, reportsDir: string, entries: Entry[]): string[] {
  const written: string[] = [];
  for (const e of entries) {
    for (const [rel, ref] of Object.entries(e.outputs.artifacts)) {
      // Checked when the entry was read too; here again because this is where a name becomes a path.
      const bad = artifactNameProblem(rel);
      if (bad) throw new CorruptError(`stage ${e.record.stage}: cache entry ${e.key.slice(0, 12)} has artifact ${bad} (forged)`, { stage: e.record.stage, key: e.key });
      const dest = path.join(reportsDir, rel);
      let same = false;
      try {
        // Known by its stat when unchanged since it was last hashed (objects.ts knownFileHash).
        same = fs.statSync(dest).size === ref.bytes && knownFileHash(store.memo, `reports/${rel}`, dest, store.clock()) === ref.hash;
      } catch {
        same = false;
      }
      if (!same) {
        writeFileAtomic(dest, store.getObject(ref, `stage ${e.record.stage}: artifact ${rel}`));
      }
      written.push(dest);
    }
  }
  return written;
}

/**
 * Entries (as "stage/key") that a file now in `reportsDir` (null: none) came from, and the `roots` the
 * caller names (what an aggregate was read from), plus every entry upstream of them. Upstream is found through the key record's input output-hashes: every
 * entry of that stage with that output hash is kept (equal outputs from different keys,
 * after an early cutoff, are all kept: keeping more is safe).
 */
export function linkedEntries(reportsDir: string | null, all: { stage: string; key: string; entry: Entry }[], roots: Iterable<string> = []): Set<string> {
  const fileHash = new Map<string, string | null>();
  const onDisk = (rel: string): string | null => {
    if (!fileHash.has(rel)) {
      let h: string | null = null;
      try {
        h = sha256(fs.readFileSync(path.join(reportsDir!, rel)));
      } catch {
        h = null;
      }
      fileHash.set(rel, h);
    }
    return fileHash.get(rel)!;
  };
  const byOutput = new Map<string, string[]>();
  for (const { stage, key, entry } of all) {
    const k = `${stage}\0${entry.outputHash}`;
    (byOutput.get(k) ?? byOutput.set(k, []).get(k)!).push(`${stage}/${key}`);
  }
  const byId = new Map(all.map((x) => [`${x.stage}/${x.key}`, x.entry]));
  const keep = new Set<string>();
  const stack: string[] = [...roots].filter((id) => byId.has(id));
  for (const { stage, key, entry } of all) {
    const arts = Object.entries(entry.outputs.artifacts);
    if (reportsDir !== null && arts.some(([rel, ref]) => onDisk(rel) === ref.hash)) stack.push(`${stage}/${key}`);
  }
  while (stack.length) {
    const id = stack.pop()!;
    if (keep.has(id)) continue;
    keep.add(id);
    const e = byId.get(id)!;
    for (const [u, h] of Object.entries(e.record.inputs)) stack.push(...(byOutput.get(`${u}\0${h}`) ?? []));
  }
  return keep;
}
