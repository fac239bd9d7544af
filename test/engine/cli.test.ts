import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, makeToy, TOY_FILES } from './toy.ts';

describe('pipeline CLI (toy project, child processes)', () => {
  it('run --json prints exactly one JSON object with the fixed shape; a second run is all cached', async () => {
    const dir = makeToy();
    const r1 = await cli(dir, ['run', 'c', '--json']);
    expect(r1.code).toBe(0);
    const j1 = JSON.parse(r1.stdout);
    expect(Object.keys(j1).sort()).toEqual(['report', 'reportJson', 'stages']);
    expect(j1.report).toBeNull();
    expect(j1.stages.map((s: any) => [s.name, s.status])).toEqual([['a', 'ran'], ['b', 'ran'], ['c', 'ran']]);
    for (const s of j1.stages) expect(Object.keys(s).sort()).toEqual(['key', 'name', 'seconds', 'status']);
    const r2 = await cli(dir, ['run', 'c', '--json']);
    expect(JSON.parse(r2.stdout).stages.map((s: any) => s.status)).toEqual(['cached', 'cached', 'cached']);
    expect(r2.stderr).toMatch(/cached\s+a/);
  });

  it('status --json and dag reflect an edit', async () => {
    const dir = makeToy();
    await cli(dir, ['run', 'c', 'd']);
    fs.appendFileSync(path.join(dir, 'stages/b.ts'), '// edit\n');
    const st = await cli(dir, ['status', '--json']);
    const j = JSON.parse(st.stdout);
    const byName = Object.fromEntries(j.stages.map((s: any) => [s.name, s]));
    expect(byName.a).toEqual({ name: 'a', state: 'fresh', reasons: [] });
    expect(byName.b).toEqual({ name: 'b', state: 'stale', reasons: ['code changed: stages/b.ts'] });
    expect(byName.c.state).toBe('stale');
    expect(byName.slow).toEqual({ name: 'slow', state: 'missing', reasons: ['upstream b stale', 'never built'] });
    const dag = await cli(dir, ['dag']);
    expect(dag.stdout).toMatch(/^flowchart LR/);
    expect(dag.stdout).toContain('a --> b');
    expect(dag.stdout).toContain('b --> c');
  });

  it('an unknown --set stage or param is an error that lists the valid ones', async () => {
    const dir = makeToy();
    const r = await cli(dir, ['run', 'a', '--set', 'a.m=3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown param "a\.m"/);
    expect(r.stderr).toMatch(/valid params of a: n, offset/);
    const r2 = await cli(dir, ['run', 'a', '--set', 'zz.n=3']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/unknown stage "zz".*\nvalid stages: a, b, c, d, slow, e/);
    const r3 = await cli(dir, ['run', 'a', '--set', 'a.n=three']);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/param a\.n: expected an integer, got "three"/);
    const r4 = await cli(dir, ['run', 'a', '--set', 'a.n=0']);
    expect(r4.stderr).toMatch(/a\.n: must be >= 1/);
  });

  it('a cycle error shows its path', async () => {
    const files = { ...TOY_FILES, 'stages/a.ts': TOY_FILES['stages/a.ts'].replace("inputs: []", "inputs: ['c']") };
    const dir = makeToy(files);
    const r = await cli(dir, ['status']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cycle in the stage graph: (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)/);
  });

  it('every command has --help', async () => {
    const dir = makeToy();
    for (const c of ['report', 'run', 'status', 'dag', 'gc']) {
      const r = await cli(dir, [c, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: npx tsx pipeline.ts ${c}`));
    }
    const top = await cli(dir, ['--help']);
    expect(top.stdout).toMatch(/a\.n\s+4/);
  }, 20000);

  it('a SIGKILL during a stage, then a re-run, gives the correct result', async () => {
    const dir = makeToy();
    let killed = false;
    const r1 = await cli(dir, ['run', 'slow', '--set', 'slow.ms=1500'], {
      onStderr: (chunk, kill) => {
        if (!killed && /ran\s+b/.test(chunk)) {
          killed = true;
          setTimeout(kill, 300); // inside slow
        }
      },
    });
    expect(r1.signal).toBe('SIGKILL');
    // its lock is left behind by the dead process
    expect(fs.readdirSync(path.join(dir, 'cache/locks')).filter((f) => /^slow-[0-9a-f]{16}\.lock$/.test(f))).toHaveLength(1);
    const before = JSON.parse((await cli(dir, ['status', '--json', '--set', 'slow.ms=1500'])).stdout);
    expect(before.stages.find((s: any) => s.name === 'slow')).toMatchObject({ state: 'missing' });
    const r2 = await cli(dir, ['run', 'slow', '--set', 'slow.ms=1500', '--json']);
    expect(r2.code).toBe(0);
    const j = JSON.parse(r2.stdout);
    expect(j.stages.map((s: any) => [s.name, s.status])).toEqual([['a', 'cached'], ['b', 'cached'], ['slow', 'ran']]);
    const st = JSON.parse((await cli(dir, ['status', '--json', '--set', 'slow.ms=1500'])).stdout);
    expect(st.stages.find((s: any) => s.name === 'slow').state).toBe('fresh');
    const { Pipeline } = await import('../../lib/engine/pipeline.ts');
    const p = await Pipeline.load({ root: dir, stageFiles: ['stages/a.ts', 'stages/b.ts', 'stages/c.ts', 'stages/d.ts', 'stages/slow.ts'], env: {} });
    const built = await p.build(['slow'], { overrides: { slow: { ms: 1500 } } });
    expect((await p.output(built.entries.slow)).json).toEqual({ out: 60 }); // (0+1+2+3) * 10
  }, 30000);

  it('two concurrent runs on one cache both finish with correct results', async () => {
    const dir = makeToy();
    const [r1, r2] = await Promise.all([
      cli(dir, ['run', 'slow', '--set', 'slow.ms=1000', '--json']),
      cli(dir, ['run', 'slow', '--set', 'slow.ms=1000', '--json']),
    ]);
    expect(r1.code).toBe(0);
    expect(r2.code).toBe(0);
    const s1 = JSON.parse(r1.stdout).stages;
    const s2 = JSON.parse(r2.stdout).stages;
    // same keys; the slow stage was built once and reused by the other process
    expect(s1.map((s: any) => s.key)).toEqual(s2.map((s: any) => s.key));
    const slowRuns = [s1, s2].map((s) => s.find((x: any) => x.name === 'slow').status).sort();
    expect(slowRuns).toEqual(['cached', 'ran']);
    const r3 = await cli(dir, ['run', 'slow', '--set', 'slow.ms=1000', '--json']);
    expect(JSON.parse(r3.stdout).stages.every((s: any) => s.status === 'cached')).toBe(true);
    expect(fs.readdirSync(path.join(dir, 'cache/locks')).filter((f) => f.endsWith('.lock'))).toEqual([]);
  }, 20000);

  it('two runs building different keys of one stage do not wait for each other', async () => {
    const dir = makeToy();
    await cli(dir, ['run', 'b']);
    const [r1, r2] = await Promise.all([
      cli(dir, ['run', 'slow', '--set', 'slow.ms=800', '--json']),
      cli(dir, ['run', 'slow', '--set', 'slow.ms=900', '--json']),
    ]);
    for (const r of [r1, r2]) {
      expect(r.code).toBe(0);
      expect(r.stderr).not.toMatch(/waiting for process/);
      expect(JSON.parse(r.stdout).stages.find((s: any) => s.name === 'slow').status).toBe('ran');
    }
  }, 30000);
});

describe('the engine names no flag or file of the CLI; the CLI words their hints', () => {
  it('a bad remote cache URL and a duplicate stage name', async () => {
    const { RemoteError, HttpCache } = await import('../../lib/engine/keep/remote-http.ts');
    const { GraphError } = await import('../../lib/engine/decide/graph.ts');
    const { describe: describeError } = await import('../../lib/cli/errors.ts');
    let bad: unknown = null;
    try {
      new HttpCache('ftp://x/y');
    } catch (e) {
      bad = e;
    }
    expect(bad).toBeInstanceOf(RemoteError);
    expect(`${(bad as Error).message} ${(bad as { hint?: string }).hint}`).not.toMatch(/--remote-cache|pipeline\.ts|npx/);
    const r = describeError(bad, '');
    expect(r.reason).toBe('usage');
    expect(r.hint).toMatch(/^--remote-cache http:\/\/HOST:PORT\/PREFIX/);
    const dup = new GraphError('duplicate', 'duplicate stage name "a"', 'every stage needs a unique name');
    expect(describeError(dup, '').hint).toMatch(/pipeline\.ts/);
  });
});
