// The renewer: one worker thread per process that renews every lease this process holds
// every lease/3. It keeps running while the main thread is inside a long synchronous stage
// (a 60 s training kernel cannot starve it).

import { Worker } from 'node:worker_threads';
import { RECORD_BYTES } from './lease.ts';

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
export function getRenewer() {
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

/** Run `f` holding the mutex the renewer takes while it rewrites a record. */
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
