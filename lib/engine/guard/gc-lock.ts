// The lock between gc and the runs that build into a cache. gc may delete only what no
// run is using, and a sweep uses its points' entries from its first point until its
// built-from.json names them, with no stage lock held in between. So:
//   - every build, and every sweep from start to built-from.json, holds a shared hold: a
//     lease file locks/hold-<pid>-<random>.lock of its own (renewed like a stage lock; a
//     killed run's hold goes stale with its pid or its lease, lease.ts);
//   - gc takes locks/gc.lock exclusively, then refuses while any hold or stage lock is live;
//   - a run whose hold is written while gc.lock is live waits for gc to finish.
// Each side writes its own file before looking for the other's, so at least one of them
// sees the other. Where no hold can be written (a read-only or full cache), a run goes on
// without one: gc cannot delete anything there either.

import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { EngineError } from '../errors.ts';
import { describeHolder, liveLocks, readHolder, staleness } from './lease.ts';
import { tryLock } from './lock.ts';

export const GC_LOCK = 'gc.lock';

/** Take a shared hold against gc (waiting while a gc runs); resolves with its release. */
export async function holdAgainstGc(locksDir: string, onWait?: (who: string) => void): Promise<() => void> {
  let release: () => void;
  try {
    // Renewed lazily: a no-op build ends long before its lease needs renewing (renewal.ts).
    const r = tryLock(path.join(locksDir, `hold-${process.pid}-${randomBytes(6).toString('hex')}.lock`), undefined, true);
    if (typeof r !== 'function') return () => {}; // a unique name: someone else's file cannot be there
    release = r;
  } catch {
    return () => {};
  }
  const file = path.join(locksDir, GC_LOCK);
  let told = false;
  for (;;) {
    const h = readHolder(file);
    if (!h || staleness(file, h)) return release;
    if (!told) {
      told = true;
      onWait?.(describeHolder(h));
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Take gc's exclusive lock: throws 'busy' while another gc, a build or a sweep holds the cache. */
export function lockForGc(locksDir: string): () => void {
  const r = tryLock(path.join(locksDir, GC_LOCK));
  if (typeof r !== 'function') {
    throw new EngineError('busy', `gc: another gc is running (${r.pid > 0 ? describeHolder(r) : 'its lock is being written'})`, 'run gc again when it has finished');
  }
  const holders = liveLocks(locksDir).filter((x) => !x.startsWith('gc ('));
  if (holders.length) {
    r();
    const runs = holders.filter((x) => x.startsWith('hold-')).length;
    const what = runs ? `${runs} run${runs > 1 ? 's' : ''} (build or sweep) in progress` : 'another pipeline process is building';
    throw new EngineError('busy', `gc: ${what} (${holders.map((x) => x.replace(/^hold-\S+ \((.*)\)$/, '$1')).join(', ')})`, 'run gc again when it has finished');
  }
  return r;
}
