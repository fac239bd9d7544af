// Progress lines: the ETA counts from a stage's first report, so a child process's start-up
// (or anything before the stage's own work) does not inflate it.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeReporter } from '../../lib/engine/run/progress.ts';

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
});
