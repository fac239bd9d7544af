// The command line on the toy project (child processes): strict flags and positionals,
// exit codes, per-command help, --version, --quiet, --exit-code, EPIPE, dag --json and
// errors as JSON.

import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli, makeToy } from '../engine/toy.ts';

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

  it('--version prints the version from package.json', async () => {
    const r = await cli(dir, ['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

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
