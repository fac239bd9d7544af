// A key-level lock in Redis, so that two machines never build the same stage key at the
// same time (the file locks of lock.ts only see one machine). Around each stage build,
// when a queue is in use: SET total-interp:lock:<stage>:<key> <token> NX PX ttl. The
// holder's renewal runs in the process's renewal thread (lib/engine/guard/renew-thread.mjs,
// which renews the file leases too), so a stage that blocks the
// event loop for minutes keeps its lock; a holder that dies stops renewing and its lock
// expires after ttl, so a waiter takes over. Release deletes the key only if it still
// holds our token.
//
// The waiter then pulls the holder's result from the remote cache (the pipeline asks the
// remote again after taking the lock), which is why the holder pushes before releasing.

import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { getRenewer } from '../engine/guard/renewal.ts';

const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export interface KeyLockOptions {
  /** Lock lifetime without renewal (ms). A dead holder's lock is taken over after this. */
  ttlMs?: number;
  /** Poll interval while waiting (ms). */
  pollMs?: number;
  prefix?: string;
  /** Told when a held lock was lost (expired before renewal: the process was stalled longer than ttl). */
  warn?: (m: string) => void;
  /**
   * This process is a worker's child: when the renewal thread sees the parent gone (the
   * process was re-parented), it releases every lock held and kills the process, even while
   * a stage blocks the main thread.
   */
  exitWithParent?: boolean;
}

let connections = 0;

export class RedisKeyLock {
  readonly ttlMs: number;
  private redis: Redis;
  private pollMs: number;
  private prefix: string;
  private renewer: Worker | null = null;
  private renewerReady: Promise<Worker> | null = null;
  private detach: () => void = () => {};
  /** This lock's connection in the renewal thread (one per RedisKeyLock, even to one server). */
  private readonly conn = `keylock-${++connections}`;
  private url: string;
  private warn: (m: string) => void;
  private exitWithParent: boolean;
  /** Locks held now: name -> token. */
  private held = new Map<string, string>();
  /** Locks taken (for tests: how many builds were guarded). */
  acquired = 0;
  /** Times a lock was found held by someone else. */
  waited = 0;

  constructor(url: string, opts: KeyLockOptions = {}) {
    this.url = url;
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.pollMs = opts.pollMs ?? 200;
    this.prefix = opts.prefix ?? 'total-interp:lock:';
    this.warn = opts.warn ?? ((m) => process.stderr.write(`warning: ${m}\n`));
    this.exitWithParent = opts.exitWithParent ?? false;
    this.redis = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: false });
    this.redis.on('error', () => {});
  }

  /** The renewal thread, once it has its own connection to this Redis up. */
  private thread(): Promise<Worker> {
    if (!this.renewerReady) {
      const w = getRenewer().worker;
      this.renewer = w;
      this.renewerReady = new Promise((resolve, reject) => {
        const onMessage = (m: { op: string; conn?: string; name?: string }) => {
          if (m.conn !== this.conn) return;
          if (m.op === 'ready') resolve(w);
          else if (m.op === 'lost') this.warn(`lost the build lock ${m.name!.slice(this.prefix.length)} (not renewed in time); another machine may build it too`);
        };
        const onError = (e: Error) => {
          this.warn(`lock renewal thread failed: ${e.message}`);
          reject(e);
        };
        w.on('message', onMessage);
        w.on('error', onError);
        this.detach = () => {
          w.off('message', onMessage);
          w.off('error', onError);
        };
      });
      w.postMessage({ op: 'connect', conn: this.conn, url: this.url, everyMs: Math.max(50, Math.floor(this.ttlMs / 3)), exitWithParent: this.exitWithParent });
    }
    return this.renewerReady;
  }

  /** Wait for and take the lock on (stage, key); resolves with its release function. */
  async lock(stage: string, key: string, onWait?: (holder: string) => void): Promise<() => Promise<void>> {
    const name = `${this.prefix}${stage}:${key}`;
    const token = `${os.hostname()} pid ${process.pid} ${randomBytes(6).toString('hex')}`;
    const renewer = await this.thread(); // up before we hold anything it must renew
    let told = false;
    for (;;) {
      const ok = await this.redis.set(name, token, 'PX', this.ttlMs, 'NX');
      if (ok === 'OK') break;
      if (!told) {
        told = true;
        this.waited++;
        const holder = await this.redis.get(name);
        if (holder) onWait?.(`process ${holder.replace(/ [0-9a-f]{12}$/, '')}`);
      }
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
    this.acquired++;
    this.held.set(name, token);
    renewer.postMessage({ op: 'hold-redis', conn: this.conn, name, token, ttl: this.ttlMs });
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      this.held.delete(name);
      this.renewer?.postMessage({ op: 'drop-redis', conn: this.conn, name });
      await this.redis.eval(RELEASE, 1, name, token).catch(() => {});
    };
  }

  /** Release every lock this process holds (it is about to exit). */
  async releaseAll(): Promise<void> {
    const all = [...this.held];
    this.held.clear();
    for (const [name] of all) this.renewer?.postMessage({ op: 'drop-redis', conn: this.conn, name });
    await Promise.all(all.map(([name, token]) => this.redis.eval(RELEASE, 1, name, token).catch(() => {})));
  }

  /** Stop renewing on this connection (the thread stays: it may renew other leases). */
  async close(): Promise<void> {
    this.renewer?.postMessage({ op: 'disconnect', conn: this.conn });
    this.detach();
    this.renewer = null;
    this.renewerReady = null;
    this.redis.disconnect();
  }
}
