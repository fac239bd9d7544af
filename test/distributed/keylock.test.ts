// The Redis key lock (lib/queue/keylock.ts) against a real redis-server on loopback: one
// holder at a time per key; a holder whose event loop is blocked (a training stage) keeps
// its lock, renewed from the worker thread; a dead holder's lock expires and a waiter
// takes it; release never deletes someone else's lock.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RedisKeyLock } from '../../lib/queue/keylock.ts';
import { missing, startRedis, type Server } from '../helpers/servers.ts';

const why = missing();
if (why) console.log(`skipping key lock tests: ${why}`);

describe.skipIf(!!why)('Redis key lock', () => {
  let redis: Server;
  let client: Redis;
  const lockers: RedisKeyLock[] = [];
  const make = (ttlMs: number) => {
    const l = new RedisKeyLock(redis.url, { ttlMs, pollMs: 20, warn: () => {} });
    lockers.push(l);
    return l;
  };

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    for (const l of lockers) await l.close();
    client?.disconnect();
    await redis?.stop();
  });

  it('one holder at a time per key; other keys are free', async () => {
    const a = make(5000);
    const b = make(5000);
    const order: string[] = [];
    const relA = await a.lock('train', 'k1');
    let told = '';
    const waiting = b.lock('train', 'k1', (h) => (told = h)).then((rel) => {
      order.push('b got it');
      return rel;
    });
    const other = await b.lock('train', 'k2'); // a different key does not wait
    await new Promise((r) => setTimeout(r, 150));
    expect(order).toEqual([]);
    expect(told).toMatch(new RegExp(`^process .* pid ${process.pid}$`));
    order.push('a releases');
    await relA();
    const relB = await waiting;
    expect(order).toEqual(['a releases', 'b got it']);
    expect(b.waited).toBe(1);
    await relB();
    await other();
    expect(await client.keys('total-interp:lock:*')).toEqual([]);
  });

  it('a holder blocked for several lifetimes keeps its lock (renewed from a thread)', async () => {
    const a = make(300);
    const rel = await a.lock('train', 'busy');
    await new Promise((r) => setTimeout(r, 50)); // the thread has its instructions
    const end = performance.now() + 1200; // 4 lifetimes of synchronous work, like a training loop
    while (performance.now() < end) {
      /* spin */
    }
    expect(await client.pttl('total-interp:lock:train:busy')).toBeGreaterThan(0);
    await rel();
    expect(await client.exists('total-interp:lock:train:busy')).toBe(0);
  });

  it("a dead holder's lock expires and a waiter takes it; a late release does not delete the new holder's", async () => {
    const dead = make(400);
    const relDead = await dead.lock('train', 'crash');
    await dead.close(); // renewal stops, as when the process is killed
    const t0 = Date.now();
    const b = make(400);
    const relB = await b.lock('train', 'crash');
    expect(Date.now() - t0).toBeGreaterThan(150);
    void relDead;
    expect(await client.get('total-interp:lock:train:crash')).toMatch(/pid \d+ [0-9a-f]{12}$/);
    await relB();
    expect(await client.exists('total-interp:lock:train:crash')).toBe(0);
    // Release checks the token: a holder whose lock expired and was taken deletes nothing.
    const c = make(5000);
    const relC = await c.lock('train', 'late');
    await client.set('total-interp:lock:train:late', 'another machine');
    await relC();
    expect(await client.get('total-interp:lock:train:late')).toBe('another machine');
  });
});
