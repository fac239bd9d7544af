// `npm run bench -- reliability [--faults N] [--kills K] [--seed S]`: what the cache survives.
// A script, not a test: it takes minutes. On a project copy with a tiny configuration
// (H = 8, 30 epochs, the 1 KB reference data) it measures
//   - N random faults on random cache files (truncate, flip a byte, append, swap two files,
//     delete, replace with a well-formed object of the wrong shape), each followed by a run;
//   - K SIGKILLs at random times during cold runs on one accumulating cache, each followed
//     by an undisturbed run;
//   - 4 concurrent cold runs on one cache;
//   - a lock left by a live unrelated process whose lease has expired (and one whose lease
//     is live, with a short wait limit);
//   - a read-only cache (as a non-root user when run as root) and a full one (a 1 MiB tmpfs,
//     when run as root);
// and prints tried / recovered / failed / wrong results served. "Wrong" is a run that exits
// 0 with a report.json different from an undisturbed run's.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { copyProject } from '../test/helpers/project.ts';
import { EMBEDDED_HELDOUT_PATH } from '../lib/data/inputs.ts';
import { mulberry32 } from '../lib/rnn/prng.ts';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const N = opt('faults', 100);
const K = opt('kills', 20);
const rng = mulberry32(opt('seed', 1));
const onlyArg = argv.indexOf('--only');
const only = onlyArg >= 0 ? argv[onlyArg + 1].split(',') : ['faults', 'kills', 'concurrent', 'locks', 'read-only', 'full'];
const phase = (name: string) => only.includes(name);
const rand = (n: number) => Math.floor(rng.next() * n);
const pick = <T>(xs: T[]): T => xs[rand(xs.length)];

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const TINY = ['--set', 'train.hidden=8', '--set', 'train.epochs=30'];
const isRoot = process.getuid?.() === 0;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const project = copyProject();
fs.chmodSync(project, 0o755); // readable by the unprivileged user of the read-only check

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
  const env = { ...process.env, ENWIK9: EMBEDDED_HELDOUT_PATH, TOTAL_INTERP_CACHE: cache, ...o.env };
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
  what: string;
  tried: number;
  recovered: number;
  failed: number;
  wrong: number;
  note?: string;
}
const rows: Row[] = [];
const log = (m: string) => process.stderr.write(`${m}\n`);

// ---- reference reports: undisturbed cold runs ----
const SEEDS = [42, 43, 44, 45];
const REF: Record<number, string> = {};
let coldMs = 0;
for (const seed of SEEDS) {
  const r = await cli(freshCache('ref'), seedArgs(seed));
  if (r.code !== 0 || !r.report) throw new Error(`reference run for seed ${seed} failed: ${r.stderr}`);
  REF[seed] = r.report;
  coldMs = Math.max(coldMs, r.ms);
  log(`reference seed ${seed}: ${(r.ms / 1000).toFixed(1)} s`);
}

// ---- N random faults on one built cache ----
if (phase('faults')) {
  const cache = freshCache('faults');
  const first = await cli(cache, seedArgs(42));
  if (first.report !== REF[42]) throw new Error('fault cache: first run differs from the reference');
  const KINDS = ['truncate', 'flip', 'append', 'swap', 'delete', 'wrong-shape'] as const;
  const byKind: Record<string, Row> = Object.fromEntries(KINDS.map((k) => [k, { what: `fault: ${k}`, tried: 0, recovered: 0, failed: 0, wrong: 0 }]));
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
  const total: Row = { what: `faults (total)`, tried: 0, recovered: 0, failed: 0, wrong: 0, note: `runs after which an entry still pointed at a damaged object: ${leftDamaged}; unreferenced damaged objects at the end (never read; gc removes them): ${badObjects(cache).length}` };
  for (const k of KINDS) {
    rows.push(byKind[k]);
    for (const x of ['tried', 'recovered', 'failed', 'wrong'] as const) total[x] += byKind[k][x];
  }
  rows.push(total);
  for (const f of failures.slice(0, 10)) log(`  ${f}`);
  for (const f of badReferenced(cache).slice(0, 5)) log(`  damaged object still referenced: ${path.relative(cache, f)}`);
}

// ---- K SIGKILLs during cold runs on one accumulating cache ----
if (phase('kills')) {
  const cache = freshCache('kills');
  const row: Row = { what: 'SIGKILL mid-run, then a run', tried: 0, recovered: 0, failed: 0, wrong: 0 };
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
}

// ---- 4 concurrent cold runs on one cache ----
if (phase('concurrent')) {
  const cache = freshCache('conc');
  (globalThis as any).concCache = cache;
  const runs = await Promise.all([0, 1, 2, 3].map(() => cli(cache, seedArgs(42))));
  const same = runs.filter((r) => r.code === 0 && r.report === REF[42]).length;
  const counts: Record<string, number> = {};
  for (const r of runs) for (const s of ranStages(r)) counts[s] = (counts[s] ?? 0) + 1;
  const twice = Object.entries(counts).filter(([, n]) => n > 1).map(([s, n]) => `${s} ×${n}`);
  rows.push({
    what: '4 concurrent cold runs',
    tried: 4,
    recovered: same,
    failed: runs.filter((r) => r.code !== 0).length,
    wrong: runs.filter((r) => r.code === 0 && r.report !== REF[42]).length,
    note: twice.length ? `built more than once: ${twice.join(', ')}` : `each of ${Object.keys(counts).length} stages built exactly once`,
  });
}

// ---- a lock left by a live unrelated process ----
if (phase('locks')) {
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
    what: 'lock of a live unrelated pid, lease expired',
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
  rows.push({ what: 'live lease on another host, wait limit 2 s', tried: 1, recovered: clear ? 1 : 0, failed: clear ? 0 : 1, wrong: r2.code === 0 ? 1 : 0, note: `exit ${r2.code} after ${(r2.ms / 1000).toFixed(1)} s: ${firstError(r2)}` });
  sleeper.kill();
}

// ---- a read-only cache ----
if (phase('read-only')) {
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
    what: `read-only cache, fully cached (${isRoot ? 'as nobody' : 'as this user'})`,
    tried: 1,
    recovered: r.code === 0 && r.report === REF[seed] && notices.length === 1 ? 1 : 0,
    failed: r.code !== 0 ? 1 : 0,
    wrong: r.code === 0 && r.report !== REF[seed] ? 1 : 0,
    note: `exit ${r.code}; ${notices.length} notice(s)${notices[0] ? `: ${notices[0].replace(cache, '<cache>').slice(0, 110)}…` : ''}${r.code ? `; ${firstError(r)}` : ''}`,
  });
}

// ---- a full cache: 1 MiB tmpfs ----
if (phase('full')) {
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-rel-full-'));
  const m = isRoot ? spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]) : { status: 1 };
  if (m.status !== 0) {
    rows.push({ what: 'full cache (1 MiB tmpfs)', tried: 0, recovered: 0, failed: 0, wrong: 0, note: 'not run: mounting a tmpfs needs root' });
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
      what: 'full cache (1 MiB tmpfs)',
      tried: 1,
      recovered: ok ? 1 : 0,
      failed: ok ? 0 : 1,
      wrong: r.code === 0 && r.report !== REF[42] ? 1 : 0,
      note: `exit ${r.code}; objects failing their name: ${bad}; tmp files left: ${tmpLeft}; ${err.replace(mnt, '<tmpfs>')} / ${hint}`,
    });
    spawnSync('umount', [mnt]);
  }
}

// ---- the table ----
const w = Math.max(...rows.map((r) => r.what.length));
console.log(`\nreliability (H = 8, 30 epochs, 1 KB data; cold run ${(coldMs / 1000).toFixed(1)} s; faults ${N}, kills ${K})\n`);
console.log(`${'check'.padEnd(w)}  tried  recovered  failed  wrong results served`);
for (const r of rows) console.log(`${r.what.padEnd(w)}  ${String(r.tried).padStart(5)}  ${String(r.recovered).padStart(9)}  ${String(r.failed).padStart(6)}  ${String(r.wrong).padStart(20)}${r.note ? `\n${''.padEnd(w)}  ${r.note}` : ''}`);
fs.rmSync(project, { recursive: true, force: true });
