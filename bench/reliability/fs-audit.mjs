// The file audit of bench/reliability.ts: loaded into every pipeline process of a check with
// NODE_OPTIONS="--import <this file>" (children and BullMQ's job processes inherit it), it
// appends to TI_AUDIT_LOG each path that a process reads outside the places it may read
// ("R path") or writes outside the places it may write ("W path"). Allowed:
//   read:  the project (code, schemas, the data shipped in data/), node_modules, the cache
//          (TOTAL_INTERP_CACHE), ENWIK9, the downloads folder (TOTAL_INTERP_DOWNLOADS, else
//          $XDG_CACHE_HOME/total-interp or ~/.cache/total-interp), TOTAL_INTERP_PAPER_WEIGHTS,
//          Node's and the system's own files, and TI_AUDIT_READ (':'-separated);
//   write: the cache, the project's reports/, the downloads folder, and TI_AUDIT_WRITE.
// tsx's transform cache (<tmp>/tsx-*) is the tool's, not the pipeline's: allowed for both.
// Reads and writes are seen at the fs API (named ESM exports re-synced), not below it.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { syncBuiltinESMExports } from 'node:module';

const log = process.env.TI_AUDIT_LOG;
if (log) {
  const append = fs.appendFileSync;
  const real = (p) => {
    try {
      return fs.realpathSync.native(p);
    } catch {
      return p;
    }
  };
  const env = process.env;
  const list = (v) => (v ? v.split(':').filter(Boolean) : []);
  const root = env.TI_AUDIT_ROOT ?? process.cwd();
  const tmp = real(os.tmpdir());
  const common = [path.join(tmp, 'tsx-'), '/dev/null'];
  const system = ['/proc/', '/sys/', '/dev/', '/etc/ssl/', '/usr/lib/ssl/', '/etc/hosts', '/etc/resolv.conf', '/etc/nsswitch.conf', '/etc/host.conf', '/etc/gai.conf', '/etc/localtime', '/usr/share/zoneinfo/', path.dirname(path.dirname(process.execPath)) + '/'];
  const dirs = (xs) => xs.filter(Boolean).flatMap((x) => [path.resolve(x), real(path.resolve(x))]);
  // The paper's weights are looked for in the downloads folder (lib/data/paper-weights.ts).
  const downloads = env.TOTAL_INTERP_DOWNLOADS ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'total-interp');
  const readOk = [...dirs([root, path.join(root, 'node_modules'), env.TOTAL_INTERP_CACHE, env.ENWIK9, downloads, env.TOTAL_INTERP_PAPER_WEIGHTS, ...list(env.TI_AUDIT_READ)]), ...common, ...system];
  const writeOk = [...dirs([log, env.TOTAL_INTERP_CACHE, path.join(root, 'reports'), downloads, ...list(env.TI_AUDIT_WRITE)]), ...common];
  const under = (p, roots) => roots.some((r) => p === r || p.startsWith(r.endsWith('/') ? r : r + '/') || (r.endsWith('tsx-') && p.startsWith(r)));
  const seen = new Set();
  let busy = false;
  const note = (kind, p) => {
    if (busy) return;
    busy = true;
    try {
      if (typeof p === 'number' || p == null) return;
      const s = p instanceof URL ? p.pathname : Buffer.isBuffer(p) ? p.toString() : String(p);
      const abs = path.resolve(s);
      if (under(abs, kind === 'R' ? readOk : writeOk)) return;
      const k = `${kind} ${abs}`;
      if (seen.has(k)) return;
      seen.add(k);
      append(log, `${k}\n`);
    } catch {
      /* the audit never breaks the process */
    } finally {
      busy = false;
    }
  };
  const isWrite = (flags) => (typeof flags === 'string' ? /[wa+]/.test(flags) : typeof flags === 'number' ? (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR | fs.constants.O_CREAT)) !== 0 : false);
  const wrap = (obj, name, how) => {
    const orig = obj?.[name];
    if (typeof orig !== 'function') return;
    obj[name] = function (...args) {
      how(args);
      return orig.apply(this, args);
    };
  };
  const r0 = (a) => note('R', a[0]);
  const w0 = (a) => note('W', a[0]);
  const w01 = (a) => (note('W', a[0]), note('W', a[1]));
  const w1 = (a) => note('W', a[1]);
  const open = (a) => note(isWrite(a[1]) ? 'W' : 'R', a[0]);
  const stream = (kind) => (a) => note(kind === 'W' || isWrite(a[1]?.flags) ? 'W' : 'R', a[0]);
  for (const [obj, names] of [
    [fs, { openSync: open, open, readFileSync: r0, readFile: r0, createReadStream: stream('R'), writeFileSync: w0, writeFile: w0, appendFileSync: w0, appendFile: w0, createWriteStream: stream('W'), mkdirSync: w0, mkdir: w0, rmSync: w0, rm: w0, unlinkSync: w0, unlink: w0, renameSync: w01, rename: w01, copyFileSync: w1, copyFile: w1, cpSync: w1, symlinkSync: w1, linkSync: w1, truncateSync: w0, chmodSync: w0, utimesSync: w0, mkdtempSync: w0 }],
    [fs.promises, { open, readFile: r0, writeFile: w0, appendFile: w0, mkdir: w0, rm: w0, unlink: w0, rename: w01, copyFile: w1, symlink: w1, link: w1, truncate: w0, chmod: w0, mkdtemp: w0 }],
  ]) {
    for (const [n, how] of Object.entries(names)) wrap(obj, n, how);
  }
  syncBuiltinESMExports();
}
