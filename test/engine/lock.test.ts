import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { lock, tryLock, waitMessage, LockTimeoutError } from '../../lib/engine/guard/lock.ts';
import { liveLocks, readHolder } from '../../lib/engine/guard/lease.ts';
import { Pipeline } from '../../lib/engine/pipeline.ts';
import { loadToy, makeToy, statuses, TOY_STAGES } from './toy.ts';

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

describe('stage lock', () => {
  it('excludes a second holder while the first is alive, and breaks a dead holder\'s lock', async () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ti-lock-')), 'x.lock');
    const release = tryLock(f);
    expect(typeof release).toBe('function');
    const second = tryLock(f);
    expect(second).toMatchObject({ pid: process.pid });
    (release as () => void)();
    expect(fs.existsSync(f)).toBe(false);
    // a lock left by a process that no longer exists
    fs.writeFileSync(f, JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), since: '' }));
    const rel = await lock(f);
    expect(JSON.parse(fs.readFileSync(f, 'utf8')).pid).toBe(process.pid);
    rel();
  });
  it('a waiter gets the lock when the holder releases it', async () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ti-lock-')), 'y.lock');
    const r1 = tryLock(f) as () => void;
    let waited = false;
    setTimeout(r1, 100);
    const r2 = await lock(f, () => (waited = true));
    expect(waited).toBe(true);
    r2();
  });
});

describe('stage lock leases', () => {
  const tmpLock = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ti-lease-')), 'z.lock');
  const holderFile = (f: string, h: Record<string, unknown>) => fs.writeFileSync(f, JSON.stringify({ since: '2020-01-01T00:00:00.000Z', token: 't', leaseMs: 1000, ...h }));

  it('a lock naming a live unrelated process whose lease has expired is broken at once', async () => {
    const f = tmpLock();
    holderFile(f, { pid: 1, host: os.hostname(), expires: Date.now() - 1 }); // pid 1 is alive, and not us
    const t0 = Date.now();
    const rel = await lock(f, { timeoutMs: 2000 });
    expect(Date.now() - t0).toBeLessThan(500);
    expect(readHolder(f)!.pid).toBe(process.pid);
    rel();
    expect(fs.existsSync(f)).toBe(false);
  });

  it('a lock from another host is held while its lease runs and broken when it expires', async () => {
    const f = tmpLock();
    holderFile(f, { pid: 4242, host: 'elsewhere', expires: Date.now() + 400 });
    expect(tryLock(f)).toMatchObject({ pid: 4242, host: 'elsewhere' });
    await new Promise((r) => setTimeout(r, 450));
    const rel = tryLock(f);
    expect(typeof rel).toBe('function');
    (rel as () => void)();
  });

  it('a lock whose contents do not change for a whole lease is stale even if its clock says otherwise', async () => {
    const f = tmpLock();
    holderFile(f, { pid: 4243, host: 'skewed', leaseMs: 300, expires: Date.now() + 3600_000 }); // holder's clock an hour ahead
    expect(tryLock(f)).toMatchObject({ host: 'skewed' });
    const t0 = Date.now();
    const rel = await lock(f, { timeoutMs: 3000 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    rel();
  });

  it('a holder inside a long synchronous computation keeps its lease (renewed from a worker thread)', async () => {
    const f = tmpLock();
    const rel = tryLock(f, 300) as () => void;
    const lockTs = fileURLToPath(new URL('../../lib/engine/guard/lock.ts', import.meta.url));
    // another process tries to take the lock every 20 ms for ~1.2 s, starting now
    const child = spawn(process.execPath, ['--import', tsxLoader, '-e', `
      const { tryLock } = await import(${JSON.stringify(pathToFileURL(lockTs).href)});
      const end = Date.now() + 1200; let got = false, tries = 0;
      while (Date.now() < end && !got) { const r = tryLock(${JSON.stringify(f)}, 300); tries++; if (typeof r === 'function') { got = true; r(); } else await new Promise((s) => setTimeout(s, 20)); }
      console.log(JSON.stringify({ got, tries }));`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const spinUntil = Date.now() + 2500; // blocks this thread (and its timers) well past the lease
    while (Date.now() < spinUntil) { /* a long synchronous stage */ }
    await new Promise((r) => child.on('close', r));
    const res = JSON.parse(out);
    expect(res.tries).toBeGreaterThan(5);
    expect(res.got).toBe(false);
    rel();
  }, 15_000);

  it('a lease held lazily (no thread at first) is handed to the renewal thread once a third of it has passed', async () => {
    const f = tmpLock();
    const lockTs = fileURLToPath(new URL('../../lib/engine/guard/lock.ts', import.meta.url));
    // The holder, in a fresh process (no renewal thread yet): takes the lock lazily, lets its
    // timer fire (a third of the lease, 400 ms), then blocks its main thread well past the
    // 1200 ms lease. The lease is long enough that a loaded machine (two test runs on two
    // cores) does not starve the renewal thread past it; with 300 ms it sometimes did.
    const holder = spawn(process.execPath, ['--import', tsxLoader, '-e', `
      const { tryLock } = await import(${JSON.stringify(pathToFileURL(lockTs).href)});
      const rel = tryLock(${JSON.stringify(f)}, 1200, true);
      await new Promise((s) => setTimeout(s, 600));
      console.log('held');
      const end = Date.now() + 4000; while (Date.now() < end) {}
      rel();`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((r) => holder.stdout.on('data', (d) => String(d).includes('held') && r()));
    let got = false;
    for (const end = Date.now() + 3000; Date.now() < end && !got; await new Promise((s) => setTimeout(s, 20))) {
      const r = tryLock(f, 1200);
      if (typeof r === 'function') {
        got = true;
        r();
      }
    }
    await new Promise((r) => holder.on('close', r));
    expect(got).toBe(false);
  }, 15_000);

  it('a waiting run is told who holds the lock and how to clear it, and gives up after the timeout', async () => {
    const f = tmpLock();
    const rel = tryLock(f) as () => void;
    const told: string[] = [];
    const err = await lock(f, { timeoutMs: 300, advice: 'to wait longer, raise the limit', onWait: (h, file) => told.push(waitMessage(h, file, 'train')) }).catch((e) => e);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(new RegExp(`^  waiting for process ${process.pid} on host ${os.hostname()} since \\d{4}-\\d\\d-\\d\\dT.*, building train \\(lock ${f}; .*if that process is gone, delete the lock file\\)$`));
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect(err.message).toMatch(new RegExp(`^gave up after \\d+ s waiting for the lock ${f}, held by process ${process.pid} on host .* since .* \\(lease until .*\\)$`));
    expect(err.hint).toBe(`if no process is building it, delete ${f}; to wait longer, raise the limit`);
    rel();
  });

  it('the pipeline passes its lock options on: a build behind a held lock gives up with that error', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    const key = p.project.record('a', p.resolveAll({}).a, {}).key;
    const rel = tryLock(p.store.lockPath('a', key)) as () => void;
    const q = await Pipeline.load({ root: dir, stageFiles: TOY_STAGES, env: {}, lock: { timeoutMs: 200 } });
    const lines: string[] = [];
    q.reporter = { line: (t) => lines.push(t), stage: () => Object.assign(() => {}, { done() {} }) };
    await expect(q.build(['a'])).rejects.toThrow(/^gave up after/);
    expect(lines.some((l) => l.startsWith(`  waiting for process ${process.pid}`))).toBe(true);
    rel();
    expect(statuses((await q.build(['a'])).runs)).toEqual({ a: 'ran' });
    expect(liveLocks(q.store.locksDir)).toEqual([]);
  });
});
