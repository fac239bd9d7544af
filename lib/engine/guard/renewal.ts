// The main thread's side of the renewal thread (renew-thread.mjs): one thread per process
// renews every lease the process holds, file leases (lock.ts) and Redis leases
// (lib/queue/keylock.ts) alike, while the main thread may be inside a long synchronous stage.

import { Worker } from 'node:worker_threads';
import { RECORD_BYTES } from './lease.ts';

export interface Renewer {
  worker: Worker;
  /** Held while a lease record is rewritten (see withMutex). */
  mutex: Int32Array;
}

let renewer: Renewer | null = null;

/** The renewal thread, started on first use (a plain .mjs module: no loader, no tsx round trip). */
export function getRenewer(): Renewer {
  if (!renewer) {
    const sab = new SharedArrayBuffer(4);
    const worker = new Worker(new URL('./renew-thread.mjs', import.meta.url), { execArgv: [], workerData: { mutex: sab, recordBytes: RECORD_BYTES } });
    worker.unref();
    worker.on('error', () => {
      renewer = null;
    });
    renewer = { worker, mutex: new Int32Array(sab) };
    // Leases held lazily so far go to the thread with it.
    for (const [file, p] of [...lazy]) handOver(file, p);
  }
  return renewer;
}

/**
 * File leases held without the thread yet: starting a thread costs more CPU than the rest of
 * a no-op build (a new isolate), and a lease needs renewing only after a third of it. Each is
 * handed to the thread when that third has passed: by its timer, by renewDue (which a build
 * calls between stages, as a long synchronous stretch keeps timers from firing), or when the
 * thread starts for another lease (every stage lock starts it before a stage runs).
 */
interface Lazy {
  holder: { leaseMs: number };
  due: number;
  timer: NodeJS.Timeout;
}
const lazy = new Map<string, Lazy>();

function handOver(file: string, p: Lazy): void {
  clearTimeout(p.timer);
  lazy.delete(file);
  renewer!.worker.postMessage({ op: 'hold-file', file, holder: p.holder });
}

/** Renew a file lease from the thread: now, or (lazily) once a third of its lease has passed. */
export function renewFile(file: string, holder: { leaseMs: number }, lazily = false): void {
  if (!lazily || renewer) {
    getRenewer().worker.postMessage({ op: 'hold-file', file, holder });
    return;
  }
  const after = holder.leaseMs / 3;
  const timer = setTimeout(() => renewDue(true), after);
  timer.unref();
  lazy.set(file, { holder, due: Date.now() + after, timer });
}

/** Stop renewing a file lease (its file is gone). */
export function dropFile(file: string): void {
  const p = lazy.get(file);
  if (p) {
    clearTimeout(p.timer);
    lazy.delete(file);
  } else renewer?.worker.postMessage({ op: 'drop-file', file });
}

/** Start the thread if a lease held lazily is due (or, `now`, if any is held). */
export function renewDue(now = false): void {
  const t = Date.now();
  if ([...lazy.values()].some((p) => now || p.due <= t)) getRenewer();
}

/** Run `f` holding the mutex the renewal thread takes while it rewrites a record. */
export function withMutex<T>(f: () => T): T {
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
