// Where a stage runs: in this process, or in a child process. A child
// costs a tsx start-up (300-600 ms) but keeps this process free: the scheduler starts the
// next stage, and every other stage's progress and timing stay live. A long stage run here
// blocks all of that (train in-process made skipgrams "take" 71 s). So the decision is the
// stage's expected time, read from its previous runs in the cache:
//   - nothing else running or ready, or --jobs 1: here (no other stage can start until it is
//     done, so a child would only add its start-up), except a stage that declares itself
//     `long`, which always runs in a child, so that Ctrl-C is answered at once;
//   - expected over CHILD_ABOVE_S seconds: a child;
//   - expected at most that: here (a start-up would cost more than the stage);
//   - never timed: here, unless the stage declares itself `long` (training: minutes in
//     this process would stall everything else on its first run). A child's start-up (tsx, the engine, its inputs read again) costs
//     about 1.5 s of CPU under load, more than most stages' own work, and a cold cache has
//     no stage timed: a cold report of 21 stages on the paper's weights took 48 s of CPU with
//     every untimed stage in a child against 15 s in-process. Once a stage has run, its time
//     is in the cache (under any key: expectedSeconds), and a long one goes to a child from
//     its next build on. The stage's own seconds are measured in the process that runs it,
//     so a stage run here does not distort the others' reported times.
//     (Input size does not predict the time: construction reads 2 KB and is the longest
//     stage; most stages read the trace, 3.5 MB, and take under 0.3 s.)

import type { Entry } from '../keep/entry.ts';
import type { Store } from '../keep/store.ts';

/** A stage expected to take longer than this (seconds of its own run) goes to a child process. */
export const CHILD_ABOVE_S = 1;

export type Placement = 'here' | 'child';

/** `expected`: seconds from earlier runs, or null when the stage was never timed. */
export function placement(expected: number | null, o: { jobs: number; alone: boolean; long?: boolean }): Placement {
  // A long stage (training) runs in a child even alone or with --jobs 1: minutes here would
  // leave Ctrl-C unanswered until it returned (a signal is handled between tasks), for one start-up.
  if (o.long && (expected === null || expected > CHILD_ABOVE_S)) return 'child';
  if (o.jobs <= 1) return 'here';
  if (o.alone) return 'here';
  if (expected === null) return 'here';
  return expected > CHILD_ABOVE_S ? 'child' : 'here';
}

/**
 * A stage's expected seconds: those of the entry for this very key when there is one (a
 * forced or corrupt re-run), else of its latest build with any key, else null. Entry.seconds
 * is the stage's own run time in the process that ran it.
 */
export function expectedSeconds(store: Store, stage: string, key: string): number | null {
  const read = (f: () => Entry | null) => {
    try {
      const e = f();
      return e && Number.isFinite(e.seconds) ? e.seconds : null;
    } catch {
      return null; // a damaged entry says nothing about time
    }
  };
  return read(() => store.getEntry(stage, key)) ?? read(() => store.latestEntry(stage));
}
