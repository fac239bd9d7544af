// The renewal thread of keylock.ts. Stages are long synchronous computations (training)
// that block their process's event loop, so a lock renewed by a timer on that loop would
// expire mid-build and let another machine build the same key. This thread has its own
// event loop and its own Redis connection: it extends every lock it is told about every
// ttl/3 ms, as long as the lock still holds our token. Plain JavaScript: no loader needed.

import { parentPort, workerData } from 'node:worker_threads';
import { Redis } from 'ioredis';

const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
const redis = new Redis(workerData.url, { maxRetriesPerRequest: 1, enableOfflineQueue: true });
redis.on('error', () => {}); // the main thread reports connection problems
redis.on('ready', () => parentPort.postMessage({ op: 'ready' }));
const held = new Map(); // name -> { token, ttl }

parentPort.on('message', (m) => {
  if (m.op === 'add') held.set(m.name, { token: m.token, ttl: m.ttl });
  else if (m.op === 'del') held.delete(m.name);
});

setInterval(async () => {
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
