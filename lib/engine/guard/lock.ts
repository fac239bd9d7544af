// A lock file per (stage, key) so that two pipeline processes on one cache never build the
// same result at once: the second waits, then finds the first one's result in the cache.
//
// The lock is a lease. The file names its holder (pid, host, since, a random token) and
// when its lease expires; the holder renews it every lease/3 from a worker thread, which
// keeps running while the main thread is inside a long synchronous stage (a 60 s training
// kernel cannot starve it; renewal.ts). A lock whose lease is stale (lease.ts) is broken.
// Breaking is a rename to a unique name, so of several waiters exactly one breaks it.
// A waiter says who holds the lock, since when, and how to clear it; it gives up with an
// error after `timeoutMs`.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DEFAULT_LEASE_MS, describeHolder, parseHolder, readHolder, readText, record, staleness, writeAll, type Holder } from './lease.ts';
import { dropFile, renewFile, withMutex } from './renewal.ts';
import { EngineError } from '../errors.ts';

export interface LockOptions {
  /** Lease length; the holder renews every lease/3. Default 30 s. */
  leaseMs?: number;
  /** Give up waiting after this long (default: 2 hours). */
  timeoutMs?: number;
  /** Called when we start waiting for a holder (again when the holder changes). */
  onWait?: (h: Holder, file: string) => void;
  /** Extra advice for the timeout error's hint (e.g. how to raise the timeout). */
  advice?: string;
}

export const DEFAULT_LOCK_TIMEOUT_MS = 2 * 3600_000;

/** The release functions of every lock this process holds (for an interrupted run). */
const held = new Set<() => void>();

/** Release every lock this process holds (Ctrl-C: lib/cli/main.ts); returns how many. */
export function releaseAllLocks(): number {
  const n = held.size;
  for (const r of [...held]) {
    try {
      r();
    } catch {
      // the file is gone already, or the disk refuses: its lease expires on its own
    }
  }
  return n;
}

export class LockTimeoutError extends EngineError {
  declare readonly reason: 'lock-timeout';
  constructor(message: string, hint?: string) {
    super('lock-timeout', message, hint);
  }
}

/** Try once. Returns a release function, or the current holder. */
/** lazily: the renewal thread takes the lease only once a third of it has passed (renewal.ts). */
export function tryLock(file: string, leaseMs = DEFAULT_LEASE_MS, lazily = false): (() => void) | Holder {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const now = Date.now();
  const me: Holder = { pid: process.pid, host: os.hostname(), since: new Date(now).toISOString(), token: randomBytes(8).toString('hex'), leaseMs, expires: now + leaseMs };
  let fd = -1;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  if (fd >= 0) {
    try {
      writeAll(fd, record(me), 0);
      fs.closeSync(fd);
    } catch (e) {
      try {
        fs.closeSync(fd);
      } catch {}
      fs.rmSync(file, { force: true });
      throw e;
    }
    renewFile(file, me, lazily);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      held.delete(release);
      withMutex(() => {
        if (readHolder(file)?.token === me.token) fs.rmSync(file, { force: true });
      });
      dropFile(file);
    };
    held.add(release);
    return release;
  }
  const text = readText(file);
  const holder = parseHolder(text, file);
  if (holder === null) {
    // Being written right now, or left damaged: stale once nobody has touched it for a while.
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (st && now - st.mtimeMs > 5000) breakLock(file, text);
    return { pid: -1, host: '?', since: '', token: '', leaseMs, expires: now + leaseMs };
  }
  if (staleness(file, holder, now) && breakLock(file, text)) return tryLock(file, leaseMs, lazily);
  return holder; // live, or another waiter is breaking it: try again later
}

/**
 * Move a stale lock out of the way; if what we moved was not the lock we judged, put it
 * back. False when another waiter moved it first (or it cannot be moved).
 */
function breakLock(file: string, judged: string | null): boolean {
  const aside = `${file}.broken-${randomBytes(4).toString('hex')}`;
  try {
    fs.renameSync(file, aside); // atomic: of several waiters, one wins
  } catch {
    return false;
  }
  const moved = readText(aside);
  if (judged !== null && moved !== null && parseHolder(moved)?.token !== parseHolder(judged)?.token) {
    try {
      fs.linkSync(aside, file); // a new holder's lock: restore it unless yet another exists
    } catch {}
  }
  fs.rmSync(aside, { force: true });
  return true;
}

/**
 * Take the lock, waiting for a live holder to finish (or its lease to expire). Throws
 * LockTimeoutError after `timeoutMs`.
 */
export async function lock(file: string, opts: LockOptions | ((h: Holder) => void) = {}): Promise<() => void> {
  const o: LockOptions = typeof opts === 'function' ? { onWait: (h) => opts(h) } : opts;
  const leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
  const timeoutMs = o.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const t0 = Date.now();
  let toldToken: string | null = null;
  let last: Holder | null = null;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    const r = tryLock(file, leaseMs);
    if (typeof r === 'function') return r;
    if (r.pid > 0) last = r;
    if (o.onWait && r.pid > 0 && r.token !== toldToken) {
      toldToken = r.token;
      o.onWait(r, file);
    }
    if (Date.now() - t0 >= timeoutMs) {
      const who = last ? describeHolder(last) : 'another process';
      throw new LockTimeoutError(
        `gave up after ${((Date.now() - t0) / 1000).toFixed(0)} s waiting for the lock ${file}, held by ${who}` +
          (last ? ` (lease until ${new Date(last.expires).toISOString()})` : ''),
        `if no process is building it, delete ${file}${o.advice ? `; ${o.advice}` : ''}`,
      );
    }
    await new Promise((res) => setTimeout(res, Math.min(delay, Math.max(1, timeoutMs - (Date.now() - t0)))));
  }
}

/** A line for a waiting run: who holds the lock, since when, and how to clear it. */
export function waitMessage(h: Holder, file: string, what: string): string {
  const left = Math.max(0, (h.expires - Date.now()) / 1000);
  return `  waiting for ${describeHolder(h)}, building ${what} (lock ${file}; lease renewed until ${left.toFixed(0)} s from now; if that process is gone, delete the lock file)`;
}
