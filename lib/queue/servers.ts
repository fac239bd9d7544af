// Starting the two existing servers a sweep needs, for `lib/queue/serve.ts` (the README's
// first command) and the tests: redis-server (the BullMQ queue and the key locks) and nginx
// with WebDAV (a Bazel-style HTTP remote cache: PUT creates folders, no body size limit).
// Each runs in the foreground as the current user, every file (config, data, pid, logs) in
// one folder; `stop()` stops it (and removes the folder when it was temporary).
//
// The binaries come from Debian packages (`apt-get install redis-server nginx`).
//
// Credentials: `password` gives redis-server a `requirepass` (in a mode-600 config file, not
// on its command line where `ps` shows it); `auth` gives nginx Basic authentication from an
// htpasswd file of salted SHA-1 ({SSHA}, which nginx reads; also mode 600). The URLs
// returned carry them (redis://:PASS@…, http://USER:PASS@…), as the clients accept them.

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';

export interface Server {
  url: string;
  port: number;
  dir: string;
  proc: ChildProcess;
  /** The server's log so far (stderr/stdout and its log files). */
  log(): string;
  stop(): Promise<void>;
}

function which(bin: string): string | null {
  for (const d of (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/sbin', '/usr/bin', '/sbin'])) {
    const p = path.join(d, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

/** Why the servers cannot run here ("redis-server, nginx not installed"), or null. */
export function missing(): string | null {
  const absent = ['redis-server', 'nginx'].filter((b) => !which(b));
  return absent.length ? `${absent.join(', ')} not installed (apt-get install -y redis-server nginx)` : null;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Send `request` to 127.0.0.1:port until the answer matches `ok`, or fail after `ms`. */
async function waitFor(port: number, request: string, ok: RegExp, proc: ChildProcess, what: string, log: () => string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${what} exited during start-up:\n${log()}`);
    const answer = await new Promise<string>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      let got = '';
      sock.setTimeout(500, () => sock.destroy());
      sock.on('connect', () => sock.write(request));
      sock.on('data', (d) => {
        got += d;
        if (ok.test(got)) sock.destroy();
      });
      sock.on('error', () => resolve(''));
      sock.on('close', () => resolve(got));
    });
    if (ok.test(answer)) return;
    if (Date.now() - t0 > ms) throw new Error(`${what} did not answer on port ${port} within ${ms} ms:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function start(bin: string, args: string[], dir: string): { proc: ChildProcess; out: () => string } {
  let out = '';
  const proc = spawn(which(bin)!, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  return { proc, out: () => out };
}

function stopper(proc: ChildProcess, dir: string, keep = false): () => Promise<void> {
  return async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  };
}

export interface StartOptions {
  /** Default: a free port. */
  port?: number;
  /** Default: 127.0.0.1. Anything else opens the server to the network: trusted networks only. */
  bind?: string;
  /** Where its files go (kept on stop). Default: a temporary folder (removed on stop). */
  dir?: string;
}

function folder(o: StartOptions, prefix: string): { dir: string; keep: boolean } {
  if (o.dir) {
    fs.mkdirSync(o.dir, { recursive: true });
    return { dir: path.resolve(o.dir), keep: true };
  }
  return { dir: fs.mkdtempSync(path.join(os.tmpdir(), prefix)), keep: false };
}

/** Is `bind` an address of this machine only? */
export function isLoopback(bind: string): boolean {
  return bind === 'localhost' || bind === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bind);
}

/** A random password for a server (24 URL-safe characters, 144 bits). */
export function newPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** An htpasswd line nginx accepts: {SSHA} = base64(sha1(password + salt) + salt). */
export function htpasswdLine(user: string, pass: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(pass).update(salt).digest();
  return `${user}:{SSHA}${Buffer.concat([digest, salt]).toString('base64')}\n`;
}

/** redis-server, no persistence (the queue is rebuilt by submitting again); `password`: requirepass. */
export async function startRedis(o: StartOptions & { password?: string } = {}): Promise<Server> {
  const { dir, keep } = folder(o, 'ti-redis-');
  const port = o.port ?? (await freePort());
  const bind = o.bind ?? '127.0.0.1';
  const conf = path.join(dir, 'redis.conf');
  fs.writeFileSync(conf, o.password ? `requirepass "${o.password}"\n` : '', { mode: 0o600 });
  fs.chmodSync(conf, 0o600);
  const open = !isLoopback(bind) && !o.password;
  const { proc, out } = start('redis-server', [conf, '--port', String(port), '--bind', bind, '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', ...(open ? ['--protected-mode', 'no'] : [])], dir);
  await waitFor(port, 'PING\r\n', /\+PONG|-NOAUTH/, proc, 'redis-server', out);
  const cred = o.password ? `:${encodeURIComponent(o.password)}@` : '';
  return { url: `redis://${cred}127.0.0.1:${port}`, port, dir, proc, log: out, stop: stopper(proc, dir, keep) };
}

/**
 * nginx serving a WebDAV folder on a free loopback port: PUT/DELETE allowed, folders
 * created on PUT, no body size limit. With `auth`, the /private/ prefix asks for Basic
 * authentication with that user and password (the root prefix stays open), or every path
 * with `everywhere` (serve.ts); the URL returned then carries them.
 */
export async function startNginx(opts: StartOptions & { auth?: { user: string; pass: string; everywhere?: boolean } } = {}): Promise<Server & { root: string }> {
  const { dir, keep } = folder(opts, 'ti-nginx-');
  const root = path.join(dir, 'www');
  fs.mkdirSync(root, { recursive: true });
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const port = opts.port ?? (await freePort());
  if (opts.auth) {
    fs.writeFileSync(path.join(dir, 'htpasswd'), htpasswdLine(opts.auth.user, opts.auth.pass), { mode: 0o600 });
    fs.chmodSync(path.join(dir, 'htpasswd'), 0o600);
  }
  const all = opts.auth?.everywhere ? `      auth_basic "cache";\n      auth_basic_user_file ${path.join(dir, 'htpasswd')};\n` : '';
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${path.join(dir, `${t}_temp`)};`).join('\n');
  const conf = `# written by lib/queue/servers.ts
daemon off;
master_process off;
worker_processes 1;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'logs', 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log ${path.join(dir, 'logs', 'access.log')};
${temp}
  server {
    listen ${opts.bind ?? '127.0.0.1'}:${port};
    root ${root};
    client_max_body_size 0;
    location / {
${all}      dav_methods PUT DELETE;
      create_full_put_path on;
      dav_access user:rw;
    }
${opts.auth && !opts.auth.everywhere ? `    location /private/ {
      auth_basic "cache";
      auth_basic_user_file ${path.join(dir, 'htpasswd')};
      dav_methods PUT DELETE;
      create_full_put_path on;
      dav_access user:rw;
    }
` : ''}  }
}
`;
  const confPath = path.join(dir, 'nginx.conf');
  fs.writeFileSync(confPath, conf);
  // -e: the start-up error log before the config is read (else /var/log/nginx/error.log).
  const check = spawnSync(which('nginx')!, ['-t', '-p', dir, '-c', confPath, '-e', path.join(dir, 'logs', 'startup.log')], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx rejected its config:\n${check.stderr}`);
  const { proc, out } = start('nginx', ['-p', dir, '-c', confPath, '-e', path.join(dir, 'logs', 'startup.log')], dir);
  const log = () => {
    let s = out();
    for (const f of ['error.log', 'startup.log']) {
      try {
        s += fs.readFileSync(path.join(dir, 'logs', f), 'utf8');
      } catch {
        /* none yet */
      }
    }
    return s;
  };
  await waitFor(port, 'HEAD / HTTP/1.0\r\n\r\n', /^HTTP\/1\.\d \d{3}/, proc, 'nginx', log);
  const cred = opts.auth?.everywhere ? `${encodeURIComponent(opts.auth.user)}:${encodeURIComponent(opts.auth.pass)}@` : '';
  return { url: `http://${cred}127.0.0.1:${port}`, port, dir, root, proc, log, stop: stopper(proc, dir, keep) };
}
