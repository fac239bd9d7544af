// Where a stage runs: in this process, in a worker of the build's pool, or in a child
// process of its own (run-stage.ts). This process runs one stage at a time (its
// seconds are its own wall clock, build.ts); so does each pool worker. With --jobs N the
// pool has N workers, so that once they have started this process only schedules: a stage
// it ran would hold every dispatch for its whole run (its run() is synchronous), and a
// worker done meanwhile would sit idle until it returned. A worker costs a tsx start-up
// (~0.5-0.7 s of CPU, more under load) once per build, not per stage. The decision:
//   - a stage that declares itself `long` (training), never timed or timed over
//     CHILD_ABOVE_S: a child of its own, even alone or with --jobs 1, so that Ctrl-C is
//     answered at once (a signal is handled between tasks), and minutes of it never hold
//     a pool worker;
//   - --jobs 1, or nothing else running or ready: here (no other stage can start until it
//     is done, so a worker would only add its IPC and its reading of the inputs);
//   - a stage timed at most HERE_BELOW_S (1 s, from its entries' seconds in the cache):
//     here when this process is free (a worker's IPC and its reading of the inputs are a
//     large part of a short stage), else the first worker free;
//   - any other stage: the first worker free; this process only while a worker is still
//     starting, so the first stages of a cold build (data, model, trace: a chain) never
//     wait for a start-up.

import type { Entry } from '../keep/entry.ts';
import type { Store } from '../keep/store.ts';
import type { ChildWorker, StagePool } from './run-stage.ts';

/** A `long` stage expected to take longer than this (seconds of its own run) goes to a child of its own. */
export const CHILD_ABOVE_S = 1;

/** A stage timed at most this prefers this process to a pool worker. */
export const HERE_BELOW_S = 1;

/** Where a stage ran. */
export type Site = 'here' | 'pool' | 'child';

/** here: this process, now or after what runs here; child: one of its own; else the first free slot, this process or a pool worker, the one named first if both are free. */
export type Placement = 'here' | 'child' | 'here-first' | 'pool-first';

/** `expected`: seconds from earlier runs, or null when the stage was never timed. `alone`: nothing else is running or ready to start. */
export function placement(expected: number | null, o: { jobs: number; alone: boolean; long?: boolean }): Placement {
  if (o.long && (expected === null || expected > CHILD_ABOVE_S)) return 'child';
  if (o.jobs <= 1 || o.alone) return 'here';
  return expected !== null && expected <= HERE_BELOW_S ? 'here-first' : 'pool-first';
}

/**
 * The order a parallel build prefers among the stages ready to start: the most seconds on the
 * longest chain through and below each first (its own expected seconds, `secondsOf`, plus the
 * longest of what reads it), so the stages that hold up the end start as early as they can.
 */
export function byChainSeconds(order: readonly string[], inputsOf: (name: string) => readonly string[], secondsOf: (name: string) => number): string[] {
  const chain = new Map(order.map((n) => [n, secondsOf(n)]));
  for (const n of [...order].reverse()) for (const u of inputsOf(n)) if (u !== n && chain.has(u)) chain.set(u, Math.max(chain.get(u)!, secondsOf(u) + chain.get(n)!));
  return [...order].sort((a, b) => chain.get(b)! - chain.get(a)!);
}

/**
 * A stage's expected seconds: those of the entry for this very key when there is one (a
 * forced or corrupt re-run), else of its latest build with any key, else null. Entry.seconds
 * is the stage's own run time in the process that ran it.
 */
export function expectedSeconds(store: Store, stage: string, key?: string): number | null {
  const read = (f: () => Entry | null) => {
    try {
      const e = f();
      return e && Number.isFinite(e.seconds) ? e.seconds : null;
    } catch {
      return null; // a damaged entry says nothing about time
    }
  };
  return (key === undefined ? null : read(() => store.getEntry(stage, key))) ?? read(() => store.latestEntry(stage));
}

/**
 * Whether two stages of `order` that cannot be cached yet could run at once: `from` (a
 * miss) and everything downstream of it hold two stages neither of which is upstream of
 * the other. A build that will only run a chain (a changed report) starts no pool.
 */
export function parallelBelow(order: readonly string[], inputsOf: (name: string) => readonly string[], from: string): boolean {
  const below = new Set([from]);
  for (const n of order) if (inputsOf(n).some((u) => below.has(u))) below.add(n);
  const ancestors = new Map<string, Set<string>>();
  for (const n of order) {
    const a = new Set<string>();
    for (const u of inputsOf(n)) {
      a.add(u);
      for (const x of ancestors.get(u) ?? []) a.add(x);
    }
    ancestors.set(n, a);
  }
  const members = order.filter((n) => below.has(n));
  return members.some((a, i) => members.slice(i + 1).some((b) => !ancestors.get(b)!.has(a) && !ancestors.get(a)!.has(b)));
}

// ---- slots: this process and the build's pool workers ----

// Stages in this process run one at a time (workers run beside them): a stage's seconds are
// the wall clock of its own run, and two interleaved here would each count the other's work.
// `hereQueued` counts the stages running or waiting here, from the moment one is given this
// process (Slots reserves it before the stage runs); `hereFree` listeners hear it fall to zero.
let hereTail: Promise<unknown> = Promise.resolve();
let hereQueued = 0;
const hereFree = new Set<() => void>();

/**
 * Two turns of the event loop: what the workers sent while this process ran a stage (one
 * done, one started) is read, and the stages it lets start have asked for their slot, before
 * this process starts a stage that holds it (and so every dispatch) for its whole run.
 */
const turns = () => new Promise<void>((r) => setImmediate(() => setImmediate(r)));

/** Run `f` in this process after what runs here; `reserved`: Slots has counted it already. */
export function oneHere<T>(f: () => Promise<T>, reserved = false): Promise<T> {
  if (!reserved) hereQueued++;
  const r = hereTail.then(turns).then(f).finally(() => {
    // Heard after one turn of the event loop has read what the workers sent while this
    // process ran the stage (a worker now started, or done): a stage waiting for a worker is
    // then given it, not this process because that message was still unread.
    if (--hereQueued === 0) setImmediate(() => setImmediate(() => hereQueued === 0 && hereFree.forEach((l) => l())));
  });
  hereTail = r.catch(() => undefined);
  return r;
}

export type Slot = 'here' | ChildWorker;

/**
 * One build's slots: this process and the pool's workers (started by startPool). A stage
 * asks for one with slot(); those waiting are served first come first served as slots free
 * (a worker started or done, this process done), and a slot is reserved when handed out.
 */
export class Slots {
  pool: StagePool | null = null;
  private readonly waiting: { prefer: 'here' | 'pool'; give: (s: Slot) => void }[] = [];
  constructor(private readonly jobs: number) {
    hereFree.add(this.wake);
  }

  /**
   * At a miss (`from`): start the pool (jobs workers, all now), once, when another miss is
   * running or two stages below this one could run at once (parallelBelow).
   */
  async startPool(others: boolean, order: readonly string[], inputsOf: (name: string) => readonly string[], from: string): Promise<void> {
    if (this.jobs <= 1 || this.pool || !(others || parallelBelow(order, inputsOf, from))) return;
    const { StagePool } = await import('./run-stage.ts');
    if (this.pool) return;
    this.pool = new StagePool(this.jobs, this.wake);
    this.pool.grow();
  }

  /** This process can take a stage: free, and `prefer` here, or no pool, or a worker still starting. */
  private hereOpen(prefer: 'here' | 'pool'): boolean {
    return hereQueued === 0 && (prefer === 'here' || !this.pool || this.pool.workers.some((w) => !w.gone && !w.ready));
  }

  private take(prefer: 'here' | 'pool'): Slot | null {
    const here = this.hereOpen(prefer);
    const w = prefer === 'pool' || !here ? this.pool?.take() : null;
    if (w) return w;
    if (here) {
      hereQueued++;
      return 'here';
    }
    this.pool?.grow(); // a worker gone: another, up to jobs
    return null;
  }

  private freeListeners: (() => void)[] = [];

  /**
   * Every slot taken or asked for, none about to free: a stage started now would wait, committed to
   * the first slot that frees, ahead of stages that become ready meanwhile (build.ts starts it later).
   */
  busy(): boolean {
    if (this.waiting.length) return true;
    return !this.hereOpen('pool') && !(this.pool?.workers.some((w) => !w.gone && w.ready && !w.busy) ?? false);
  }

  /** Resolves when a slot may have freed (a worker started or done, this process done). */
  freed(): Promise<void> {
    return new Promise((r) => this.freeListeners.push(r));
  }

  private readonly wake = (): void => {
    const l = this.freeListeners;
    this.freeListeners = [];
    l.forEach((f) => f());
    while (this.waiting.length) {
      const s = this.take(this.waiting[0].prefer);
      if (!s) return;
      this.waiting.shift()!.give(s);
    }
  };

  /** A free slot, the preferred kind when both are free; waits for one (after turns(): a worker just freed is seen). */
  async slot(prefer: 'here' | 'pool'): Promise<Slot> {
    await turns();
    const s = this.waiting.length ? null : this.take(prefer);
    return s ? Promise.resolve(s) : new Promise((give) => this.waiting.push({ prefer, give }));
  }

  close(): void {
    hereFree.delete(this.wake);
    this.pool?.close();
  }
}
