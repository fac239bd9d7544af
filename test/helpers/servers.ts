// Real servers on loopback for the distributed tests (lib/queue/servers.ts starts them):
// redis-server and nginx with WebDAV, each in the foreground as the current user, on a free
// port, with every file (config, data, pid and logs) in a temporary folder; `stop()` kills
// it and removes the folder.
//
// The binaries come from Debian packages (`apt-get install redis-server nginx`; .ci/run
// installs them when missing). When one is missing, `missing()` says which, and the tests
// skip with that reason.

import fs from 'node:fs';
import path from 'node:path';

export { freePort, missing, startNginx, startRedis, type Server } from '../../lib/queue/servers.ts';

/** Every file under a folder, relative paths (to see what a server stored). */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}
