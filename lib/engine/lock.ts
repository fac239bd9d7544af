// A lock file per (stage, key) so that two pipeline processes on one cache never build the
// same result at once: the second waits, then finds the first one's result in the cache.
//
// The lock is a lease. The file names its holder (pid, host, since, a random token) and
// when its lease expires; the holder renews it every lease/3 from a worker thread, which
// keeps running while the main thread is inside a long synchronous stage (a 60 s training
// kernel cannot starve it). A lock is stale, and is broken, when
//   - its lease has expired (by the time written in it, or, against clock skew between
//     hosts, because its contents have not changed for a whole lease as this process saw
//     it), whatever its pid or host: a zombie, a reused pid or a dead host cannot hold it;
//   - or its holder is on this host and its pid is gone (a killed run frees the lock at once).
// Breaking is a rename to a unique name, so of several waiters exactly one breaks it.
// A waiter says who holds the lock, since when, and how to clear it; it gives up with an
// error after `timeoutMs`.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';

export interface Holder {
  pid: number;
  host: string;
  since: string;
  /** Random id of this holding (a pid can be reused; a token cannot). */
  token: string;
  leaseMs: number;
  /** Epoch ms (holder's clock) after which the lock is stale unless renewed. */
  expires: number;
}

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

export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_LOCK_TIMEOUT_MS = 2 * 3600_000;
/** Lock records are padded to this size and renewed in place (never re-created). */
const RECORD_BYTES = 512;

export class LockTimeoutError extends Error {
  readonly reason = 'lock-timeout';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * The holder a lock file names, or null while it is unreadable. A lock written before
 * leases existed ({pid, host, since}) gets a lease from its mtime: it was never renewed.
 */
function parseHolder(text: string | null, file?: string): Holder | null {
  if (text === null) return null;
  try {
    const h = JSON.parse(text);
    if (typeof h?.pid !== 'number' || typeof h.host !== 'string') return null;
    if (typeof h.expires !== 'number') {
      const st = file ? fs.statSync(file, { throwIfNoEntry: false }) : undefined;
      return { since: '', ...h, token: `legacy-${h.pid}`, leaseMs: DEFAULT_LEASE_MS, expires: (st?.mtimeMs ?? 0) + DEFAULT_LEASE_MS };
    }
    return h;
  } catch {
    return null;
  }
}

export function readHolder(file: string): Holder | null {
  return parseHolder(readText(file), file);
}

function record(h: Holder): Buffer {
  const text = JSON.stringify(h);
  return Buffer.from(text.padEnd(Math.max(RECORD_BYTES, text.length + 1), ' '));
}

function writeAll(fd: number, buf: Buffer, position: number | null): void {
  let off = 0;
  while (off < buf.byteLength) {
    const n = fs.writeSync(fd, buf, off, buf.byteLength - off, position === null ? null : position + off);
    if (n <= 0) throw Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC' });
    off += n;
  }
}

// ---- the renewer: one worker thread per process, renewing every lock this process holds ----

// Plain JavaScript, run with `eval` and no loader. A shared mutex (Int32Array[0]) is held
// while a record is rewritten, so a release on the main thread never races a renewal.
const RENEWER = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const m = new Int32Array(workerData.mutex);
const held = new Map();
function acquire() { while (Atomics.compareExchange(m, 0, 0, 1) !== 0) Atomics.wait(m, 0, 1, 5); }
function release() { Atomics.store(m, 0, 0); Atomics.notify(m, 0); }
function renew(file, h) {
  acquire();
  try {
    const fd = fs.openSync(file, 'r+');
    try {
      const buf = Buffer.alloc(${RECORD_BYTES * 4});
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      let cur = null;
      try { cur = JSON.parse(buf.subarray(0, n).toString('utf8')); } catch {}
      if (!cur || cur.token !== h.token) { held.delete(file); return; }
      const next = { ...h, expires: Date.now() + h.leaseMs };
      const text = JSON.stringify(next);
      const out = Buffer.from(text.padEnd(Math.max(${RECORD_BYTES}, n), ' '));
      let off = 0;
      while (off < out.length) { const w = fs.writeSync(fd, out, off, out.length - off, off); if (w <= 0) break; off += w; }
    } finally { fs.closeSync(fd); }
  } catch { held.delete(file); } finally { release(); }
}
parentPort.on('message', (msg) => {
  if (msg.type === 'hold') {
    const h = msg.holder;
    const timer = setInterval(() => renew(msg.file, h), Math.max(10, Math.floor(h.leaseMs / 3)));
    held.set(msg.file, { h, timer });
  } else if (msg.type === 'drop') {
    const x = held.get(msg.file);
    if (x) clearInterval(x.timer);
    held.delete(msg.file);
  }
});
`;

let renewer: { worker: Worker; mutex: Int32Array } | null = null;
function getRenewer() {
  if (!renewer) {
    const sab = new SharedArrayBuffer(4);
    const worker = new Worker(RENEWER, { eval: true, execArgv: [], workerData: { mutex: sab } });
    worker.unref();
    worker.on('error', () => {
      renewer = null;
    });
    renewer = { worker, mutex: new Int32Array(sab) };
  }
  return renewer;
}

function withMutex<T>(f: () => T): T {
  const r = renewer;
  if (!r) return f();
  while (Atomics.compareExchange(r.mutex, 0, 0, 1) !== 0) Atomics.wait(r.mutex, 0, 1, 5);
  try {
    return f();
  } finally {
    Atomics.store(r.mutex, 0, 0);
    Atomics.notify(r.mutex, 0);
  }
}

// ---- taking and breaking ----

/** When a waiter first saw each lock's current contents, by its own clock (clock-skew guard). */
const seen = new Map<string, { text: string; at: number }>();

/** Why a lock is stale, or null while its holder holds it. */
export function staleness(file: string, h: Holder, now = Date.now()): string | null {
  if (now > h.expires) return `its lease expired ${((now - h.expires) / 1000).toFixed(1)} s ago`;
  if (h.host === os.hostname() && !alive(h.pid)) return `process ${h.pid} is gone`;
  const text = JSON.stringify(h);
  const s = seen.get(file);
  if (!s || s.text !== text) seen.set(file, { text, at: now });
  else if (now - s.at > h.leaseMs) return `it has not been renewed for ${((now - s.at) / 1000).toFixed(1)} s`;
  return null;
}

/** Try once. Returns a release function, or the current holder. */
export function tryLock(file: string, leaseMs = DEFAULT_LEASE_MS): (() => void) | Holder {
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
    const r = getRenewer();
    r.worker.postMessage({ type: 'hold', file, holder: me });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      withMutex(() => {
        if (readHolder(file)?.token === me.token) fs.rmSync(file, { force: true });
      });
      r.worker.postMessage({ type: 'drop', file });
    };
  }
  const text = readText(file);
  const holder = parseHolder(text, file);
  if (holder === null) {
    // Being written right now, or left damaged: stale once nobody has touched it for a while.
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (st && now - st.mtimeMs > 5000) breakLock(file, text);
    return { pid: -1, host: '?', since: '', token: '', leaseMs, expires: now + leaseMs };
  }
  if (staleness(file, holder, now) && breakLock(file, text)) return tryLock(file, leaseMs);
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

function describeHolder(h: Holder): string {
  const age = h.since ? ` since ${h.since}` : '';
  return `process ${h.pid} on host ${h.host}${age}`;
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
          (last ? ` (lease until ${new Date(last.expires).toISOString()})` : '') +
          `\nhint: if no process is building it, delete ${file}${o.advice ? `; ${o.advice}` : ''}`,
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

/** Locks in `dir` whose holders still hold them, as "name (pid N on host H)". */
export function liveLocks(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.lock')) continue;
    const file = path.join(dir, f);
    const h = readHolder(file);
    if (h && !staleness(file, h)) out.push(`${f.slice(0, -5)} (pid ${h.pid} on ${h.host})`);
  }
  return out;
}
