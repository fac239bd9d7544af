// Credentials on the servers of lib/queue/serve.ts: redis-server with a password answers
// only clients whose URL carries it (ioredis, as BullMQ and the key lock use it), nginx with
// Basic authentication on every path serves only the remote cache client whose URL carries
// them, and serve.ts refuses to open either to the network without them.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RemoteCache } from '../../lib/engine/keep/remote.ts';
import { sha256 } from '../../lib/engine/keep/hash.ts';
import { htpasswdLine, isLoopback, newPassword } from '../../lib/queue/servers.ts';
import { freePort, missing, startNginx, startRedis, type Server } from '../helpers/servers.ts';

const why = missing();
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const serveTs = path.resolve(__dirname, '../../lib/queue/serve.ts');

describe('serve.ts credentials', () => {
  const servers: Server[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  it('refuses --bind beyond loopback without credentials (exit 2, nothing started)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-serve-'));
    const r = spawnSync(process.execPath, ['--import', tsxLoader, serveTs, '--bind', '0.0.0.0', '--no-auth', '--dir', dir], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: --bind 0\.0\.0\.0 with --no-auth would open .* without passwords/);
    expect(r.stderr).toMatch(/\nhint: /);
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!!why)('starts both servers with generated credentials, prints URLs that carry them, and keeps them across restarts', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-serve-'));
    const [qp, cp] = [await freePort(), await freePort()];
    const start = () =>
      new Promise<{ stop: () => Promise<void>; out: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', tsxLoader, serveTs, '--dir', dir, '--queue-port', String(qp), '--cache-port', String(cp)], { stdio: ['ignore', 'ignore', 'pipe'] });
        let out = '';
        const t = setTimeout(() => reject(new Error(`serve.ts did not start: ${out}`)), 30_000);
        child.stderr!.on('data', (d) => {
          out += d;
          if (/Ctrl-C stops both/.test(out)) {
            clearTimeout(t);
            resolve({ out, stop: () => new Promise((r) => (child.once('exit', () => r()), child.kill('SIGINT'))) });
          }
        });
      });
    const first = await start();
    try {
      const queue = first.out.match(/queue: +(\S+)/)![1];
      const cache = first.out.match(/remote cache: +(\S+)/)![1];
      expect(queue).toMatch(new RegExp(`^redis://:[A-Za-z0-9_-]{24}@127\\.0\\.0\\.1:${qp}$`));
      expect(cache).toMatch(new RegExp(`^http://total-interp:[A-Za-z0-9_-]{24}@127\\.0\\.0\\.1:${cp}/cache$`));
      expect(first.out).toMatch(/TOTAL_INTERP_REMOTE_KEY=[A-Za-z0-9_-]{24}/);
      expect(fs.statSync(path.join(dir, 'credentials.json')).mode & 0o077).toBe(0);
      const ok = new Redis(queue, { lazyConnect: true, maxRetriesPerRequest: 0 });
      expect(await ok.ping()).toBe('PONG');
      ok.disconnect();
      const bytes = Buffer.from('via serve.ts');
      expect(await new RemoteCache(cache, { key: '' }).put('cas', sha256(bytes), bytes)).toBe(true);
      expect(await new RemoteCache(`http://127.0.0.1:${cp}/cache`, { key: '', warn: () => {} }).get('cas', sha256(bytes))).toBeNull(); // 401
    } finally {
      await first.stop();
    }
    const second = await start();
    await second.stop();
    expect(second.out).toBe(first.out); // the same credentials, so the workers' URLs stay valid
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('loopback, passwords and htpasswd lines', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', '192.168.1.2'].some(isLoopback)).toBe(false);
    expect(newPassword()).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(newPassword()).not.toBe(newPassword());
    expect(htpasswdLine('u', 'p')).toMatch(/^u:\{SSHA\}[A-Za-z0-9+/]+=*\n$/);
  });

  it.skipIf(!!why)('redis with requirepass: the URL with the password works, without it NOAUTH', async () => {
    const pw = newPassword();
    const r = await startRedis({ password: pw });
    servers.push(r);
    expect(r.url).toBe(`redis://:${pw}@127.0.0.1:${r.port}`);
    expect(fs.readFileSync(path.join(r.dir, 'redis.conf'), 'utf8')).toContain(pw);
    expect(fs.statSync(path.join(r.dir, 'redis.conf')).mode & 0o077).toBe(0);
    const ok = new Redis(r.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    expect(await ok.ping()).toBe('PONG');
    ok.disconnect();
    const anon = new Redis(`redis://127.0.0.1:${r.port}`, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    anon.on('error', () => {}); // the refusal is asserted below
    await expect(anon.ping()).rejects.toThrow(/NOAUTH/);
    anon.disconnect();
  });

  it.skipIf(!!why)('nginx with Basic auth everywhere: the remote cache URL with credentials works, without them 401', async () => {
    const pass = newPassword();
    const n = await startNginx({ auth: { user: 'total-interp', pass, everywhere: true } });
    servers.push(n);
    expect(fs.readFileSync(path.join(n.dir, 'htpasswd'), 'utf8')).not.toContain(pass);
    const bytes = Buffer.from('authenticated');
    const good = new RemoteCache(`${n.url}/cache`, { key: '' });
    expect(await good.put('cas', sha256(bytes), bytes)).toBe(true);
    expect(Buffer.from((await good.get('cas', sha256(bytes)))!).toString()).toBe('authenticated');
    const warnings: string[] = [];
    const anon = new RemoteCache(`http://127.0.0.1:${n.port}/cache`, { key: '', warn: (m) => warnings.push(m) });
    expect(await anon.get('cas', sha256(bytes))).toBeNull();
    expect(warnings.join('\n')).toMatch(/HTTP 401, check the credentials/);
    expect(warnings.join('\n')).not.toContain(pass);
  });
});
