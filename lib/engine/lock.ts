// A per-stage lock file so that two pipeline processes on one cache never build the same
// stage at once: the second waits, then finds the first one's result in the cache.
//
// Why not proper-lockfile: it detects a dead holder by the lock's mtime, which the holder
// refreshes on a timer. Our stages are long synchronous computations (training) that
// block the timer, so the lock would look stale and be stolen mid-stage. The cache is
// local to the machine, so we can ask the OS directly whether the holder is alive:
// the lock file holds the holder's pid and hostname, and a lock whose pid is gone is
// broken (renamed away atomically, so only one waiter breaks it).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

interface Holder {
  pid: number;
  host: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(file: string): Holder | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** Try once. Returns a release function, or the current holder. */
export function tryLock(file: string): (() => void) | Holder {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const me: Holder = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
  try {
    const fd = fs.openSync(file, 'wx');
    fs.writeSync(fd, JSON.stringify(me));
    fs.closeSync(fd);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const h = readHolder(file);
      if (h && h.pid === me.pid && h.host === me.host) fs.rmSync(file, { force: true });
    };
    return release;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const holder = readHolder(file);
  if (holder === null) {
    // Being written right now, or left empty by a crash between open and write.
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (st && Date.now() - st.mtimeMs > 5000) breakLock(file);
    return { pid: -1, host: os.hostname(), since: '' };
  }
  if (holder.host === os.hostname() && !alive(holder.pid)) {
    breakLock(file);
    return tryLock(file);
  }
  return holder;
}

function breakLock(file: string): void {
  const aside = `${file}.broken-${randomBytes(4).toString('hex')}`;
  try {
    fs.renameSync(file, aside); // atomic: of several waiters, one wins
    fs.rmSync(aside, { force: true });
  } catch {
    /* another waiter broke it first */
  }
}

/**
 * Take the lock, waiting for a live holder to finish. `onWait` is called once with the
 * holder when we have to wait.
 */
export async function lock(file: string, onWait?: (h: Holder) => void): Promise<() => void> {
  let told = false;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    const r = tryLock(file);
    if (typeof r === 'function') return r;
    if (!told && onWait && r.pid > 0) {
      told = true;
      onWait(r);
    }
    await new Promise((res) => setTimeout(res, delay));
  }
}
