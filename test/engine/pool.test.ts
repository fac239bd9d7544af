// The build's worker pool (--jobs > 1): stages never timed run in a reused worker process
// beside this one, two at once; a failure or a dead worker is one clear error and leaves
// the cache as it was; Ctrl-C stops the workers with their parent.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadToy, makeToy, statuses, TOY_FILES, TOY_STAGES } from './toy.ts';
import { parallelBelow } from '../../lib/engine/run/placement.ts';
import { interruptWhen } from '../helpers/interrupt.ts';

// A stage that reads `a`, writes `<dir>/<name>.started` (its pid), then waits (on a timer,
// so the process it runs in stays responsive) until every stage in `waitFor` has started:
// two stages waiting for each other finish only if they run at the same time. Then, as
// `fail` says: return its pid, throw, kill its own process, or spin `spinMs` first.
const meeter = (name: string) => `import fs from 'node:fs';
import path from 'node:path';
export default { name: '${name}', description: 'meets others', inputs: ['a'],
  async run({ params }) {
    fs.writeFileSync(path.join(params.dir, '${name}.started'), String(process.pid));
    const until = Date.now() + 20000;
    while (!params.waitFor.every((s) => fs.existsSync(path.join(params.dir, s + '.started')))) {
      if (Date.now() > until) throw new Error('${name} never met ' + params.waitFor.join(', '));
      await new Promise((r) => setTimeout(r, 20));
    }
    if (params.fail === 'throw') throw new Error('${name} breaks on purpose');
    if (params.fail === 'die') process.kill(process.pid, 'SIGKILL');
    const end = performance.now() + params.spinMs; while (performance.now() < end) {}
    return { json: { pid: process.pid } };
  } };\n`;
const meeterSchema = JSON.stringify({
  type: 'object',
  properties: {
    dir: { type: 'string', default: '' },
    waitFor: { type: 'array', items: { type: 'string' }, default: [] },
    fail: { type: 'string', default: '' },
    spinMs: { type: 'integer', default: 0 },
  },
  additionalProperties: false,
});
const FILES: Record<string, string> = { ...TOY_FILES };
for (const n of ['p', 'q', 'r', 's']) {
  FILES[`stages/${n}.ts`] = meeter(n);
  FILES[`schemas/${n}.params.json`] = meeterSchema;
}
const STAGES = [...TOY_STAGES, 'stages/p.ts', 'stages/q.ts', 'stages/r.ts', 'stages/s.ts'];

async function toy() {
  const dir = makeToy(FILES);
  return { dir, p: await loadToy(dir, STAGES) };
}
const started = (dir: string, name: string) => Number(fs.readFileSync(path.join(dir, `${name}.started`), 'utf8'));

describe('the worker pool', () => {
  it('starts only where two stages below the first miss could run at once', () => {
    const inputs: Record<string, string[]> = { a: [], b: ['a'], c: ['b'], d: ['a'], e: ['c', 'd'] };
    const order = Object.keys(inputs);
    const of = (n: string) => inputs[n];
    expect(parallelBelow(order, of, 'a')).toBe(true); // c and d
    expect(parallelBelow(order, of, 'b')).toBe(false); // b, c, e: a chain
    expect(parallelBelow(order, of, 'e')).toBe(false);
  });

  it('runs a never-timed stage in a worker while another runs here, both at once, and reuses the worker for the next', async () => {
    const { dir, p } = await toy();
    // p (first in order) runs here and waits until q, r and s have started; they can only run
    // in the pool's two workers (jobs 2), so one worker runs two of them, one after the other.
    // (With q and r alone, whether r went to q's worker or to the second one depended on
    // which worker finished starting first.)
    const overrides = { p: { dir, waitFor: ['q', 'r', 's'] }, q: { dir }, r: { dir }, s: { dir } };
    const r = await p.build(['p', 'q', 'r', 's'], { jobs: 2, overrides });
    expect(statuses(r.runs)).toEqual({ a: 'ran', p: 'ran', q: 'ran', r: 'ran', s: 'ran' });
    const where = Object.fromEntries(r.runs.map((x) => [x.name, x.where]));
    expect(where).toMatchObject({ p: 'here', q: 'pool', r: 'pool', s: 'pool' });
    expect(started(dir, 'p')).toBe(process.pid);
    const pids = ['q', 'r', 's'].map((n) => started(dir, n));
    expect(pids).not.toContain(process.pid);
    expect(new Set(pids).size).toBeLessThanOrEqual(2); // three stages on two workers: one reused, none started again
    expect((await p.output(r.entries.q)).json).toEqual({ pid: started(dir, 'q') });
    // the stored results are the same as a run in this process
    const again = await (await loadToy(dir, STAGES)).build(['p', 'q', 'r', 's'], { jobs: 2, overrides });
    expect(statuses(again.runs)).toEqual({ a: 'cached', p: 'cached', q: 'cached', r: 'cached', s: 'cached' });
  }, 60_000);

  it('workers started before the build (prestartWorkers) are the pool; one never taken does not hold the process open', async () => {
    const { prestartWorkers } = await import('../../lib/engine/run/run-stage.ts');
    const { dir, p } = await toy();
    const pids = prestartWorkers(2);
    // p and q wait for each other, so they run at once: in the prestarted workers (this
    // process takes one only while a worker is still starting), never in a worker started later
    const r = await p.build(['p', 'q'], { jobs: 2, overrides: { p: { dir, waitFor: ['q'] }, q: { dir, waitFor: ['p'] } } });
    expect(statuses(r.runs)).toEqual({ a: 'ran', p: 'ran', q: 'ran' });
    const inPool = r.runs.filter((x) => x.where === 'pool').map((x) => x.name);
    expect(inPool.length).toBeGreaterThan(0);
    for (const n of inPool) expect(pids).toContain(started(dir, n));
    // a process that prestarts workers and never builds exits by itself, and the workers with it
    const script = path.join(dir, 'spare.mjs');
    fs.writeFileSync(script, `const m = await import(${JSON.stringify(new URL('../../lib/engine/run/run-stage.ts', import.meta.url).href)});\nconsole.log(m.prestartWorkers(2).join(' '));\n`);
    const { spawnSync } = await import('node:child_process');
    const out = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: process.cwd(), encoding: 'utf8', timeout: 20000 });
    expect(out.error).toBeUndefined(); // not killed by the timeout
    expect(out.status, out.stderr).toBe(0);
    const spares = out.stdout.trim().split(' ').map(Number);
    expect(spares).toHaveLength(2);
    // stopped with their parent (a SIGTERM at exit; they may take a moment to go)
    const alive = () => spares.some((pid) => { try { process.kill(pid, 0); return true; } catch { return false; } });
    for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive()).toBe(false);
  }, 60_000);

  it('with jobs 3, two workers run two stages at once', async () => {
    const { dir, p } = await toy();
    // p holds this process until q and r have started; q and r wait for each other.
    const r = await p.build(['p', 'q', 'r'], { jobs: 3, overrides: { p: { dir, waitFor: ['q', 'r'] }, q: { dir, waitFor: ['r'] }, r: { dir, waitFor: ['q'] } } });
    expect(r.runs.filter((x) => x.name !== 'a').map((x) => [x.name, x.where])).toEqual([
      ['p', 'here'],
      ['q', 'pool'],
      ['r', 'pool'],
    ]);
    expect(new Set([process.pid, started(dir, 'q'), started(dir, 'r')]).size).toBe(3);
  }, 60_000);

  it('a stage that throws in a worker fails the build with its message; what ran beside it is cached, it is not', async () => {
    const { dir, p } = await toy();
    const overrides = { p: { dir, waitFor: ['q'] }, q: { dir, fail: 'throw' } };
    await expect(p.build(['p', 'q'], { jobs: 2, overrides })).rejects.toMatchObject({ reason: 'stage-failed', message: expect.stringMatching(/^stage q failed: q breaks on purpose/) });
    expect(started(dir, 'q')).not.toBe(process.pid);
    const again = await (await loadToy(dir, STAGES)).build(['p', 'q'], { jobs: 1, overrides: { ...overrides, q: { dir } } });
    expect(statuses(again.runs)).toEqual({ a: 'cached', p: 'cached', q: 'ran' });
  }, 60_000);

  it('a worker killed mid-stage is one clear error, and the cache stays whole', async () => {
    const { dir, p } = await toy();
    const overrides = { p: { dir, waitFor: ['q'] }, q: { dir, fail: 'die' } };
    await expect(p.build(['p', 'q'], { jobs: 2, overrides })).rejects.toMatchObject({
      reason: 'stage-failed',
      message: expect.stringMatching(/^stage q failed: worker process for stage q exited \(SIGKILL\) before finishing/),
    });
    const worker = started(dir, 'q');
    expect(() => process.kill(worker, 0)).toThrow(); // it is gone
    // Nothing of q was stored; every entry that was is whole (a rebuild reads them all).
    expect(p.store.keysOf('q')).toEqual([]);
    const p2 = await loadToy(dir, STAGES);
    const again = await p2.build(['p', 'q'], { jobs: 1, overrides: { ...overrides, q: { dir } } });
    expect(statuses(again.runs)).toEqual({ a: 'cached', p: 'cached', q: 'ran' });
    expect(p2.lines.filter((l) => /warning|corrupt/.test(l))).toEqual([]);
    expect(fs.readdirSync(path.join(p.store.root, 'locks')).filter((f) => f.endsWith('.lock'))).toEqual([]);
  }, 60_000);

  it('Ctrl-C while a worker spins in a stage: exit 130 at once, locks released, the worker gone', async () => {
    // The toy CLI runs TOY_STAGES: d and slow both read a. Whichever runs in the CLI's own
    // process (no IPC channel) waits there on a timer; the other, in the pool's worker,
    // spins for 20 s. Each writes its pid first.
    const either = (name: string) => `import fs from 'node:fs';
export default { name: '${name}', description: 'waits here, spins in a worker', inputs: ['a'],
  async run() {
    fs.writeFileSync('${name}.started', String(process.pid));
    if (!process.send) await new Promise((r) => setTimeout(r, 20000));
    const end = performance.now() + 20000; while (performance.now() < end) {}
    return { json: {} };
  } };\n`;
    const d = makeToy({ ...TOY_FILES, 'stages/slow.ts': either('slow'), 'stages/d.ts': either('d') });
    const r = await interruptWhen(d, ['run', 'slow', 'd', '--jobs', '2'], () => fs.existsSync(path.join(d, 'd.started')) && fs.existsSync(path.join(d, 'slow.started')));
    const { sentAt, pid: cliPid } = r;
    expect(r.code, r.stderr).toBe(130);
    expect(Date.now() - sentAt).toBeLessThan(5000);
    expect(r.stderr.match(/^interrupted \(Ctrl-C\): stopped, released \d+ locks?; stages already built stay cached$/gm), r.stderr).toHaveLength(1);
    expect(fs.readdirSync(path.join(d, 'cache', 'locks')).filter((f) => f.endsWith('.lock'))).toEqual([]);
    const pids = [started(d, 'd'), started(d, 'slow')];
    expect(pids).toContain(cliPid);
    const worker = pids.find((x) => x !== cliPid)!; // the other ran in a worker
    const alive = () => {
      try {
        process.kill(worker, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 40 && alive(); i++) await new Promise((res) => setTimeout(res, 50));
    expect(alive()).toBe(false);
  }, 60_000);
});
