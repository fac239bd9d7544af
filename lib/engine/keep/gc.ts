// gc: delete the cache entries and objects that nothing keeps. Kept:
//   - every entry the given param sets reach (each one planned like `status` would), and
//   - with `keepMaterialized` (the default), every entry a file now in the reports folder
//     was built from, with its upstream closure (artifacts.ts), so a report on another
//     model or other params keeps its analyses;
//   - the entries named in `keep` ("stage/key", e.g. what a sweep's aggregate was read
//     from: its points built only some stages, so no file of theirs is in the reports folder),
//     with their upstream closure;
//   - files younger than `graceMs` (a run in another process may have just written them).
// No-op memos (noop/) that can no longer be replayed go too, whatever their age (store-list.ts
// staleMemos): checked after the deletions, which make the memos that named what went stale.
// gc holds gc-lock.ts's exclusive lock throughout: it refuses while a build or a sweep
// holds the cache, and a build that starts meanwhile waits for it.
// The result lists what goes; `dryRun` deletes nothing.

import fs from 'node:fs';
import { plan } from '../decide/plan.ts';
import { linkedEntries } from './artifacts.ts';
import { entryObjects, type Entry } from './entry.ts';
import { listEntries, listObjects, listTmp, removeLegacy, staleMemos } from './store-list.ts';
import { lockForGc } from '../guard/gc-lock.ts';
import type { Overrides, Project } from '../project.ts';
import type { Store } from './store.ts';

export interface GcOptions {
  /** The reports folder whose files' entries are kept (with keepMaterialized). */
  reportsDir: string;
  /** Param sets whose builds are kept (default: the defaults). */
  overrides?: Overrides[];
  /** Keep what the files in the reports folder were built from (default true). */
  keepMaterialized?: boolean;
  /** Entries ("stage/key") kept with everything upstream of them. */
  keep?: Iterable<string>;
  graceMs?: number;
  dryRun?: boolean;
}

export interface GcResult {
  entries: number;
  objects: number;
  /** No-op memos removed: those that can never be replayed again (store-list.ts staleMemos). */
  memos: number;
  bytes: number;
  /** The entries deleted (or, on a dry run, that would be). */
  removed: { stage: string; key: string; builtAt: string | null; bytes: number }[];
  /** Entries kept because a file in the reports folder, or `keep`, came from them (or from downstream of them). */
  keptForReports: number;
}

export function gc(project: Project, store: Store, opts: GcOptions): GcResult {
  const release = lockForGc(store.locksDir);
  try {
    return collect(project, store, opts);
  } finally {
    release();
  }
}

function collect(project: Project, store: Store, opts: GcOptions): GcResult {
  const grace = opts.graceMs ?? 10 * 60 * 1000;
  const all: { stage: string; key: string; path: string; entry: Entry | null }[] = listEntries(store.root).map((e) => {
    let entry: Entry | null = null;
    try {
      entry = store.getEntry(e.stage, e.key);
    } catch {
      entry = null; // damaged: nothing keeps it
    }
    return { ...e, entry };
  });
  const keep = new Set<string>();
  for (const ov of opts.overrides ?? [{}]) {
    const pl = plan(project, store, project.resolveAll(ov), null, { all: true });
    for (const [name, e] of Object.entries(pl.entries)) keep.add(`${name}/${e.key}`);
  }
  const intact = all.filter((x): x is typeof x & { entry: Entry } => x.entry !== null);
  const linked = linkedEntries(opts.keepMaterialized === false ? null : opts.reportsDir, intact, opts.keep);
  const keptForReports = [...linked].filter((id) => !keep.has(id)).length;
  for (const id of linked) keep.add(id);
  const keepObjects = new Set<string>();
  for (const x of all) if (x.entry && keep.has(`${x.stage}/${x.key}`)) for (const { ref } of entryObjects(x.entry)) keepObjects.add(ref.hash);

  const now = Date.now();
  const removed: GcResult['removed'] = [];
  let objects = 0;
  let bytes = 0;
  for (const x of all) {
    if (keep.has(`${x.stage}/${x.key}`)) continue;
    const st = fs.statSync(x.path);
    if (now - st.mtimeMs < grace) continue;
    removed.push({ stage: x.stage, key: x.key, builtAt: x.entry?.builtAt ?? null, bytes: st.size });
    bytes += st.size;
    if (!opts.dryRun) fs.rmSync(x.path, { force: true });
  }
  for (const o of listObjects(store.root)) {
    if (keepObjects.has(o.hash) || now - o.mtimeMs < grace) continue;
    objects++;
    bytes += o.bytes;
    if (!opts.dryRun) fs.rmSync(o.path, { force: true });
  }
  bytes += removeLegacy(store.root, opts.dryRun); // cache/validators/ of older engines: code, never data
  for (const t of listTmp(store.root)) {
    if (now - t.mtimeMs < grace) continue;
    bytes += t.bytes;
    if (!opts.dryRun) fs.rmSync(t.path, { force: true });
  }
  // Memos only spare work: one that goes costs the next identical command one full no-op run.
  const memos = staleMemos(store.root);
  for (const m of memos) {
    bytes += m.bytes;
    if (!opts.dryRun) fs.rmSync(m.path, { force: true });
  }
  return { entries: removed.length, objects, memos: memos.length, bytes, removed, keptForReports };
}
