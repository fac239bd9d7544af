// The renewal thread: one worker thread per process that renews every lease the process
// holds, whatever its backend. Stages are long synchronous computations (training) that
// block the main thread's event loop, so a lease renewed by a timer there would expire
// mid-build and let another process build the same key; this thread has its own loop.
// Plain JavaScript, loaded without tsx's loader (renewal.ts starts it).
//
//   file leases (guard/lock.ts): the lock file's record is rewritten with a later `expires`
//     every lease/3, as long as it still holds our token. A shared mutex (workerData.mutex,
//     Int32Array[0]) is held while a record is rewritten, so a release on the main thread
//     never races a renewal.
//   Redis leases (lib/queue/keylock.ts): the key's expiry is extended every ttl/3 as long as
//     the key still holds our token, on this thread's own connection (ioredis, loaded when
//     the first key lock connects). A lease found lost is reported: { op: 'lost', conn, name }.
//     With exitWithParent (a worker's job process), the thread also watches the parent: once
//     the process is re-parented (the worker died) it releases every Redis lease and kills
//     the process, even while a stage blocks the main thread.

import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const RECORD_BYTES = workerData.recordBytes;
const m = new Int32Array(workerData.mutex);
function acquire() {
  while (Atomics.compareExchange(m, 0, 0, 1) !== 0) Atomics.wait(m, 0, 1, 5);
}
function release() {
  Atomics.store(m, 0, 0);
  Atomics.notify(m, 0);
}

// ---- file leases ----
const files = new Map(); // file -> { h, timer }

function renewFile(file, h) {
  acquire();
  try {
    const fd = fs.openSync(file, 'r+');
    try {
      const buf = Buffer.alloc(RECORD_BYTES * 4);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      let cur = null;
      try {
        cur = JSON.parse(buf.subarray(0, n).toString('utf8'));
      } catch {}
      if (!cur || cur.token !== h.token) {
        dropFile(file);
        return;
      }
      const next = { ...h, expires: Date.now() + h.leaseMs };
      const out = Buffer.from(JSON.stringify(next).padEnd(Math.max(RECORD_BYTES, n), ' '));
      let off = 0;
      while (off < out.length) {
        const w = fs.writeSync(fd, out, off, out.length - off, off);
        if (w <= 0) break;
        off += w;
      }
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    dropFile(file);
  } finally {
    release();
  }
}

function dropFile(file) {
  const x = files.get(file);
  if (x) clearInterval(x.timer);
  files.delete(file);
}

// ---- Redis leases ----
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const servers = new Map(); // conn (one per key lock) -> { redis, held: Map(name -> { token, ttl }), timer }
const parent = process.ppid;
let dying = false;

async function connect({ conn, url, everyMs, exitWithParent }) {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: true });
  const s = { redis, held: new Map(), timer: null };
  servers.set(conn, s);
  redis.on('error', () => {}); // the main thread reports connection problems
  redis.on('ready', () => parentPort.postMessage({ op: 'ready', conn }));
  s.timer = setInterval(() => void renewRedis(conn, s), everyMs);
  if (exitWithParent) {
    setInterval(() => {
      if (!dying && process.ppid !== parent) void orphaned();
    }, Math.min(500, everyMs)).unref();
  }
}

async function renewRedis(conn, s) {
  if (dying) return;
  for (const [name, { token, ttl }] of s.held) {
    try {
      const ok = await s.redis.eval(RENEW, 1, name, token, String(ttl));
      if (!ok && s.held.get(name)?.token === token) {
        s.held.delete(name);
        parentPort.postMessage({ op: 'lost', conn, name });
      }
    } catch {
      /* transient: next tick */
    }
  }
}

async function orphaned() {
  dying = true;
  const all = [...servers.values()].flatMap((s) => [...s.held].map(([name, { token }]) => s.redis.eval(RELEASE, 1, name, token).catch(() => {})));
  for (const s of servers.values()) s.held.clear();
  await Promise.race([Promise.all(all), new Promise((r) => setTimeout(r, 2000))]);
  process.kill(process.pid, 'SIGKILL'); // the whole process: its main thread may be blocked
}

function disconnect(conn) {
  const s = servers.get(conn);
  if (!s) return;
  clearInterval(s.timer);
  s.redis.disconnect();
  servers.delete(conn);
}

parentPort.on('message', (msg) => {
  if (msg.op === 'hold-file') {
    const h = msg.holder;
    files.set(msg.file, { h, timer: setInterval(() => renewFile(msg.file, h), Math.max(10, Math.floor(h.leaseMs / 3))) });
  } else if (msg.op === 'drop-file') dropFile(msg.file);
  else if (msg.op === 'connect') void connect(msg);
  else if (msg.op === 'hold-redis') servers.get(msg.conn)?.held.set(msg.name, { token: msg.token, ttl: msg.ttl });
  else if (msg.op === 'drop-redis') servers.get(msg.conn)?.held.delete(msg.name);
  else if (msg.op === 'disconnect') disconnect(msg.conn);
});
