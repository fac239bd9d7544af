// `npx tsx bench/reliability.ts [--quick] [--faults N] [--kills K] [--queue] [--remote]`: what
// the cache, the queue and the remote survive (`--help` lists the flags). A script, not a
// test: it takes minutes (--quick: a few). On a project copy with a tiny configuration
// (H = 8, 30 epochs, the 1 KB reference data as ENWIK9) it measures
//   - N random faults on random cache files (truncate, flip a byte, append, swap two files,
//     delete, replace with a well-formed object of the wrong shape), each followed by a run;
//   - K SIGKILLs at random times during cold runs on one accumulating cache, each followed
//     by an undisturbed run;
//   - 4 concurrent cold runs on one cache;
//   - a lock left by a live unrelated process whose lease has expired (and one whose lease
//     is live, with a short wait limit);
//   - a read-only cache (as a non-root user when run as root) and a full one (a 1 MiB tmpfs,
//     when run as root);
//   - gc (--yes, keeping nothing recent) again and again during a sweep;
//   - with --queue (redis-server and nginx on loopback): crafted queue jobs (paths, a URL),
//     SIGKILL of a worker's main process mid-point, Redis stopped mid-sweep;
//   - bench/reliability/remote.ts (with --remote) and bench/reliability/export.ts, when
//     present: each exports run({ root, log, quick }) and returns rows of its own;
// and prints one table: tried / recovered / failed / wrong results served, and the files
// each check's pipeline processes wrote outside the cache or reports/, or read outside the
// project and the configured sources (bench/reliability/fs-audit.mjs, loaded into each).
// "Wrong" is a run that exits 0 with a result different from an undisturbed run's. The
// exit code is 1 when anything is wrong or outside.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { copyProject } from '../test/helpers/project.ts';
import { EMBEDDED_HELDOUT_PATH } from '../lib/data/inputs.ts';
import { mulberry32 } from '../lib/rnn/prng.ts';

const USAGE = `usage: npx tsx bench/reliability.ts [flags]

  --quick          a few minutes: 10 faults, 2 kills, 2 reference seeds, one trial of each queue case
  --faults N       random cache-file faults, each followed by a run (default 100)
  --kills N        SIGKILLs during cold runs (default 20); with --queue also of workers (at most 3)
  --queue          also the queue: crafted jobs, SIGKILL of a worker, Redis stopped mid-sweep
                   (needs redis-server and nginx: apt-get install -y redis-server nginx)
  --remote         also bench/reliability/remote.ts (a poisoned remote cache), when present
  --seed S         the fault and timing draws (default 1)
  --only a,b,…     only these checks: ${'faults, kills, concurrent, locks, read-only, full, gc-sweep, queue-jobs, queue-kill, queue-redis, remote, export'}
  --help           this

Prints one table: tried, recovered, failed, wrong results served (must be 0), and files
written outside the cache or reports/, or read outside the project and configured sources.
Exit code 1 when anything was wrong or outside, 2 on a usage error.
`;
const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const FLAGS = new Set(['--quick', '--queue', '--remote']);
const VALUED = new Set(['--faults', '--kills', '--seed', '--only']);
for (let i = 0; i < argv.length; i++) {
  if (FLAGS.has(argv[i])) continue;
  if (VALUED.has(argv[i]) && argv[i + 1] !== undefined && (argv[i] === '--only' || /^\d+$/.test(argv[i + 1]))) {
    i++;
    continue;
  }
  process.stderr.write(`error: ${VALUED.has(argv[i]) ? `${argv[i]} needs ${argv[i] === '--only' ? 'a list of checks' : 'a whole number'}` : `unknown flag ${argv[i]}`}\nhint: npx tsx bench/reliability.ts --help\n`);
  process.exit(2);
}
const opt = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const QUICK = argv.includes('--quick');
const QUEUE = argv.includes('--queue');
const REMOTE = argv.includes('--remote');
const N = opt('faults', QUICK ? 10 : 100);
const K = opt('kills', QUICK ? 2 : 20);
const rng = mulberry32(opt('seed', 1));
const onlyArg = argv.indexOf('--only');
const only = onlyArg >= 0 ? argv[onlyArg + 1].split(',') : ['faults', 'kills', 'concurrent', 'locks', 'read-only', 'full', 'gc-sweep', 'export', ...(QUEUE ? ['queue-jobs', 'queue-kill', 'queue-redis'] : []), ...(REMOTE ? ['remote'] : [])];
const phase = (name: string) => only.includes(name);
const rand = (n: number) => Math.floor(rng.next() * n);
const pick = <T>(xs: T[]): T => xs[rand(xs.length)];

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const TINY = ['--set', 'train.hidden=8', '--set', 'train.epochs=30'];
const isRoot = process.getuid?.() === 0;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const project = copyProject();
fs.chmodSync(project, 0o755); // readable by the unprivileged user of the read-only check
const AUDIT = fileURLToPath(new URL('./reliability/fs-audit.mjs', import.meta.url));
const auditDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-rel-audit-'));
fs.chmodSync(auditDir, 0o777); // the read-only check's unprivileged user appends there too
let auditLog = path.join(auditDir, 'setup.log');
/** The audit's env for a pipeline process of the current check. */
const auditEnv = (): Record<string, string> => ({ NODE_OPTIONS: `--import ${AUDIT}`, TI_AUDIT_LOG: auditLog, TI_AUDIT_ROOT: project, ...NO_PAPER });
// The machine's copy of the paper's weights stays out of it, as in the tests: a default
// report would first build a second report on them (minutes, and nothing this measures).
const NO_PAPER = { TOTAL_INTERP_PAPER_WEIGHTS: '', TOTAL_INTERP_DOWNLOADS: path.join(project, 'downloads') };
/** Paths the current check's processes wrote (W) or read (R) outside what they may. */
function auditOf(file: string): { W: string[]; R: string[] } {
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  const pick = (k: string) => [...new Set(lines.filter((l) => l.startsWith(`${k} `)).map((l) => l.slice(2)))];
  return { W: pick('W'), R: pick('R') };
}

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
  report: string | null;
}

/** Run the CLI on a cache; `killAfterMs` sends SIGKILL then. Reads the report.json it names. */
function cli(cache: string, args: string[], o: { killAfterMs?: number; asUser?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const env = { ...process.env, ENWIK9: EMBEDDED_HELDOUT_PATH, TOTAL_INTERP_CACHE: cache, ...auditEnv(), ...o.env };
  const node = [process.execPath, '--import', tsxLoader, path.join(project, 'pipeline.ts'), ...args, '--json'];
  const [cmd, ...rest] = o.asUser ? ['setpriv', `--reuid=${o.asUser}`, `--regid=${o.asUser === 'nobody' ? 'nogroup' : o.asUser}`, '--clear-groups', ...node] : node;
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, rest, { cwd: project, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = o.killAfterMs !== undefined ? setTimeout(() => child.kill('SIGKILL'), o.killAfterMs) : null;
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      let report: string | null = null;
      if (code === 0) {
        try {
          const j = JSON.parse(stdout);
          report = j.reportJson ? fs.readFileSync(j.reportJson, 'utf8') : null;
        } catch {
          report = null;
        }
      }
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0, report });
    });
  });
}

const freshCache = (tag: string) => fs.mkdtempSync(path.join(os.tmpdir(), `ti-rel-${tag}-`));
const seedArgs = (seed: number) => ['report', ...TINY, '--set', `train.seed=${seed}`];
const ranStages = (r: Run) => (r.stdout ? (JSON.parse(r.stdout).stages as { name: string; status: string }[]).filter((s) => s.status === 'ran').map((s) => s.name) : []);
const firstError = (r: Run) => (r.stderr.split('\n').find((l) => l.startsWith('error:')) ?? r.stderr.trim().split('\n').pop() ?? '').slice(0, 160);

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name));
}
const badObjects = (cache: string) => filesUnder(path.join(cache, 'objects')).filter((f) => sha(fs.readFileSync(f)) !== path.basename(f));
/** Damaged objects some entry still points at (an unreferenced one is never read; gc removes it). */
const badReferenced = (cache: string) => {
  const refs = filesUnder(path.join(cache, 'entries')).filter((f) => f.endsWith('.json')).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  return badObjects(cache).filter((f) => refs.includes(path.basename(f)));
};

interface Row {
  name: string;
  tried: number;
  recovered: number;
  failed: number;
  wrong: number;
  note?: string;
  /** Files written outside the cache or reports/, read outside the project and sources (null: not audited). */
  outW?: number | null;
  outR?: number | null;
}
const rows: Row[] = [];
const log = (m: string) => process.stderr.write(`${m}\n`);

/** Run one check with its own audit log; its counts go on the check's last row. */
async function check(name: string, fn: () => Promise<void>): Promise<void> {
  if (!phase(name)) return;
  auditLog = path.join(auditDir, `${name}.log`);
  fs.writeFileSync(auditLog, '');
  fs.chmodSync(auditLog, 0o666);
  const before = rows.length;
  try {
    await fn();
  } catch (e) {
    rows.push({ name: `${name}: the check itself failed`, tried: 1, recovered: 0, failed: 1, wrong: 0, note: (e as Error).message.split('\n').slice(0, 3).join(' / ') });
  }
  const a = auditOf(auditLog);
  const own = rows.slice(before);
  for (const r of own) r.outW = r.outR = null;
  if (own.length) Object.assign(own[own.length - 1], { outW: a.W.length, outR: a.R.length });
  for (const f of [...a.W.map((x) => `written outside: ${x}`), ...a.R.map((x) => `read outside: ${x}`)].slice(0, 8)) log(`  ${name}: ${f}`);
}

// ---- reference reports: undisturbed cold runs ----
const SEEDS = QUICK ? [42, 43] : [42, 43, 44, 45];
const REF: Record<number, string> = {};
let coldMs = 0;
// (only for the checks that compare with them; the others make their own references)
const NEEDS_REF = ['faults', 'kills', 'concurrent', 'locks', 'read-only', 'full'].some(phase);
for (const seed of NEEDS_REF ? SEEDS : []) {
  const r = await cli(freshCache('ref'), seedArgs(seed));
  if (r.code !== 0 || !r.report) throw new Error(`reference run for seed ${seed} failed: ${r.stderr}`);
  REF[seed] = r.report;
  coldMs = Math.max(coldMs, r.ms);
  log(`reference seed ${seed}: ${(r.ms / 1000).toFixed(1)} s`);
}

// ---- N random faults on one built cache ----
await check('faults', async () => {
  const cache = freshCache('faults');
  const first = await cli(cache, seedArgs(42));
  if (first.report !== REF[42]) throw new Error('fault cache: first run differs from the reference');
  const KINDS = ['truncate', 'flip', 'append', 'swap', 'delete', 'wrong-shape'] as const;
  const byKind: Record<string, Row> = Object.fromEntries(KINDS.map((k) => [k, { name: `fault: ${k}`, tried: 0, recovered: 0, failed: 0, wrong: 0 }]));
  const failures: string[] = [];
  let leftDamaged = 0;
  for (let i = 0; i < N; i++) {
    const kind = pick([...KINDS]);
    const files = filesUnder(cache).filter((f) => /\/(objects|entries)\//.test(f));
    const f = pick(files);
    const bytes = fs.readFileSync(f);
    const isEntry = f.endsWith('.json') && f.includes(`${path.sep}entries${path.sep}`);
    switch (kind) {
      case 'truncate':
        fs.writeFileSync(f, bytes.subarray(0, rand(Math.max(1, bytes.length))));
        break;
      case 'flip': {
        const b = Buffer.from(bytes);
        if (b.length) b[rand(b.length)] ^= 1 << rand(8);
        else b.write('x');
        fs.writeFileSync(f, b);
        break;
      }
      case 'append':
        fs.appendFileSync(f, Buffer.from([rand(256), rand(256), rand(256)]));
        break;
      case 'swap': {
        // two files of the same kind (two objects, or two entries): both well-formed, both misplaced
        const same = files.filter((g) => g !== f && g.endsWith('.json') === f.endsWith('.json') && g.includes('/objects/') === f.includes('/objects/'));
        const g = same.length ? pick(same) : pick(files.filter((x) => x !== f));
        const other = fs.readFileSync(g);
        fs.writeFileSync(g, bytes);
        fs.writeFileSync(f, other);
        break;
      }
      case 'delete':
        fs.rmSync(f);
        break;
      case 'wrong-shape': {
        if (isEntry) {
          // valid JSON with a valid-looking checksum, but not an entry
          const body = { key: path.basename(f, '.json'), record: { stage: path.basename(path.dirname(f)) }, outputs: { json: 1 }, outputHash: 'x' };
          const canon = (v: any): string => (Array.isArray(v) ? `[${v.map(canon).join(',')}]` : v && typeof v === 'object' ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}` : JSON.stringify(v));
          fs.writeFileSync(f, JSON.stringify({ ...body, check: sha(Buffer.from(canon(body))) }));
        } else {
          // a well-formed object (msgpack map / JSON), just not this one
          fs.writeFileSync(f, rand(2) ? Buffer.from(JSON.stringify({ format: 'total-interp/tensor@1', dtype: 'float32', shape: [1], data: [0] })) : Buffer.from([0x81, 0xa1, 0x61, 0x01]));
        }
        break;
      }
    }
    fs.rmSync(path.join(project, 'reports'), { recursive: true, force: true }); // report.json comes from the cache
    const r = await cli(cache, seedArgs(42));
    const row = byKind[kind];
    row.tried++;
    if (r.code === 0 && r.report === REF[42]) row.recovered++;
    else if (r.code === 0) {
      row.wrong++;
      failures.push(`#${i} ${kind} ${path.relative(cache, f)}: WRONG report`);
    } else {
      row.failed++;
      failures.push(`#${i} ${kind} ${path.relative(cache, f)}: exit ${r.code}: ${firstError(r)}`);
    }
    leftDamaged += badReferenced(cache).length ? 1 : 0;
    if ((i + 1) % 10 === 0) log(`faults: ${i + 1}/${N}`);
  }
  const total: Row = { name: `faults (total)`, tried: 0, recovered: 0, failed: 0, wrong: 0, note: `runs after which an entry still pointed at a damaged object: ${leftDamaged}; unreferenced damaged objects at the end (never read; gc removes them): ${badObjects(cache).length}` };
  for (const k of KINDS) {
    rows.push(byKind[k]);
    for (const x of ['tried', 'recovered', 'failed', 'wrong'] as const) total[x] += byKind[k][x];
  }
  rows.push(total);
  for (const f of failures.slice(0, 10)) log(`  ${f}`);
  for (const f of badReferenced(cache).slice(0, 5)) log(`  damaged object still referenced: ${path.relative(cache, f)}`);
});

// ---- K SIGKILLs during cold runs on one accumulating cache ----
await check('kills', async () => {
  const cache = freshCache('kills');
  const row: Row = { name: 'SIGKILL mid-run, then a run', tried: 0, recovered: 0, failed: 0, wrong: 0 };
  const during: Record<string, number> = {};
  const failures: string[] = [];
  for (let i = 0; i < K; i++) {
    const seed = SEEDS[i % SEEDS.length];
    // cold: every stage but data recomputes (objects, tmp files and locks accumulate)
    // a random time within the run; a run that finishes first (the guess was too long) is
    // done again, cold, with a time drawn from the duration it just took
    let estimate = coldMs;
    let at = 0;
    let killed: Run;
    for (;;) {
      for (const d of fs.existsSync(path.join(cache, 'entries')) ? fs.readdirSync(path.join(cache, 'entries')) : []) {
        if (d !== 'data') fs.rmSync(path.join(cache, 'entries', d), { recursive: true, force: true });
      }
      at = Math.round(estimate * (0.05 + 0.9 * rng.next()));
      killed = await cli(cache, seedArgs(seed), { killAfterMs: at });
      if (killed.signal === 'SIGKILL') break;
      estimate = killed.ms;
    }
    const ran = killed.stderr.match(/ ran +\S+/g)?.length ?? 0;
    const where = `after ${ran} stages`;
    during[where] = (during[where] ?? 0) + 1;
    fs.rmSync(path.join(project, 'reports'), { recursive: true, force: true });
    const r = await cli(cache, seedArgs(seed));
    row.tried++;
    if (r.code === 0 && r.report === REF[seed]) row.recovered++;
    else if (r.code === 0) {
      row.wrong++;
      failures.push(`kill #${i} at ${at} ms: WRONG report`);
    } else {
      row.failed++;
      failures.push(`kill #${i} at ${at} ms: exit ${r.code}: ${firstError(r)}`);
    }
    log(`kill ${i + 1}/${K}: at ${at} ms (${where}); next run ${r.code === 0 ? (r.report === REF[seed] ? 'same report' : 'DIFFERENT report') : `exit ${r.code}`}`);
  }
  row.note = `kills landed: ${Object.entries(during).map(([k, v]) => `${k} ×${v}`).join(', ')}; tmp files left: ${filesUnder(path.join(cache, 'tmp')).length}`;
  rows.push(row);
  for (const f of failures) log(`  ${f}`);
});

// ---- 4 concurrent cold runs on one cache ----
await check('concurrent', async () => {
  const cache = freshCache('conc');
  (globalThis as any).concCache = cache;
  const runs = await Promise.all([0, 1, 2, 3].map(() => cli(cache, seedArgs(42))));
  const same = runs.filter((r) => r.code === 0 && r.report === REF[42]).length;
  const counts: Record<string, number> = {};
  for (const r of runs) for (const s of ranStages(r)) counts[s] = (counts[s] ?? 0) + 1;
  const twice = Object.entries(counts).filter(([, n]) => n > 1).map(([s, n]) => `${s} ×${n}`);
  rows.push({
    name: '4 concurrent cold runs',
    tried: 4,
    recovered: same,
    failed: runs.filter((r) => r.code !== 0).length,
    wrong: runs.filter((r) => r.code === 0 && r.report !== REF[42]).length,
    note: twice.length ? `built more than once: ${twice.join(', ')}` : `each of ${Object.keys(counts).length} stages built exactly once`,
  });
});

// ---- a lock left by a live unrelated process ----
await check('locks', async () => {
  const cache = freshCache('lock');
  await cli(cache, seedArgs(42));
  const entryDir = path.join(cache, 'entries', 'report');
  const key = fs.readdirSync(entryDir).find((f) => f.endsWith('.json'))!.slice(0, -5);
  const sleeper = spawn('sleep', ['600']); // alive, and not a pipeline
  const lockFile = path.join(cache, 'locks', `report-${key.slice(0, 16)}.lock`);
  const write = (h: object) => {
    fs.mkdirSync(path.dirname(lockFile), { recursive: true });
    fs.writeFileSync(lockFile, JSON.stringify({ pid: sleeper.pid, host: os.hostname(), since: new Date(Date.now() - 60_000).toISOString(), token: 'planted', leaseMs: 30_000, ...h }));
  };
  // lease expired: the next run proceeds at once
  fs.rmSync(path.join(entryDir, `${key}.json`));
  write({ expires: Date.now() - 1000 });
  const r1 = await cli(cache, seedArgs(42));
  rows.push({
    name: 'lock of a live unrelated pid, lease expired',
    tried: 1,
    recovered: r1.code === 0 && r1.report === REF[42] ? 1 : 0,
    failed: r1.code !== 0 ? 1 : 0,
    wrong: r1.code === 0 && r1.report !== REF[42] ? 1 : 0,
    note: `run took ${(r1.ms / 1000).toFixed(1)} s (lease 30 s)`,
  });
  // lease live (another host), a 2 s wait limit: a clear error, not a hang
  fs.rmSync(path.join(entryDir, `${key}.json`));
  write({ host: 'another-host', expires: Date.now() + 3600_000 });
  const r2 = await cli(cache, seedArgs(42), { env: { TOTAL_INTERP_LOCK_TIMEOUT: '2' } });
  const clear = r2.code !== 0 && /error: gave up after \d+ s waiting for the lock .*another-host/.test(r2.stderr) && /\nhint: if no process is building it, delete /.test(r2.stderr) && /waiting for process \d+ on host another-host since/.test(r2.stderr);
  rows.push({ name: 'live lease on another host, wait limit 2 s', tried: 1, recovered: clear ? 1 : 0, failed: clear ? 0 : 1, wrong: r2.code === 0 ? 1 : 0, note: `exit ${r2.code} after ${(r2.ms / 1000).toFixed(1)} s: ${firstError(r2)}` });
  sleeper.kill();
});

// ---- a read-only cache ----
await check('read-only', async () => {
  // fully cached for seed 42; then another data size moves data's `latest` pointer, so the
  // read-only run has something it cannot record
  let cache: string | undefined = (globalThis as any).concCache;
  if (!cache) {
    cache = freshCache('ro');
    await cli(cache, seedArgs(42));
  }
  const seed = 42;
  await cli(cache, ['run', 'data', '--set', 'data.bytes=512']);
  spawnSync('chmod', ['-R', 'a+rX,a-w', cache]);
  fs.mkdirSync(path.join(project, 'reports'), { recursive: true });
  if (isRoot) spawnSync('chmod', ['-R', 'a+rwX', path.join(project, 'reports')]);
  const r = await cli(cache, seedArgs(seed), isRoot ? { asUser: 'nobody' } : {});
  spawnSync('chmod', ['-R', 'u+w', cache]);
  const notices = r.stderr.split('\n').filter((l) => /not writable/.test(l));
  rows.push({
    name: `read-only cache, fully cached (${isRoot ? 'as nobody' : 'as this user'})`,
    tried: 1,
    recovered: r.code === 0 && r.report === REF[seed] && notices.length === 1 ? 1 : 0,
    failed: r.code !== 0 ? 1 : 0,
    wrong: r.code === 0 && r.report !== REF[seed] ? 1 : 0,
    note: `exit ${r.code}; ${notices.length} notice(s)${notices[0] ? `: ${notices[0].replace(cache, '<cache>').slice(0, 110)}…` : ''}${r.code ? `; ${firstError(r)}` : ''}`,
  });
});

// ---- a full cache: 1 MiB tmpfs ----
await check('full', async () => {
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-rel-full-'));
  const m = isRoot ? spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]) : { status: 1 };
  if (m.status !== 0) {
    rows.push({ name: 'full cache (1 MiB tmpfs)', tried: 0, recovered: 0, failed: 0, wrong: 0, note: 'not run: mounting a tmpfs needs root' });
  } else {
    const cache = path.join(mnt, 'cache');
    const r = await cli(cache, seedArgs(42));
    const lines = r.stderr.split('\n');
    const err = lines.find((l) => l.startsWith('error:')) ?? '';
    const hint = lines[lines.indexOf(err) + 1] ?? '';
    const bad = badObjects(cache).length;
    const tmpLeft = filesUnder(path.join(cache, 'tmp')).length;
    const ok = r.code !== 0 && err.includes(cache) && /ENOSPC/.test(err) && hint.startsWith('hint:') && bad === 0 && tmpLeft === 0;
    rows.push({
      name: 'full cache (1 MiB tmpfs)',
      tried: 1,
      recovered: ok ? 1 : 0,
      failed: ok ? 0 : 1,
      wrong: r.code === 0 && r.report !== REF[42] ? 1 : 0,
      note: `exit ${r.code}; objects failing their name: ${bad}; tmp files left: ${tmpLeft}; ${err.replace(mnt, '<tmpfs>')} / ${hint}`,
    });
    spawnSync('umount', [mnt]);
  }
});

// ---- gc, again and again, during a sweep ----
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const entryFile = (cache: string, id: string) => path.join(cache, 'entries', `${id}.json`);

await check('gc-sweep', async () => {
  const cache = freshCache('gcsweep');
  const seeds = QUICK ? [61, 62] : [61, 62, 63];
  const args = ['report', ...TINY, '--sweep', `train.seed=${seeds.join(',')}`, '--jobs', '1'];
  const sweep = cli(cache, args);
  let done = false;
  void sweep.then(() => (done = true));
  const gcs: Run[] = [];
  while (!done) {
    await sleep(500 + rand(1500));
    if (!done) gcs.push(await cli(cache, ['gc', '--yes', '--keep-recent', '0']));
  }
  const first = await sweep;
  const refused = gcs.filter((g) => g.code === 1 && /gc: .*in progress|another pipeline process is building/.test(g.stderr)).length;
  const ranClean = gcs.filter((g) => g.code === 0).length;
  let missing = 0;
  let same = false;
  let cachedAll = false;
  if (first.code === 0) {
    const agg = JSON.parse(first.stdout).reportJson as string;
    const ids: string[] = JSON.parse(fs.readFileSync(path.join(path.dirname(agg), 'built-from.json'), 'utf8')).entries;
    const after = await cli(cache, ['gc', '--yes', '--keep-recent', '0']); // the sweep done: its built-from.json keeps its points
    missing = ids.filter((id) => !fs.existsSync(entryFile(cache, id))).length;
    const again = await cli(cache, args);
    cachedAll = again.code === 0 && ranStages(again).length === 0 && after.code === 0;
    same = again.code === 0 && first.report === again.report;
  }
  rows.push({
    name: `gc --yes during a ${seeds.length}-point sweep`,
    tried: gcs.length,
    recovered: first.code === 0 && missing === 0 && same && cachedAll ? refused + ranClean : 0,
    failed: gcs.length - refused - ranClean + (first.code === 0 ? 0 : 1),
    wrong: missing + (first.code === 0 && !same ? 1 : 0),
    note: `gc refused ${refused}× (a sweep holds the cache), ran ${ranClean}×; sweep exit ${first.code}${first.code ? `: ${firstError(first)}` : ''}; entries built-from.json names missing after: ${missing}; the sweep again: ${cachedAll ? 'all cached' : 'NOT all cached'}, aggregate ${same ? 'identical' : 'DIFFERENT'}`,
  });
});

// ---- the queue: crafted jobs, SIGKILL of a worker, Redis stopped mid-sweep ----
if (QUEUE && ['queue-jobs', 'queue-kill', 'queue-redis'].some(phase)) {
  const servers = await import('../lib/queue/servers.ts');
  const why = servers.missing();
  if (why) {
    rows.push({ name: 'queue checks', tried: 0, recovered: 0, failed: 0, wrong: 0, note: `not run: ${why}`, outW: null, outR: null });
  } else {
    const { Queue, QueueEvents, Job } = await import('bullmq');
    const { Redis } = await import('ioredis');
    const { Pipeline } = await import('../lib/engine/pipeline.ts');
    const { submitSweep } = await import('../lib/queue/submit.ts');
    const { seedPoints } = await import('../lib/queue/cli.ts');
    const { QUEUE_NAME, submitterKey } = await import('../lib/queue/types.ts');
    const STAGES: string[] = (await import(pathToFileURL(path.join(project, 'pipeline.ts')).href)).STAGES;
    const TINY_O = { train: { hidden: 8, epochs: 30 } };
    const redis = await servers.startRedis();
    const nginx = await servers.startNginx();
    const remoteUrl = `${nginx.url}/cache`;
    const submitter = await Pipeline.load({ root: project, stageFiles: STAGES, cacheDir: freshCache('submitter'), reportsDir: path.join(freshCache('sub-reports'), 'reports'), env: { ENWIK9: EMBEDDED_HELDOUT_PATH } });
    submitter.reporter = { line: () => {}, stage: () => Object.assign(() => {}, { done() {} }) };
    interface W {
      name: string;
      proc: ReturnType<typeof spawn>;
      out: () => string;
      cache: string;
    }
    const workers: W[] = [];
    const startWorker = async (name: string, url = redis.url): Promise<W> => {
      const cache = freshCache(`worker-${name}`);
      const proc = spawn(process.execPath, ['--import', tsxLoader, path.join(project, 'pipeline.ts'), 'worker', '--queue', url, '--remote-cache', remoteUrl], {
        cwd: project,
        detached: true, // its own group, so the cleanup takes its job processes too
        env: { ...process.env, ENWIK9: EMBEDDED_HELDOUT_PATH, TOTAL_INTERP_CACHE: cache, TOTAL_INTERP_QUEUE_LOCK_MS: '2000', TOTAL_INTERP_WORKER_CONCURRENCY: '1', ...auditEnv() },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      proc.stdout!.on('data', (d) => (out += d));
      proc.stderr!.on('data', (d) => (out += d));
      const w = { name, proc, out: () => out, cache };
      workers.push(w);
      const t0 = Date.now();
      while (!/waiting for jobs/.test(out)) {
        if (proc.exitCode !== null) throw new Error(`worker ${name} exited: ${out.slice(-300)}`);
        if (Date.now() - t0 > 60_000) throw new Error(`worker ${name} did not start`);
        await sleep(100);
      }
      return w;
    };
    const stopWorker = async (w: W) => {
      if (w.proc.exitCode === null && w.proc.signalCode === null) {
        const gone = new Promise((r) => w.proc.once('exit', r));
        try {
          process.kill(-w.proc.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
        await gone;
      }
    };
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    /** The report of a seed built from the remote alone, on an empty cache: what the queue produced. */
    const fromRemote = (seed: number) => cli(freshCache('pull'), [...seedArgs(seed), '--remote-cache', remoteUrl]);
    /** An undisturbed local run's report for a seed the references do not have. */
    const reference = async (seed: number) => {
      if (REF[seed] === undefined) {
        const r = await cli(freshCache('ref'), seedArgs(seed));
        REF[seed] = r.report!;
        coldMs = Math.max(coldMs, r.ms);
      }
      return REF[seed];
    };

    try {
      await check('queue-jobs', async () => {
        let hits = 0;
        const web = (await import('node:http')).createServer((_q, res) => {
          hits++;
          res.end('x');
        });
        await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
        const secret = path.join(freshCache('secret'), 'secret.bin');
        fs.writeFileSync(secret, 'not for the worker\n', { mode: 0o600 });
        const crafted: { label: string; overrides: Record<string, Record<string, unknown>> }[] = [
          { label: 'shadow', overrides: { data: { path: '/etc/shadow' } } },
          { label: 'secret-model', overrides: { model: { source: secret } } },
          { label: 'secret-data', overrides: { data: { path: secret, bytes: 16 } } },
          { label: 'url', overrides: { data: { bytes: 4096, url: `http://127.0.0.1:${(web.address() as { port: number }).port}/enwik9.zip` } } },
        ];
        // At the submitter: refused before the queue.
        let subRefused = 0;
        for (const c of crafted) {
          try {
            await submitSweep([{ ...c, targets: ['model'] }], { queue: redis.url, pipeline: submitter, signals: false });
          } catch (e) {
            if (/^cannot queue point .*(names a file|is a URL)/.test((e as Error).message)) subRefused++;
          }
        }
        rows.push({ name: 'crafted points at the submitter', tried: crafted.length, recovered: subRefused, failed: crafted.length - subRefused, wrong: 0, note: 'data.path=/etc/shadow, model.source and data.path = a mode-600 file, data.url = a local server' });
        // Written straight into Redis, as anyone who can write to it could: refused by the worker.
        const w = await startWorker('guard');
        const queue = new Queue(QUEUE_NAME, { connection: { url: redis.url } });
        const events = new QueueEvents(QUEUE_NAME, { connection: { url: redis.url } });
        const r = new Redis(redis.url);
        await events.waitUntilReady();
        const live = 'ef'.repeat(12);
        await r.set(submitterKey(live), 'bench', 'PX', 120_000);
        let refused = 0;
        let built = 0;
        const reasons: string[] = [];
        const all = [...crafted, { label: 'no-submitter', overrides: {}, dead: true }];
        for (const c of all) {
          const job = await queue.add('point', { label: c.label, overrides: c.overrides, targets: ['model'], submitter: 'dead' in c ? 'aa'.repeat(12) : live, data: { sha256: '0'.repeat(64) } }, { attempts: 3, backoff: { type: 'fixed', delay: 200 } });
          try {
            await job.waitUntilFinished(events, 60_000);
            built++;
          } catch (e) {
            const j = await Job.fromId(queue, job.id!);
            reasons.push((e as Error).message.split('\n')[0]);
            if (j?.attemptsMade === 1 && /^refused job /.test(j.failedReason)) refused++;
          }
        }
        await Promise.allSettled([queue.close(), events.close()]);
        r.disconnect();
        web.close();
        await stopWorker(w);
        const leaked = filesUnder(w.cache).filter((f) => fs.readFileSync(f).includes('not for the worker')).length;
        rows.push({
          name: 'crafted jobs written into Redis',
          tried: all.length,
          recovered: refused,
          failed: all.length - refused - built,
          wrong: built + (hits > 0 ? 1 : 0) + leaked,
          note: `refused once each, no retry: ${refused}; built: ${built}; requests to the URL: ${hits}; cache files holding the secret: ${leaked}; e.g. "${(reasons[0] ?? '').slice(0, 110)}"`,
        });
      });

      await check('queue-kill', async () => {
        const trials = QUICK ? 1 : Math.min(3, K);
        const row: Row = { name: 'SIGKILL of a worker main process mid-point', tried: 0, recovered: 0, failed: 0, wrong: 0 };
        const notes: string[] = [];
        const r = new Redis(redis.url);
        const pool = [await startWorker('k1'), await startWorker('k2')];
        for (let t = 0; t < trials; t++) {
          const seed = 70 + t;
          const ev: { label: string; status: string; stage?: string }[] = [];
          const done = submitSweep(seedPoints([seed], TINY_O), { queue: redis.url, pipeline: submitter, onEvent: (e) => ev.push(e), signals: false, backoffMs: 200, goneMs: 120_000 });
          done.catch(() => {});
          const t0 = Date.now();
          let victim: W | undefined;
          while (!(victim = pool.find((w) => new RegExp(`\\[seed${seed}\\] building`).test(w.out())))) {
            if (Date.now() - t0 > 60_000) throw new Error(`seed ${seed} never started`);
            await sleep(50);
          }
          while (!ev.some((e) => e.label === `seed${seed}` && e.status === 'start' && e.stage === 'train') && Date.now() - t0 < 60_000) await sleep(20);
          await sleep(rand(300));
          const kids = spawnSync('pgrep', ['-P', String(victim.proc.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
          const locks = await r.keys('total-interp:lock:*');
          victim.proc.kill('SIGKILL'); // the main process only: its job process is orphaned
          const t1 = Date.now();
          while (kids.some(alive) && Date.now() - t1 < 15_000) await sleep(100);
          const orphanMs = Date.now() - t1;
          const orphanGone = !kids.some(alive);
          const res = await Promise.race([done.then(() => 'done', (e: Error) => `failed: ${e.message.split('\n')[0]}`), sleep(180_000).then(() => 'hung')]);
          const got = res === 'done' ? await fromRemote(seed) : null;
          const want = await reference(seed);
          row.tried++;
          const ok = orphanGone && res === 'done' && got?.code === 0 && got.report === want;
          if (ok) row.recovered++;
          else if (got?.code === 0 && got.report !== want) row.wrong++;
          else row.failed++;
          notes.push(`#${t + 1}: job process ${orphanGone ? `gone after ${(orphanMs / 1000).toFixed(1)} s` : 'STILL RUNNING'} (locks held then: ${locks.length}), sweep ${res}`);
          // the pool again: a fresh worker for the dead one
          await stopWorker(victim);
          pool.splice(pool.indexOf(victim), 1, await startWorker(`k${t + 3}`));
        }
        r.disconnect();
        for (const w of pool) await stopWorker(w);
        row.note = notes.join('; ');
        rows.push(row);
      });

      await check('queue-redis', async () => {
        const own = await servers.startRedis();
        const w = await startWorker('redis', own.url);
        const seed = 80;
        const args = [...seedArgs(seed).slice(0, -2), '--seeds', String(seed), '--queue', own.url, '--remote-cache', remoteUrl];
        const env = { TOTAL_INTERP_QUEUE_GONE_MS: '3000' };
        const sub = cli(freshCache('sub-redis'), args, { env });
        const t0 = Date.now();
        while (!new RegExp(`\\[seed=${seed}\\] building`).test(w.out())) {
          if (Date.now() - t0 > 60_000) throw new Error('the point never started');
          await sleep(50);
        }
        await sleep(300 + rand(700));
        const t1 = Date.now();
        await own.stop();
        const first = await Promise.race([sub, sleep(60_000).then(() => null)]);
        const gaveUpMs = Date.now() - t1;
        const clear = !!first && first.code === 1 && /\nerror: the queue at redis:\/\/127\.0\.0\.1:\d+ has not answered for \d+ s; giving up\nhint: /.test(first.stderr) && !/Unhandled error event|^\s+at /m.test(first.stderr);
        // Redis back (empty) on the same port: the worker reconnects; the same command again.
        const back = await servers.startRedis({ port: own.port });
        const again = await Promise.race([cli(freshCache('sub-redis2'), args, { env }), sleep(240_000).then(() => null)]);
        const want = await reference(seed);
        const agg = again?.code === 0 ? JSON.parse(again.stdout).seeds?.[0]?.reportJson : null;
        const report = agg ? fs.readFileSync(agg, 'utf8') : null;
        await stopWorker(w);
        await back.stop();
        rows.push({
          name: 'Redis stopped mid-sweep, then back empty',
          tried: 1,
          recovered: clear && report === want ? 1 : 0,
          failed: clear && report === want ? 0 : report !== null && report !== want ? 0 : 1,
          wrong: report !== null && report !== want ? 1 : 0,
          note: `submitter ${first ? `exit ${first.code} after ${(gaveUpMs / 1000).toFixed(1)} s (GONE_MS 3 s): ${clear ? 'one clear error, no stack dump' : `UNCLEAR: ${firstError(first)}`}` : 'HUNG'}; submitted again: ${again ? `exit ${again.code}${again.code ? ` (${firstError(again)})` : ''}, report ${report === want ? 'identical' : 'DIFFERENT'}` : 'HUNG'}`,
        });
      });
    } finally {
      for (const w of workers) await stopWorker(w);
      await Promise.all([redis.stop(), nginx.stop()]);
    }
  }
}

// ---- the other engineers' checks: bench/reliability/{remote,export}.ts, when present ----
for (const [name, on] of [['remote', REMOTE], ['export', true]] as const) {
  if (!on || !phase(name)) continue;
  const file = fileURLToPath(new URL(`./reliability/${name}.ts`, import.meta.url));
  if (!fs.existsSync(file)) {
    if (name === 'remote') rows.push({ name: 'remote cache checks', tried: 0, recovered: 0, failed: 0, wrong: 0, note: `not run: bench/reliability/${name}.ts is not in this checkout`, outW: null, outR: null });
    continue;
  }
  await check(name, async () => {
    type ModRow = { name: string; tried: number; recovered: number; wrong: number; note?: string };
    const mod = (await import(pathToFileURL(file).href)) as { run: (o: { root: string; log: (s: string) => void; quick?: boolean }) => Promise<ModRow[]> };
    const got = await mod.run({ root: project, log, quick: QUICK });
    rows.push(...got.map((r) => ({ ...r, name: `${name}: ${r.name}`, failed: r.tried - r.recovered - r.wrong })));
  });
}

// ---- the table ----
const cell = (v: number | null | undefined, w: number) => (v === undefined || v === null ? '·' : String(v)).padStart(w);
const w = Math.max(5, ...rows.map((r) => r.name.length));
console.log(`\nreliability (H = 8, 30 epochs, 1 KB data; cold run ${(coldMs / 1000).toFixed(1)} s; faults ${N}, kills ${K}${QUICK ? '; --quick' : ''}${QUEUE ? '; --queue' : ''}${REMOTE ? '; --remote' : ''})\n`);
console.log(`${'check'.padEnd(w)}  tried  recovered  failed  wrong  written outside  read outside`);
for (const r of rows) {
  console.log(`${r.name.padEnd(w)}  ${cell(r.tried, 5)}  ${cell(r.recovered, 9)}  ${cell(r.failed, 6)}  ${cell(r.wrong, 5)}  ${cell(r.outW, 15)}  ${cell(r.outR, 12)}${r.note ? `\n${''.padEnd(w)}  ${r.note}` : ''}`);
}
const sum = (k: 'wrong' | 'outW' | 'outR') => rows.reduce((a, r) => a + (r[k] ?? 0), 0);
console.log(`\nwrong results served: ${sum('wrong')}; files written outside the cache or reports/: ${sum('outW')}; files read outside the project and configured sources: ${sum('outR')}`);
console.log('(written/read outside: per check, on its last row, from bench/reliability/fs-audit.mjs in every pipeline process; · = not audited)');
fs.rmSync(project, { recursive: true, force: true });
fs.rmSync(auditDir, { recursive: true, force: true });
if (sum('wrong') || sum('outW') || sum('outR')) process.exitCode = 1;
