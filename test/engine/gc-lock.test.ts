// gc against running builds and sweeps (lib/engine/guard/gc-lock.ts): a build holds the cache
// shared, gc exclusively. gc refuses while a build (another process's, here the toy CLI
// spinning in its `slow` stage) or a sweep's hold is live, and goes ahead once it is gone or
// its holder dead; a build that starts while gc holds its lock waits for it.

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { gc } from '../../lib/engine/keep/gc.ts';
import { GC_LOCK, holdAgainstGc, lockForGc } from '../../lib/engine/guard/gc-lock.ts';
import { cli, loadToy, makeToy } from './toy.ts';

describe('the gc lock', () => {
  it('gc refuses while another process builds, and runs once it has finished', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    await p.build(['b']);
    let refused: unknown = null;
    const run = cli(dir, ['run', 'slow', '--set', 'slow.ms=4000']);
    // once the other process holds slow's stage lock, its build is under way
    const poll = setInterval(() => {
      if (refused === null && fs.existsSync(p.store.locksDir) && fs.readdirSync(p.store.locksDir).some((f) => f.startsWith('slow-'))) {
        try {
          gc(p.project, p.store, { reportsDir: p.reportsDir,  graceMs: 0 });
          refused = false;
        } catch (e) {
          refused = e;
        }
      }
    }, 50);
    const r = await run;
    clearInterval(poll);
    expect(r.code, r.stderr).toBe(0);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error & { reason: string }).reason).toBe('busy');
    expect((refused as Error).message).toMatch(/^gc: 1 run \(build or sweep\) in progress \(|^gc: another pipeline process is building/);
    expect(() => gc(p.project, p.store, { reportsDir: p.reportsDir,  graceMs: 0, dryRun: true })).not.toThrow();
  }, 30_000);

  it('a live hold makes gc refuse; a released one, or one of a dead process, does not', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    await p.build(['c']);
    const release = await holdAgainstGc(p.store.locksDir);
    expect(() => gc(p.project, p.store, { reportsDir: p.reportsDir,  graceMs: 0 })).toThrow(/^gc: 1 run \(build or sweep\) in progress \(pid \d+ on /);
    expect(fs.existsSync(path.join(p.store.locksDir, GC_LOCK))).toBe(false); // gc let its own lock go
    release();
    expect(gc(p.project, p.store, { reportsDir: p.reportsDir,  graceMs: 0, dryRun: true }).entries).toBe(0);
    // A hold left by a killed run: its pid is gone, so it holds nothing.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const now = Date.now();
    fs.writeFileSync(path.join(p.store.locksDir, `hold-${dead}-abcdef.lock`), JSON.stringify({ pid: Number(dead), host: (await import('node:os')).hostname(), since: '', token: 't', leaseMs: 30_000, expires: now + 30_000 }));
    expect(() => gc(p.project, p.store, { reportsDir: p.reportsDir,  graceMs: 0, dryRun: true })).not.toThrow();
  });

  it('a build that starts while gc holds its lock waits for gc, then builds', async () => {
    const dir = makeToy();
    const p = await loadToy(dir);
    const lines: string[] = [];
    p.reporter = { line: (l) => void lines.push(l), stage: () => Object.assign(() => {}, { done() {} }) };
    const releaseGc = lockForGc(p.store.locksDir);
    expect(() => lockForGc(p.store.locksDir)).toThrow(/^gc: another gc is running \(process \d+/);
    let done = false;
    const b = p.build(['b']).then((r) => ((done = true), r));
    await new Promise((r) => setTimeout(r, 400));
    expect(done).toBe(false);
    expect(lines.some((l) => /waiting for gc \(process \d+ on host .*\) to finish/.test(l))).toBe(true);
    releaseGc();
    const r = await b;
    expect(r.runs.map((x) => x.status)).toEqual(['ran', 'ran']);
    // and its hold is gone with it
    expect(fs.readdirSync(p.store.locksDir).filter((f) => f.startsWith('hold-'))).toEqual([]);
  });
});
