// The command line on the toy project (child processes): strict flags and positionals,
// exit codes, per-command help, --version, --quiet, --exit-code, EPIPE, dag --json and
// errors as JSON.

import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli, makeToy, TOY_FILES } from '../engine/toy.ts';
import { interruptWhen } from '../helpers/interrupt.ts';
import { ENGINE_VERSION } from '../../lib/engine/decide/key.ts';

const version = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const entries = (dir: string) => (fs.existsSync(path.join(dir, 'cache/entries')) ? fs.readdirSync(path.join(dir, 'cache/entries'), { recursive: true }).filter((f) => String(f).endsWith('.json')) : []);

/** One error line and one hint line on stderr. */
function expectUsageError(r: { code: number | null; stderr: string }, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^error: /);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.split('\n').filter((l) => l.startsWith('hint: '))).toHaveLength(1);
}

describe('CLI: usage errors exit 2 and run nothing', () => {
  const dir = makeToy();

  it('--force with an unknown stage lists the valid stages and builds nothing', async () => {
    const r = await cli(dir, ['run', 'c', '--force', 'nosuch']);
    expectUsageError(r, /--force: unknown stage "nosuch"\nvalid stages: a, b, c, d, slow, e/);
    expect(r.stderr).not.toMatch(/ran/);
    expect(entries(dir)).toEqual([]);
  });

  it('unknown stages, stray positionals and flags a command does not take are errors', async () => {
    expectUsageError(await cli(dir, ['run', 'nosuch']), /unknown stage "nosuch"/);
    expectUsageError(await cli(dir, ['status', 'extra']), /too many arguments for 'status'/);
    expectUsageError(await cli(dir, ['report', 'extra', 'words']), /too many arguments for 'report'/);
    expectUsageError(await cli(dir, ['status', '--force']), /unknown option '--force'/);
    expectUsageError(await cli(dir, ['dag', '--jobs', '2']), /unknown option '--jobs'/);
    expectUsageError(await cli(dir, ['run', 'c', '--forse']), /did you mean --force\?/i);
    expectUsageError(await cli(dir, ['nosuch-command']), /too many arguments|unknown command/);
    expectUsageError(await cli(dir, ['run', 'c', '--jobs', 'zero']), /positive integer/);
    expect(entries(dir)).toEqual([]);
  }, 30000);

  it('with --json an error is one object on stdout, and still error:/hint: on stderr', async () => {
    const r = await cli(dir, ['run', 'nosuch', '--json']);
    expect(r.code).toBe(2);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['error']);
    expect(j.error.reason).toBe('unknown-stage');
    expect(j.error.message).toMatch(/unknown stage "nosuch"\nvalid stages: a, b/);
    expect(j.error.hint).toMatch(/run --help/);
    expect(r.stderr).toMatch(/^error: unknown stage/m);
    expect(r.stderr).toMatch(/^hint: /m);
  });
});

describe('CLI: help, version, quiet', () => {
  const dir = makeToy();

  it("each command's --help lists only its own flags", async () => {
    const status = (await cli(dir, ['status', '--help'])).stdout;
    expect(status).toMatch(/^usage: npx tsx pipeline.ts status/);
    expect(status).toMatch(/--exit-code/);
    expect(status).not.toMatch(/--force|--jobs|--seeds|--yes/);
    const gc = (await cli(dir, ['gc', '--help'])).stdout;
    expect(gc).toMatch(/--yes/);
    expect(gc).toMatch(/--dry-run/);
    expect(gc).not.toMatch(/--force|--jobs|--exit-code/);
    const report = (await cli(dir, ['report', '--help'])).stdout;
    expect(report).toMatch(/--force \[stage\]/);
    expect(report).not.toMatch(/--yes|--exit-code/);
  });

  it('--version prints the version from package.json, the cache format and node\'s version', async () => {
    const r = await cli(dir, ['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`total-interp ${version} (cache format ${ENGINE_VERSION}, node ${process.versions.node})`);
  });

  it('help --help and help COMMAND print help; help NOSUCH is a usage error', async () => {
    const top = await cli(dir, ['help', '--help']);
    expect(top.code, top.stderr).toBe(0);
    expect(top.stdout).toMatch(/^usage: npx tsx pipeline.ts \[options\] \[command\]/);
    const one = await cli(dir, ['help', 'gc']);
    expect(one.stdout).toMatch(/^usage: npx tsx pipeline.ts gc /);
    expectUsageError(await cli(dir, ['help', 'nosuch']), /unknown command 'nosuch'/);
  }, 30000);

  it('ls on a project with no reports says so; with one it prints its row, as CSV too', async () => {
    const d = makeToy();
    const empty = await cli(d, ['ls']);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toBe('no reports under reports/ yet: npx tsx pipeline.ts report builds one\n');
    fs.mkdirSync(path.join(d, 'reports', 'r1'), { recursive: true });
    fs.writeFileSync(path.join(d, 'reports', 'r1', 'report.json'), JSON.stringify({ label: 'r1', overrides: { a: { n: 7 } }, summary: { agree: 3, approx: 1, disagree: 2 }, metrics: { trained_bpc: { value: 0.5 }, 'rebuild.trained.heldout_bpc': { value: 6.25 }, 'rebuild.marginal.heldout_bpc': { value: 5 }, 'rebuild.marginal.bpc': { value: 4.5 }, 'rebuild.rules_x.bpc': { value: 1.25 }, 'rebuild.ref_construction.bpc': { value: 0.75 }, 'rebuild.full.bpc': { value: 0.5 } }, tables: {} }));
    const ls = await cli(d, ['ls']);
    // held-out: the trained model's; the best Q4 level: a described level, not full nor a reference
    expect(ls.stdout.split('\n')[2]).toMatch(/^r1 +n=7 +0\.5 +6\.25 +3\/1\/2 +— +0\.75 \(rules_x\) +\d{4}-\d\d-\d\d \d\d:\d\d +(fresh|stale|missing|unknown)$/);
    expect((await cli(d, ['exp', 'show'])).stdout).toBe(ls.stdout); // DVC's name for it
    const csv = (await cli(d, ['ls', '--csv', '--metrics', 'trained_bpc,figures'])).stdout;
    expect(csv.split('\n')[1]).toMatch(/^r1,report,n=7,0\.5,3\/1\/2,\S+Z,\w+$/);
  }, 30000);

  it('Ctrl-C while a stage waits (here on a timer): one line, its lock released at once, exit 130', async () => {
    // slow, made to wait instead of spinning: Node runs the handler when the stage pauses.
    const d = makeToy({ ...TOY_FILES, 'stages/slow.ts': `export default { name: 'slow', description: 'waits', inputs: ['b'],
  async run({ params }) { await new Promise((r) => setTimeout(r, params.ms)); return { json: { out: 1 } }; } };\n` });
    const t0 = Date.now();
    const locks = path.join(d, 'cache', 'locks');
    const r = await interruptWhen(d, ['run', 'slow', '--set', 'slow.ms=20000'], () => fs.existsSync(locks) && fs.readdirSync(locks).some((f) => f.startsWith('slow-')));
    const sentAt = r.sentAt;
    expect(r.code).toBe(130);
    expect(Date.now() - sentAt).toBeLessThan(5000); // not after the 20 s wait
    expect(r.stderr, r.stderr).toMatch(/^interrupted \(Ctrl-C\): stopped, released \d+ locks?; stages already built stay cached$/m);
    expect(r.stderr.match(/^interrupted/gm)).toHaveLength(1);
    expect(fs.readdirSync(path.join(d, 'cache', 'locks')).filter((f) => f.endsWith('.lock'))).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(20000);
  }, 30000);

  it('Ctrl-C with --jobs 1 while a long stage computes without pausing: it runs in a child, so one line, its lock released, exit 130 at once', async () => {
    // slow declared long and spinning for 20 s: in this process it would answer only when done.
    const d = makeToy({ ...TOY_FILES, 'stages/slow.ts': `import fs from 'node:fs';
export default { name: 'slow', description: 'spins', inputs: ['b'], long: true,
  run({ params }) { fs.writeFileSync('slow.pid', String(process.pid)); const end = performance.now() + params.ms; while (performance.now() < end) {} return { json: { out: 1 } }; } };\n` });
    // the stage is running (its pid written) and its lock held
    const r = await interruptWhen(d, ['run', 'slow', '--jobs', '1', '--set', 'slow.ms=20000'], () => fs.existsSync(path.join(d, 'slow.pid')) && fs.readdirSync(path.join(d, 'cache', 'locks')).some((f) => f.startsWith('slow-')));
    const { sentAt } = r;
    expect(r.code, r.stderr).toBe(130);
    expect(Date.now() - sentAt).toBeLessThan(5000); // not after the 20 s spin
    expect(r.stderr.match(/^interrupted \(Ctrl-C\): stopped, released \d+ locks?; stages already built stay cached$/gm), r.stderr).toHaveLength(1);
    expect(r.stderr.split('\n').filter((l) => /^(error|warning)/.test(l))).toEqual([]);
    expect(fs.readdirSync(path.join(d, 'cache', 'locks')).filter((f) => f.endsWith('.lock'))).toEqual([]);
    // the stage ran in a child process, and that child is gone with its parent
    const pid = Number(fs.readFileSync(path.join(d, 'slow.pid'), 'utf8'));
    const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
    for (let i = 0; i < 40 && alive(); i++) await new Promise((res) => setTimeout(res, 50));
    expect(alive()).toBe(false);
  }, 30000);

  it('--quiet leaves stderr empty on success', async () => {
    const r = await cli(dir, ['run', 'c', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const loud = await cli(dir, ['run', 'c']);
    expect(loud.stderr).toMatch(/cached\s+c/);
  });
});

describe('CLI: check modes, pipes, dag --json', () => {
  it('status --exit-code is 1 while a stage is stale or missing, 0 when all are fresh', async () => {
    const dir = makeToy();
    const set = ['--set', 'slow.ms=5'];
    expect((await cli(dir, ['status', '--exit-code', ...set])).code).toBe(1);
    expect((await cli(dir, ['status', ...set])).code).toBe(0); // without the flag: a report, not a check
    expect((await cli(dir, ['run', 'c', 'd', 'slow', 'e', ...set])).code).toBe(0);
    expect((await cli(dir, ['status', '--exit-code', ...set])).code).toBe(0);
    fs.appendFileSync(path.join(dir, 'stages/b.ts'), '// edit\n');
    expect((await cli(dir, ['status', '--exit-code', ...set])).code).toBe(1);
  }, 30000);

  it('diff --exit-code is 1 when the reports differ, 0 when they agree', async () => {
    const dir = makeToy();
    const write = (label: string, v: number) => {
      fs.mkdirSync(path.join(dir, 'reports', label), { recursive: true });
      fs.writeFileSync(path.join(dir, 'reports', label, 'report.json'), JSON.stringify({ label, metrics: { m: { value: v } }, tables: {} }));
    };
    write('A', 1);
    write('B', 2);
    write('C', 1);
    expect((await cli(dir, ['diff', 'A', 'C', '--exit-code'])).code).toBe(0);
    const r = await cli(dir, ['diff', 'A', 'B', '--exit-code', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).metrics).toEqual([{ metric: 'm', a: 1, b: 2, delta: 1, band: null, flagged: false }]);
    expect((await cli(dir, ['diff', 'A', 'B'])).code).toBe(0);
    expectUsageError(await cli(dir, ['diff', 'A', 'nosuch']), /no report "nosuch"[\s\S]*reports: A, B, C/);
  }, 30000);

  it('a closed stdout (status | head -1) ends quietly', async () => {
    const dir = makeToy();
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', tsxLoader, path.join(dir, 'pipeline.ts'), 'status'], { cwd: dir });
      child.stdout.destroy(); // the reader goes away before the first write
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('dag --json gives every stage with its section, description and inputs', async () => {
    const dir = makeToy();
    const r = await cli(dir, ['dag', '--json']);
    const j = JSON.parse(r.stdout);
    expect(j.stages.map((s: any) => s.name)).toEqual(['a', 'b', 'c', 'd', 'slow', 'e']);
    expect(j.stages[1]).toEqual({ name: 'b', section: null, description: 'sum', inputs: ['a'] });
  });
});
