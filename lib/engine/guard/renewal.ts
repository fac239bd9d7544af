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
  }
  return renewer;
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
