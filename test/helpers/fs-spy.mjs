// A file-access spy for end-to-end tests: load it into every process of a run with
// NODE_OPTIONS="--import <this file>" (children inherit it), and every fs call on a path
// containing TI_FS_SPY_MATCH is appended to TI_FS_SPY_LOG as "<pid> <call> <path>". The
// named ESM exports of node:fs are re-synced, so `import { openSync } from 'node:fs'` is
// seen too. Without both variables it does nothing.

import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const log = process.env.TI_FS_SPY_LOG;
const match = process.env.TI_FS_SPY_MATCH;
if (log && match) {
  const append = fs.appendFileSync;
  const hit = (call, p) => {
    try {
      const s = p instanceof URL ? p.pathname : Buffer.isBuffer(p) ? p.toString() : String(p);
      if (s.includes(match)) append(log, `${process.pid} ${call} ${s}\n`);
    } catch {
      /* never break the spied process */
    }
  };
  const wrap = (obj, name, label) => {
    const orig = obj[name];
    if (typeof orig !== 'function') return;
    obj[name] = function (p, ...rest) {
      hit(label, p);
      return orig.call(this, p, ...rest);
    };
  };
  for (const n of ['openSync', 'open', 'readFileSync', 'readFile', 'statSync', 'stat', 'lstatSync', 'lstat', 'existsSync', 'accessSync', 'access', 'createReadStream', 'realpathSync', 'opendirSync', 'readdirSync']) wrap(fs, n, n);
  for (const n of ['open', 'readFile', 'stat', 'lstat', 'access', 'realpath', 'readdir']) wrap(fs.promises, n, `promises.${n}`);
  syncBuiltinESMExports();
}
