// `export --out` to odd targets: what the command does to each. In a scratch folder, with
// a tiny imported model (H = 8) and its own cache, `export trace.S` is aimed at
//   a device node (a scratch copy of /dev/null made with mknod; as root only), a symbolic
//   link to a file, a dangling link, a directory, a path ending in "/", "", a path under
//   /proc, a FIFO, a regular file of mode 0600, and a path where nothing is;
// A run "recovered" when it did what lib/cli/out-file.ts promises: a regular file or
// nothing is written (mode kept), anything else is refused with error: and hint: lines,
// exit 2. It is "wrong" when the target was replaced or changed although it should not
// have been (a device no longer a device, a link no longer a link or its target changed,
// a directory's contents changed, a 0600 file's mode changed), a temporary file was left
// beside it, or the answer was "this is a bug".

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

export type Row = { name: string; tried: number; recovered: number; wrong: number; note?: string };

interface Target {
  name: string;
  /** Make what is at the path; returns the --out argument. */
  make(dir: string): string | null;
  /** True when the run should write a file (else refuse). */
  writes: boolean;
  /** What must hold after the run, or a sentence saying what went wrong. */
  check(dir: string, out: string): string | null;
}

const H = 8;
const KEPT = 'kept contents\n';

function snapshot(p: string): string {
  try {
    const st = fs.lstatSync(p);
    const kind = st.isSymbolicLink() ? `link->${fs.readlinkSync(p)}` : st.isDirectory() ? `dir[${fs.readdirSync(p).sort().join(',')}]` : st.isFile() ? `file:${fs.readFileSync(p, 'utf8')}` : `other:${st.mode}:${st.rdev}`;
    return `${kind}:${(st.mode & 0o7777).toString(8)}`;
  } catch {
    return 'absent';
  }
}

const isRoot = process.getuid?.() === 0;

const TARGETS: Target[] = [
  {
    name: 'a device node (scratch /dev/null copy)',
    writes: false,
    make: (dir) => (isRoot && spawnSync('mknod', ['-m', '666', path.join(dir, 'null'), 'c', '1', '3']).status === 0 ? 'null' : null),
    check: (dir) => (fs.lstatSync(path.join(dir, 'null')).isCharacterDevice() ? null : 'the device node was replaced'),
  },
  {
    name: 'a symbolic link to a file',
    writes: false,
    make: (dir) => {
      fs.writeFileSync(path.join(dir, 'kept.npy'), KEPT);
      fs.symlinkSync('kept.npy', path.join(dir, 'link.npy'));
      return 'link.npy';
    },
    check: (dir) => (!fs.lstatSync(path.join(dir, 'link.npy')).isSymbolicLink() ? 'the link was replaced' : fs.readFileSync(path.join(dir, 'kept.npy'), 'utf8') !== KEPT ? "the link's target changed" : null),
  },
  {
    name: 'a dangling symbolic link',
    writes: false,
    make: (dir) => {
      fs.symlinkSync('nowhere.npy', path.join(dir, 'dangling.npy'));
      return 'dangling.npy';
    },
    check: (dir) => (fs.lstatSync(path.join(dir, 'dangling.npy')).isSymbolicLink() && !fs.existsSync(path.join(dir, 'nowhere.npy')) ? null : 'the link was replaced or followed'),
  },
  { name: 'a directory', writes: false, make: (dir) => (fs.mkdirSync(path.join(dir, 'adir')), 'adir'), check: (dir) => (fs.readdirSync(path.join(dir, 'adir')).length ? 'something was written into the directory' : null) },
  { name: 'a path ending in /', writes: false, make: () => 'newdir/', check: (dir) => (fs.existsSync(path.join(dir, 'newdir')) ? 'newdir was created' : null) },
  { name: 'an empty path', writes: false, make: () => '', check: () => null },
  { name: 'a path under /proc', writes: false, make: () => (fs.existsSync('/proc/self') ? '/proc/ti-export-bench/x.npy' : null), check: () => (fs.existsSync('/proc/ti-export-bench') ? '/proc/ti-export-bench appeared' : null) },
  {
    name: 'a FIFO',
    writes: false,
    make: (dir) => (spawnSync('mkfifo', [path.join(dir, 'fifo')]).status === 0 ? 'fifo' : null),
    check: (dir) => (fs.lstatSync(path.join(dir, 'fifo')).isFIFO() ? null : 'the FIFO was replaced'),
  },
  {
    name: 'a regular file, mode 0600',
    writes: true,
    make: (dir) => {
      fs.writeFileSync(path.join(dir, 'secret.npy'), KEPT, { mode: 0o600 });
      fs.chmodSync(path.join(dir, 'secret.npy'), 0o600);
      return 'secret.npy';
    },
    check: (dir) => {
      const f = path.join(dir, 'secret.npy');
      if ((fs.statSync(f).mode & 0o777) !== 0o600) return `its mode became ${(fs.statSync(f).mode & 0o777).toString(8)}`;
      return fs.readFileSync(f).subarray(1, 6).toString('latin1') === 'NUMPY' ? null : 'it does not hold the .npy';
    },
  },
  { name: 'nothing (a new file in a new folder)', writes: true, make: () => 'new/S.npy', check: (dir) => (fs.existsSync(path.join(dir, 'new/S.npy')) ? null : 'the file is not there') },
];

function cli(root: string, cwd: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const tsx = pathToFileURL(createRequire(path.join(root, 'package.json')).resolve('tsx')).href;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsx, path.join(root, 'pipeline.ts'), ...args], {
      cwd,
      env: { ...process.env, TOTAL_INTERP_CACHE: path.join(cwd, '.cache') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** Export to each odd target once (twice each unless quick), in a scratch folder under the system's temp. */
export async function run(opts: { root: string; log: (s: string) => void; quick?: boolean }): Promise<Row[]> {
  const rounds = opts.quick ? 1 : 2;
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-export-bench-'));
  const weights = path.join(base, 'w8.bin');
  const w = new Float32Array(H * 256 + H * H + H + 256 * H + 256).map((_, i) => 0.3 * Math.sin(i * 0.7));
  fs.writeFileSync(weights, new Uint8Array(w.buffer));
  const model = ['--set', `model.source=${weights}`, '--set', `model.hidden=${H}`];
  // Build once, so every export below only reads the cache.
  const warm = await cli(opts.root, base, ['run', 'trace', '--quiet', ...model]);
  if (warm.code !== 0) throw new Error(`export bench: could not build the tiny trace: ${warm.stderr.trim().split('\n').slice(-2).join(' ')}`);
  const rows: Row[] = [];
  try {
    for (const t of TARGETS) {
      const row: Row = { name: `export to ${t.name}`, tried: 0, recovered: 0, wrong: 0 };
      const notes: string[] = [];
      for (let r = 0; r < rounds; r++) {
        const dir = fs.mkdtempSync(path.join(base, 'case-'));
        fs.symlinkSync(path.join(base, '.cache'), path.join(dir, '.cache'));
        const out = t.make(dir);
        if (out === null) {
          notes.push('not possible here (needs root, mknod, mkfifo or /proc)');
          break;
        }
        const before = snapshot(path.join(dir, out));
        const res = await cli(opts.root, dir, ['export', 'trace.S', '--out', out, ...model]);
        row.tried++;
        const problems: string[] = [];
        const broke = t.check(dir, out);
        if (broke) problems.push(broke);
        if (/this is a bug/.test(res.stderr)) problems.push('"this is a bug"');
        const temps = fs.readdirSync(dir).filter((f) => f.includes('.tmp-'));
        if (temps.length) problems.push(`left ${temps.join(', ')}`);
        if (!t.writes && out !== '' && !out.startsWith('/proc') && snapshot(path.join(dir, out)) !== before) problems.push('the target changed');
        const did = t.writes ? res.code === 0 : res.code === 2 && /^error: /m.test(res.stderr) && /^hint: /m.test(res.stderr);
        if (problems.length) {
          row.wrong++;
          notes.push(problems.join('; '));
        } else if (did) row.recovered++;
        else notes.push(`exit ${res.code}: ${res.stderr.trim().split('\n')[0] ?? ''}`);
      }
      if (notes.length) row.note = [...new Set(notes)].join(' | ');
      opts.log(`${row.name}: ${row.recovered}/${row.tried} recovered, ${row.wrong} wrong${row.note ? ` (${row.note})` : ''}`);
      rows.push(row);
    }
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
  return rows;
}

// Run alone: npx tsx bench/reliability/export.ts [--quick]
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
  run({ root, log: (s) => console.log(s), quick: process.argv.includes('--quick') }).then(
    (rows) => {
      const wrong = rows.reduce((n, r) => n + r.wrong, 0);
      console.log(`${rows.reduce((n, r) => n + r.tried, 0)} tried, ${rows.reduce((n, r) => n + r.recovered, 0)} recovered, ${wrong} wrong`);
      process.exitCode = wrong ? 1 : 0;
    },
    (e) => {
      console.error(`error: ${(e as Error).message}`);
      process.exitCode = 1;
    },
  );
}
