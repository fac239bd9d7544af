// The README's first command for many machines: start the queue (redis-server) and the
// remote cache (nginx with WebDAV) in the foreground, their files under one folder, until
// Ctrl-C. Existing servers, configured for us; nothing here serves a request itself.
//
//   npx tsx lib/queue/serve.ts [--dir DIR] [--bind ADDR] [--queue-port N] [--cache-port N]
//
// Defaults: --dir cache/servers (beside the local cache, ignored by git), --bind 127.0.0.1 (this machine only; 0.0.0.0 opens both
// servers, without passwords, to the network: trusted networks only), ports 6379 and 8080.
// Any Bazel HTTP cache can replace nginx, e.g. bazel-remote with --disable_http_ac_validation.

import path from 'node:path';
import { missing, startNginx, startRedis } from './servers.ts';

function parse(argv: string[]): { dir: string; bind: string; queuePort: number; cachePort: number } {
  const o = { dir: path.join('cache', 'servers'), bind: '127.0.0.1', queuePort: 6379, cachePort: 8080 };
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
    else usage(`unknown option ${flag}`);
  }
  return o;
}

function usage(message: string): never {
  process.stderr.write(`error: ${message}\nhint: npx tsx lib/queue/serve.ts [--dir DIR] [--bind ADDR] [--queue-port N] [--cache-port N]\n`);
  process.exit(2);
}

const o = parse(process.argv.slice(2));
const why = missing();
if (why) {
  process.stderr.write(`error: ${why}\nhint: on Debian or Ubuntu: sudo apt-get install -y redis-server nginx\n`);
  process.exit(2);
}
const redis = await startRedis({ port: o.queuePort, bind: o.bind, dir: path.join(o.dir, 'redis') }).catch((e) => usage(`redis-server: ${(e as Error).message}`));
const nginx = await startNginx({ port: o.cachePort, bind: o.bind, dir: path.join(o.dir, 'nginx') }).catch(async (e) => {
  await redis.stop();
  return usage(`nginx: ${(e as Error).message}`);
});
const host = o.bind === '0.0.0.0' ? 'THIS-HOST' : o.bind;
process.stderr.write(`queue:        redis://${host}:${redis.port}\nremote cache: http://${host}:${nginx.port}/cache\n(files under ${o.dir}; Ctrl-C stops both)\n`);
const stop = async () => {
  await Promise.all([redis.stop(), nginx.stop()]);
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
