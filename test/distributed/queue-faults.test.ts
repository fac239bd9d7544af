// The queue against a hostile Redis writer and an unlucky operator, with real redis-server
// on loopback and `pipeline.ts worker` processes of a project copy:
//   - crafted jobs (data.path=/etc/shadow, model.source=a secret file, data.url=a local
//     server) are refused at submit and at the worker with a clear reason, and nothing they
//     name is read: every process of the worker runs under test/helpers/fs-spy.mjs, and the
//     URL's server counts requests;
//   - a job whose submitter has no heartbeat, or whose data hash is not what the worker
//     reads, is refused;
//   - SIGKILL of a worker's main process: its job process exits and its key lock goes;
//   - the submitter: Redis stopped gives one clear error after TOTAL_INTERP_QUEUE_GONE_MS,
//     Redis restarted empty one at once, and SIGTERM removes its jobs from the queue.

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, QueueEvents, Job } from 'bullmq';
import { Redis } from 'ioredis';
import { Pipeline, type Overrides } from '../../lib/engine/pipeline.ts';
import { submitSweep } from '../../lib/queue/submit.ts';
import { jobParamProblems } from '../../lib/queue/guard.ts';
import { QUEUE_NAME, submitterKey } from '../../lib/queue/types.ts';
import { copyProject } from '../helpers/project.ts';
import { missing, startRedis, type Server } from '../helpers/servers.ts';

const why = missing();
if (why) console.log(`skipping the queue fault tests: ${why}`);

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SPY = fileURLToPath(new URL('../helpers/fs-spy.mjs', import.meta.url));
const MARK = 'TI-SENTINEL';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Proc {
  proc: ChildProcess;
  out: () => string;
}

describe.skipIf(!!why)('queue faults: crafted jobs, dead workers, lost Redis, dead submitters', () => {
  let redis: Server;
  let dir: string;
  let tmp: string;
  let spyLog: string;
  let sentinelDir: string;
  let p: Pipeline;
  let hits = 0;
  let web: http.Server;
  let webUrl: string;
  const procs: ChildProcess[] = [];

  const baseEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TOTAL_INTERP_') && k !== 'ENWIK9' && k !== 'NODE_OPTIONS')) as Record<string, string>;

  function spawnCli(args: string[], env: Record<string, string>): Proc {
    const proc = spawn(process.execPath, ['--import', tsxLoader, path.join(dir, 'pipeline.ts'), ...args], { cwd: dir, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(proc);
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    return { proc, out: () => out };
  }

  async function startWorker(url: string, name: string, extra: Record<string, string> = {}): Promise<Proc> {
    const w = spawnCli(['worker', '--queue', url], {
      TOTAL_INTERP_CACHE: path.join(tmp, `cache-${name}`),
      TOTAL_INTERP_QUEUE_LOCK_MS: '2000',
      TOTAL_INTERP_WORKER_CONCURRENCY: '1',
      NODE_OPTIONS: `--import ${SPY}`,
      TI_FS_SPY_LOG: spyLog,
      TI_FS_SPY_MATCH: MARK,
      ...extra,
    });
    const t0 = Date.now();
    while (!/waiting for jobs/.test(w.out())) {
      if (w.proc.exitCode !== null) throw new Error(`worker ${name} exited:\n${w.out()}`);
      if (Date.now() - t0 > 30_000) throw new Error(`worker ${name} did not start:\n${w.out()}`);
      await sleep(100);
    }
    return w;
  }

  const exited = (proc: ChildProcess) => (proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', r)));

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-qfault-'));
    sentinelDir = path.join(tmp, MARK);
    fs.mkdirSync(sentinelDir);
    fs.writeFileSync(path.join(sentinelDir, 'secret'), 'a secret the worker must never read\n', { mode: 0o600 });
    spyLog = path.join(tmp, 'spy.log');
    dir = copyProject();
    const STAGES = (await import(pathToFileURL(path.join(dir, 'pipeline.ts')).href)).STAGES;
    p = await Pipeline.load({ root: dir, stageFiles: STAGES, cacheDir: path.join(tmp, 'cache-submitter'), reportsDir: path.join(tmp, 'reports'), env: {} });
    web = http.createServer((_req, res) => {
      hits++;
      res.end('x');
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    webUrl = `http://127.0.0.1:${(web.address() as { port: number }).port}/${MARK}/enwik9.zip`;
    redis = await startRedis();
  }, 60_000);

  afterAll(async () => {
    for (const proc of procs) {
      if (proc.exitCode !== null || proc.signalCode !== null) continue;
      proc.kill('SIGKILL');
      await exited(proc);
    }
    await redis?.stop();
    web?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const CRAFTED = (): { label: string; overrides: Overrides; want: RegExp }[] => [
    { label: 'shadow', overrides: { data: { path: '/etc/shadow' } }, want: /data\.path="\/etc\/shadow" names a file/ },
    { label: 'secret', overrides: { model: { source: path.join(sentinelDir, 'secret') } }, want: /model\.source=".*TI-SENTINEL.*" names a file/ },
    { label: 'sentinel', overrides: { data: { path: path.join(sentinelDir, 'enwik9') } }, want: /data\.path=".*" names a file/ },
    { label: 'url', overrides: { data: { bytes: 4096, url: webUrl } }, want: /data\.url is a URL/ },
  ];

  it('the guard: file and URL params are refused, values pass', () => {
    for (const c of CRAFTED()) expect(jobParamProblems(p, c.overrides).join('; ')).toMatch(c.want);
    expect(jobParamProblems(p, { model: { source: 'paper' }, train: { seed: 3, hidden: 8 }, data: { bytes: 2048, path: null } })).toEqual([]);
    expect(jobParamProblems(p, { model: { source: 'ftp://x/y' } })[0]).toMatch(/is a URL/);
    expect(jobParamProblems(p, { nope: {} })).toEqual(['unknown stage "nope"']);
    expect(jobParamProblems(p, [1])).toEqual(['its overrides are not an object of stage params']);
  });

  it('crafted points are refused at submit, before the queue is reached and before anything is read', async () => {
    for (const c of CRAFTED()) {
      // port 1: had the submitter got as far as the queue, the error would be "cannot reach"
      await expect(submitSweep([{ label: c.label, overrides: c.overrides, targets: ['model'] }], { queue: 'redis://127.0.0.1:1', pipeline: p })).rejects.toThrow(c.want);
    }
    expect(hits).toBe(0);
  });

  it('crafted jobs written straight into Redis are refused by the worker, once, and nothing they name is read', async () => {
    // The control: the spy does see a read of a sentinel path (a plain run on it).
    const control = spawnCli(['run', 'data', '--set', `data.path=${path.join(sentinelDir, 'enwik9')}`], { TOTAL_INTERP_CACHE: path.join(tmp, 'cache-control'), NODE_OPTIONS: `--import ${SPY}`, TI_FS_SPY_LOG: path.join(tmp, 'control.log'), TI_FS_SPY_MATCH: MARK });
    await exited(control.proc);
    expect(control.proc.exitCode, control.out()).toBe(2);
    expect(fs.readFileSync(path.join(tmp, 'control.log'), 'utf8')).toMatch(/TI-SENTINEL\/enwik9/);

    const worker = await startWorker(redis.url, 'guard');
    const queue = new Queue(QUEUE_NAME, { connection: { url: redis.url } });
    const events = new QueueEvents(QUEUE_NAME, { connection: { url: redis.url } });
    const r = new Redis(redis.url);
    try {
      await events.waitUntilReady();
      const live = 'ab'.repeat(12);
      await r.set(submitterKey(live), 'test', 'PX', 60_000); // a live submitter: the params alone refuse these
      const reasons: string[] = [];
      for (const c of CRAFTED()) {
        const job = await queue.add('point', { label: c.label, overrides: c.overrides, targets: ['model'], submitter: live, data: { sha256: '0'.repeat(64) } }, { attempts: 3, backoff: { type: 'fixed', delay: 100 } });
        await expect(job.waitUntilFinished(events)).rejects.toThrow(c.want);
        const done = (await Job.fromId(queue, job.id!))!;
        expect(done.attemptsMade, c.label).toBe(1); // refused for good, not retried
        reasons.push(done.failedReason);
      }
      expect(reasons.every((x) => /^refused job \w+: /.test(x))).toBe(true);
      // No heartbeat: refused. A wrong data hash: the worker reads its own data, then refuses.
      const orphan = await queue.add('point', { label: 'orphan', overrides: {}, targets: ['data'], submitter: 'cd'.repeat(12), data: { sha256: '0'.repeat(64) } }, { attempts: 2 });
      await expect(orphan.waitUntilFinished(events)).rejects.toThrow(/refused job orphan: its submitter is gone/);
      const wrong = await queue.add('point', { label: 'wrong', overrides: {}, targets: ['data'], submitter: live, data: { sha256: '0'.repeat(64) } }, { attempts: 2 });
      await expect(wrong.waitUntilFinished(events)).rejects.toThrow(/point wrong: the data this worker read \(sha256 [0-9a-f]{16}…\) is not the data the submitter named/);
      const bare = await queue.add('point', { label: 'bare', overrides: {}, targets: ['data'] }, { attempts: 2 });
      await expect(bare.waitUntilFinished(events)).rejects.toThrow(/refused job bare: it names no submitter/);
    } finally {
      await Promise.allSettled([queue.close(), events.close()]);
      r.disconnect();
    }
    expect(fs.existsSync(spyLog) ? fs.readFileSync(spyLog, 'utf8') : '').toBe('');
    expect(hits).toBe(0);
    expect(fs.existsSync(path.join(tmp, 'cache-guard', 'entries', 'model'))).toBe(false);
    expect(worker.out()).not.toMatch(/a secret/);
    worker.proc.kill('SIGTERM');
    await exited(worker.proc);
  }, 90_000);

  it('SIGKILL of a worker main process: its job process exits and its key lock is released', async () => {
    const worker = await startWorker(redis.url, 'victim');
    const r = new Redis(redis.url);
    try {
      const points = [{ label: 'long', overrides: { train: { hidden: 32, epochs: 20000 } }, targets: ['train'] }];
      const done = submitSweep(points, { queue: redis.url, pipeline: p, onEvent: () => {}, attempts: 1, signals: false, goneMs: 60_000 });
      done.catch(() => {});
      const t0 = Date.now();
      let keys: string[] = [];
      while (!(keys = (await r.keys('total-interp:lock:train:*'))).length) {
        if (Date.now() - t0 > 60_000) throw new Error(`train never started:\n${worker.out()}`);
        await sleep(100);
      }
      const kids = spawnSync('pgrep', ['-P', String(worker.proc.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
      expect(kids.length).toBeGreaterThan(0);
      worker.proc.kill('SIGKILL'); // the main process alone, as the operator did
      const t1 = Date.now();
      const alive = () => kids.filter((k) => {
        try {
          process.kill(k, 0);
          return true;
        } catch {
          return false;
        }
      });
      while (alive().length || (await r.exists(keys[0]))) {
        if (Date.now() - t1 > 10_000) throw new Error(`after 10 s: job processes alive ${alive().join(',')}, lock ${await r.exists(keys[0]) ? 'still held' : 'gone'}`);
        await sleep(100);
      }
      // Gone well before the lock's 2 s lease would have let it expire on its own, plus renewal.
      expect(Date.now() - t1).toBeLessThan(5000);
      // The sweep's job is still queued: drop it (its submitter removes it).
      const q = new Queue(QUEUE_NAME, { connection: { url: redis.url } });
      await q.obliterate({ force: true });
      await q.close();
      await expect(done).rejects.toThrow(/the sweep's jobs are gone from the queue/);
    } finally {
      r.disconnect();
    }
  }, 120_000);

  async function submitterCli(url: string, extra: Record<string, string>): Promise<Proc> {
    const s = spawnCli(['report', '--seeds', '46', '--set', 'train.hidden=8', '--set', 'train.epochs=5', '--queue', url, '--remote-cache', 'http://127.0.0.1:1/cache'], { TOTAL_INTERP_CACHE: path.join(tmp, 'cache-cli'), ...extra });
    const r = new Redis(url);
    const q = new Queue(QUEUE_NAME, { connection: { url } });
    q.on('error', () => {});
    const t0 = Date.now();
    try {
      while (!(await r.keys('total-interp:submitter:*')).length || !(await q.getJobCounts('waiting')).waiting) {
        if (s.proc.exitCode !== null) throw new Error(`submitter exited:\n${s.out()}`);
        if (Date.now() - t0 > 30_000) throw new Error(`submitter never queued:\n${s.out()}`);
        await sleep(100);
      }
    } finally {
      r.disconnect();
      await q.close();
    }
    return s;
  }

  it('Redis stopped: the submitter gives up after TOTAL_INTERP_QUEUE_GONE_MS with one clear error, no stack dumps', async () => {
    const red = await startRedis();
    try {
      const s = await submitterCli(red.url, { TOTAL_INTERP_QUEUE_GONE_MS: '2000' });
      const t0 = Date.now();
      await red.stop();
      await exited(s.proc);
      expect(s.proc.exitCode, s.out()).toBe(1);
      expect(Date.now() - t0).toBeLessThan(12_000);
      expect(s.out()).toMatch(/\nerror: the queue at redis:\/\/127\.0\.0\.1:\d+ has not answered for \d+ s; giving up\nhint: .*TOTAL_INTERP_QUEUE_GONE_MS/);
      expect(s.out()).not.toMatch(/Unhandled error event|^\s+at /m);
    } finally {
      await red.stop();
    }
  }, 60_000);

  it('Redis restarted empty: the submitter stops at once instead of waiting forever', async () => {
    const red = await startRedis();
    let again: Server | undefined;
    try {
      const s = await submitterCli(red.url, { TOTAL_INTERP_QUEUE_GONE_MS: '60000' });
      await red.stop();
      again = await startRedis({ port: red.port });
      await exited(s.proc);
      expect(s.proc.exitCode, s.out()).toBe(1);
      expect(s.out()).toMatch(/\nerror: the sweep's jobs are gone from the queue at redis:\/\/127\.0\.0\.1:\d+ \(Redis restarted empty/);
      expect(s.out()).not.toMatch(/Unhandled error event|^\s+at /m);
    } finally {
      await Promise.all([red.stop(), again?.stop()]);
    }
  }, 60_000);

  it('a submitter stopped by SIGTERM removes its jobs; one killed by SIGKILL leaves jobs no worker builds', async () => {
    const red = await startRedis();
    const r = new Redis(red.url);
    try {
      const s = await submitterCli(red.url, {});
      s.proc.kill('SIGTERM');
      await exited(s.proc);
      expect(s.out()).toMatch(/\nerror: stopped by SIGTERM: the sweep's jobs were removed from the queue/);
      const q = new Queue(QUEUE_NAME, { connection: { url: red.url } });
      q.on('error', () => {});
      const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'waiting-children', 'prioritized');
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
      expect(await r.keys('total-interp:submitter:*')).toEqual([]);

      // SIGKILL: nothing is cleaned up, but the heartbeat expires and the worker refuses the point.
      const k = await submitterCli(red.url, { TOTAL_INTERP_QUEUE_HEARTBEAT_MS: '1000' });
      k.proc.kill('SIGKILL');
      await exited(k.proc);
      await sleep(1500);
      expect(await r.keys('total-interp:submitter:*')).toEqual([]);
      const w = await startWorker(red.url, 'late');
      const t0 = Date.now();
      while (!/seed=46 failed: refused job seed=46: its submitter is gone/.test(w.out())) {
        if (Date.now() - t0 > 30_000) throw new Error(`the worker did not refuse the dead submitter's point:\n${w.out()}`);
        await sleep(100);
      }
      expect(w.out()).not.toMatch(/\[seed=46\] (ran|building)/);
      w.proc.kill('SIGTERM');
      await exited(w.proc);
      await q.close();
    } finally {
      r.disconnect();
      await red.stop();
    }
  }, 90_000);
});
