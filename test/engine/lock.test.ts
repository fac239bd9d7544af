import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lock, tryLock } from '../../lib/engine/lock.ts';

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
