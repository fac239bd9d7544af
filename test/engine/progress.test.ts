// Progress lines: the ETA counts from a stage's first report, so a child process's start-up
// (or anything before the stage's own work) does not inflate it.

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventLine, makeReporter, type BuildEvent } from '../../lib/engine/run/progress.ts';
import { loadToy, makeToy } from './toy.ts';

afterEach(() => vi.useRealTimers());

describe('progress', () => {
  it('estimates the time left from the rate since the first report, not since the stage started', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const out: string[] = [];
    const stream = { isTTY: false, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream;
    const bar = makeReporter(stream, { tty: false, everyMs: 0 }).stage('train');
    vi.advanceTimersByTime(5000); // a child's start-up under load: no work done yet
    bar(1, 50, 'epoch 1');
    vi.advanceTimersByTime(1000); // then one epoch a second
    bar(2, 50, 'epoch 2');
    expect(out.at(-1)).toBe('  train: 4%  2/50, 6s elapsed, ETA 48s  epoch 2\n');
  });

  it('a build tells its reporter each stage as data, then prints the same as its line', async () => {
    const p = await loadToy(makeToy());
    const events: BuildEvent[] = [];
    p.reporter.event = (e) => events.push(e);
    await p.build(['b']);
    expect(events.map((e) => [e.kind, e.stage])).toEqual([['ran', 'a'], ['ran', 'b']]);
    expect(p.lines).toEqual(events.map((e) => eventLine(e)));
    events.length = 0;
    await p.build(['b']);
    expect(events).toEqual([{ kind: 'cached', stage: 'a' }, { kind: 'cached', stage: 'b' }]);
    expect(eventLine({ kind: 'ran', stage: 'train', seconds: 1.234, where: 'child' })).toBe('  ran     train  1.23s');
    expect(eventLine({ kind: 'cached', stage: 'data', byOther: true, note: 'built from identical bytes named x; here source is y' })).toBe('  cached  data (built by another process) (built from identical bytes named x; here source is y)');
    expect(eventLine({ kind: 'waiting', stage: 'train', holder: 'process h pid 1' })).toBe('  waiting for process h pid 1 building train…');
    expect(eventLine({ kind: 'failed', stage: 'train', message: 'boom' })).toBeNull();
  });

  it('a failing stage is told as a failed event, and printed only as the build error', async () => {
    const dir = makeToy();
    fs.writeFileSync(path.join(dir, 'stages/d.ts'), "export default { name: 'd', description: 'fails', inputs: ['a'], run() { throw new Error('boom'); } };\n");
    const p = await loadToy(dir);
    const events: BuildEvent[] = [];
    p.reporter.event = (e) => events.push(e);
    await expect(p.build(['d'])).rejects.toThrow(/stage d failed: boom/);
    expect(events).toEqual([{ kind: 'ran', stage: 'a', seconds: expect.any(Number), where: 'here' }, { kind: 'failed', stage: 'd', message: 'stage d failed: boom' }]);
    expect(p.lines).toEqual([eventLine(events[0])]);
  });
});
