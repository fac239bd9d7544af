// The renewal thread of keylock.ts. Stages are long synchronous computations (training)
// that block their process's event loop, so a lock renewed by a timer on that loop would
// expire mid-build and let another machine build the same key. This thread has its own
// event loop and its own Redis connection: it extends every lock it is told about every
// ttl/3 ms, as long as the lock still holds our token. Plain JavaScript: no loader needed.
//
// With exitWithParent (a worker's job process), it also watches the parent: once the
// process has been re-parented (the worker died), it releases every lock it holds and kills
// the process. The main thread may be inside a minutes-long stage and never see the IPC
// channel close; this thread runs regardless.

import { parentPort, workerData } from 'node:worker_threads';
import { Redis } from 'ioredis';

const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
const redis = new Redis(workerData.url, { maxRetriesPerRequest: 1, enableOfflineQueue: true });
redis.on('error', () => {}); // the main thread reports connection problems
redis.on('ready', () => parentPort.postMessage({ op: 'ready' }));
const held = new Map(); // name -> { token, ttl }
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const parent = process.ppid;
let dying = false;

async function orphaned() {
  dying = true;
  const all = [...held];
  held.clear();
  await Promise.race([Promise.all(all.map(([name, { token }]) => redis.eval(RELEASE, 1, name, token).catch(() => {}))), new Promise((r) => setTimeout(r, 2000))]);
  process.kill(process.pid, 'SIGKILL'); // the whole process: its main thread may be blocked
}

if (workerData.exitWithParent) {
  setInterval(() => {
    if (!dying && process.ppid !== parent) void orphaned();
  }, Math.min(500, workerData.everyMs)).unref();
}

parentPort.on('message', (m) => {
  if (m.op === 'add') held.set(m.name, { token: m.token, ttl: m.ttl });
  else if (m.op === 'del') held.delete(m.name);
});

setInterval(async () => {
  if (dying) return;
  for (const [name, { token, ttl }] of held) {
    try {
      const ok = await redis.eval(RENEW, 1, name, token, String(ttl));
      if (!ok && held.get(name)?.token === token) {
        held.delete(name);
        parentPort.postMessage({ op: 'lost', name });
      }
    } catch {
      /* transient: next tick */
    }
  }
}, workerData.everyMs);
