// Listing what a cache folder holds, for gc and `status`: entries, objects, partial writes
// in tmp/, the no-op memos in noop/, and the legacy `validators/` folder older engines left behind.

import fs from 'node:fs';
import path from 'node:path';
import { statKey } from './hash.ts';

/** Every entry under `<root>/entries` as (stage, key) pairs. */
export function listEntries(root: string): { stage: string; key: string; path: string }[] {
  const base = path.join(root, 'entries');
  const out: { stage: string; key: string; path: string }[] = [];
  if (!fs.existsSync(base)) return out;
  for (const stage of fs.readdirSync(base)) {
    for (const f of fs.readdirSync(path.join(base, stage))) {
      if (f.endsWith('.json')) out.push({ stage, key: f.slice(0, -5), path: path.join(base, stage, f) });
    }
  }
  return out;
}

/** Every object under `<root>/objects` with its size and modification time. */
export function listObjects(root: string): { hash: string; path: string; bytes: number; mtimeMs: number }[] {
  const base = path.join(root, 'objects');
  const out: { hash: string; path: string; bytes: number; mtimeMs: number }[] = [];
  if (!fs.existsSync(base)) return out;
  for (const d of fs.readdirSync(base)) {
    for (const f of fs.readdirSync(path.join(base, d))) {
      const p = path.join(base, d, f);
      const st = fs.statSync(p);
      out.push({ hash: f, path: p, bytes: st.size, mtimeMs: st.mtimeMs });
    }
  }
  return out;
}

/** Partial writes left in `<root>/tmp` by killed processes. */
export function listTmp(root: string): { path: string; bytes: number; mtimeMs: number }[] {
  const base = path.join(root, 'tmp');
  if (!fs.existsSync(base)) return [];
  return fs.readdirSync(base).map((f) => {
    const p = path.join(base, f);
    const st = fs.statSync(p);
    return { path: p, bytes: st.size, mtimeMs: st.mtimeMs };
  });
}

/**
 * What older engines left in the cache that is not data: `validators/` held generated
 * JavaScript that every command imported. Nothing reads it now; gc removes it. Returns
 * its size in bytes.
 */
export function removeLegacy(root: string, dryRun = false): number {
  const dir = path.join(root, 'validators');
  if (!fs.existsSync(dir)) return 0;
  let bytes = 0;
  for (const f of fs.readdirSync(dir)) bytes += fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.size ?? 0;
  if (!dryRun) fs.rmSync(dir, { recursive: true, force: true });
  return bytes;
}

/**
 * The no-op memos under `<root>/noop` (lib/cli/noop.ts writes them) that can never be replayed
 * again: unreadable, a partial write, or naming a file whose stat is no longer the one recorded
 * (code edited, an entry or object removed or rewritten: a stat never comes back). A memo still
 * in force is kept, so the next identical command stays instant.
 */
export function staleMemos(root: string): { path: string; bytes: number }[] {
  const base = path.join(root, 'noop');
  if (!fs.existsSync(base)) return [];
  const out: { path: string; bytes: number }[] = [];
  for (const f of fs.readdirSync(base)) {
    const p = path.join(base, f);
    let text: string;
    try {
      text = fs.readFileSync(p, 'utf8');
    } catch {
      continue; // removed meanwhile, or a folder: not ours
    }
    let inForce = false;
    try {
      const files: Record<string, string> = JSON.parse(text).files;
      inForce = f.endsWith('.json') && Object.entries(files).every(([file, k]) => {
        const st = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
        return (st ? statKey(st) : 'absent') === k;
      });
    } catch {
      inForce = false;
    }
    if (!inForce) out.push({ path: p, bytes: Buffer.byteLength(text) });
  }
  return out;
}
