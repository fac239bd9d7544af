// The README's first command for many machines: start the queue (redis-server) and the
// remote cache (nginx with WebDAV) in the foreground, their files under one folder, until
// Ctrl-C. Existing servers, configured for us; nothing here serves a request itself.
//
//   npx tsx lib/queue/serve.ts [--dir DIR] [--bind ADDR] [--queue-port N] [--cache-port N]
//
// Defaults: --dir cache/servers (beside the local cache, ignored by git), --bind 127.0.0.1
// (this machine only), ports 6379 and 8080. Any Bazel HTTP cache can replace nginx, e.g.
// bazel-remote with --disable_http_ac_validation.
//
// Credentials by default: a Redis password (requirepass) and nginx Basic authentication on
// every path, generated on first start and kept in DIR/credentials.json (mode 600) so the
// workers' URLs stay valid across restarts, plus a TOTAL_INTERP_REMOTE_KEY for tagging
// entries (see the README's "What a remote writer can do"). The URLs printed carry them.
// `--no-auth` starts both servers open, and only on loopback: `--bind` beyond this machine
// without credentials is refused.

import fs from 'node:fs';
import path from 'node:path';
import { isLoopback, missing, newPassword, startNginx, startRedis } from './servers.ts';

function parse(argv: string[]): { dir: string; bind: string; queuePort: number; cachePort: number; auth: boolean } {
  const o = { dir: path.join('cache', 'servers'), bind: '127.0.0.1', queuePort: 6379, cachePort: 8080, auth: true };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) usage(`${flag} needs a value`);
      return v;
    };
    const port = () => {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) usage(`${flag}: expected a port number, got ${JSON.stringify(v)}`);
      return Number(v);
    };
    if (flag === '--dir') o.dir = value();
    else if (flag === '--bind') o.bind = value();
    else if (flag === '--queue-port') o.queuePort = port();
    else if (flag === '--cache-port') o.cachePort = port();
    else if (flag === '--no-auth' && inline === undefined) o.auth = false;
    else usage(`unknown option ${flag}`);
  }
  if (!o.auth && !isLoopback(o.bind)) {
    usage(`--bind ${o.bind} with --no-auth would open the queue and the remote cache to the network without passwords: anyone who reaches them can plant results or jobs`);
  }
  return o;
}

function usage(message: string): never {
  process.stderr.write(`error: ${message}\nhint: npx tsx lib/queue/serve.ts [--dir DIR] [--bind ADDR] [--queue-port N] [--cache-port N] [--no-auth (loopback only)]\n`);
  process.exit(2);
}

const o = parse(process.argv.slice(2));
const why = missing();
if (why) {
  process.stderr.write(`error: ${why}\nhint: on Debian or Ubuntu: sudo apt-get install -y redis-server nginx\n`);
  process.exit(2);
}
/** The credentials of this folder's servers: made on first start, then kept (mode 600). */
function credentials(dir: string): { redis: string; user: string; pass: string; key: string } {
  const file = path.join(dir, 'credentials.json');
  try {
    const c = JSON.parse(fs.readFileSync(file, 'utf8'));
    if ([c.redis, c.user, c.pass, c.key].every((v) => typeof v === 'string' && /^[A-Za-z0-9_-]{8,}$/.test(v))) return c;
  } catch {
    /* none yet, or unreadable: make new ones */
  }
  const c = { redis: newPassword(), user: 'total-interp', pass: newPassword(), key: newPassword() };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(c, null, 1) + '\n', { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return c;
}

const cred = o.auth ? credentials(o.dir) : null;
const redis = await startRedis({ port: o.queuePort, bind: o.bind, dir: path.join(o.dir, 'redis'), password: cred?.redis }).catch((e) => usage(`redis-server: ${(e as Error).message}`));
const nginx = await startNginx({ port: o.cachePort, bind: o.bind, dir: path.join(o.dir, 'nginx'), auth: cred ? { user: cred.user, pass: cred.pass, everywhere: true } : undefined }).catch(async (e) => {
  await redis.stop();
  return usage(`nginx: ${(e as Error).message}`);
});
const host = o.bind === '0.0.0.0' || o.bind === '::' ? 'THIS-HOST' : o.bind;
const q = cred ? `redis://:${cred.redis}@${host}:${redis.port}` : `redis://${host}:${redis.port}`;
const c = cred ? `http://${cred.user}:${cred.pass}@${host}:${nginx.port}/cache` : `http://${host}:${nginx.port}/cache`;
process.stderr.write(
  `queue:        ${q}\nremote cache: ${c}\n` +
    (cred ? `entry key:    TOTAL_INTERP_REMOTE_KEY=${cred.key}   (set it on every machine: untagged entries are then not served)\n(credentials in ${path.join(o.dir, 'credentials.json')}; ` : '(no passwords: this machine only; ') +
    `files under ${o.dir}; Ctrl-C stops both)\n`,
);
const stop = async () => {
  await Promise.all([redis.stop(), nginx.stop()]);
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
