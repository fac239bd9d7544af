// Building: walk the targets' closure in dependency order (or, with jobs > 1, start each
// stage as soon as its inputs are done, at most `jobs` at a time), plan each stage once
// its upstream entries are known, and run what misses under a per-(stage, key) lock.
// The dry run is the plan itself, with stages downstream of a miss marked "would-run".

import { upstreamClosure } from '../decide/graph.ts';
import { EngineError, cacheWriteError, splitHint } from '../errors.ts';
import { isForced, planStage, type Force, type Lookup, type Plan } from '../decide/plan.ts';
import { materialize } from '../keep/artifacts.ts';
import type { Overrides, Params, Project } from '../project.ts';
import type { Store } from '../keep/store.ts';
import { emit, type Reporter } from './progress.ts';
import type { LockOptions } from '../guard/lock.ts';
import { CorruptError, type Entry } from '../keep/entry.ts';
import { otherNames, type Keyed } from '../decide/key.ts';
import type { Staleness } from '../decide/explain.ts';
import type { StageOutput } from '../types.ts';
import type { Site, Slots } from './placement.ts';

export interface StageRun {
  name: string;
  status: 'ran' | 'cached' | 'would-run';
  key: string;
  /** A run's own time: its `run` in the process that ran it (Entry.seconds), not the scheduler's wall clock. */
  seconds: number;
  reasons?: Staleness[];
  /** A cached entry built from identical bytes under other names: "built from identical bytes named <label>; here <external> is <label>". */
  note?: string;
  /** Where a stage that ran ran: this process, a worker of the build's pool, or a child of its own (placement.ts). */
  where?: Site;
}

export interface BuildOptions {
  overrides?: Overrides;
  /** true: every stage; a list: those stages. */
  force?: Force;
  dryRun?: boolean;
  /** Stages run at once; when > 1, a pool of `jobs` worker processes beside this one, which then mostly schedules (placement.ts). */
  jobs?: number;
}

/** What the caller gives a build besides the project and the store. */
export interface BuildSettings {
  reporter: Reporter;
  /** Where artifacts are materialized. */
  reportsDir: string;
  /** Print every frame of a failing stage's stack, not only a bug's first three. */
  debug?: boolean;
  /** Stage locks: lease length, how long to wait before giving up, advice for the error. */
  lock?: Pick<LockOptions, 'leaseMs' | 'timeoutMs' | 'advice'>;
}

export interface BuildResult {
  runs: StageRun[];
  entries: Record<string, Entry>;
}

/** Unknown targets and forced stages are 'unknown-stage' errors, before anything is planned. */
export function checkTargets(project: Project, targets: readonly string[], force: Force | undefined) {
  for (const t of targets) project.stage(t);
  for (const f of Array.isArray(force) ? force : []) project.stage(f, 'force');
}

/** What a build would do, read off its plan (planned with `force` and `strict`). */
export function dryRun(pl: Plan): BuildResult {
  const runs = pl.order.map((name): StageRun => {
    const s = pl.stages.get(name)!;
    if (s.blockedBy.length) return { name, status: 'would-run', key: '', seconds: 0, reasons: s.blockedBy.map((u): Staleness => ({ kind: 'upstream', stage: u, how: 'will-run' })) };
    const key = s.keyed!.key.slice(0, 12);
    return s.state === 'fresh' ? { name, status: 'cached', key, seconds: 0 } : { name, status: 'would-run', key, seconds: 0, reasons: s.reasons };
  });
  return { runs, entries: pl.entries };
}

/** Build `targets` and everything upstream of them (opts.dryRun: the caller plans instead; see dryRun). */
export async function build(project: Project, store: Store, targets: string[], opts: BuildOptions, settings: BuildSettings): Promise<BuildResult> {
  checkTargets(project, targets, opts.force);
  // A shared hold against gc for the whole build (gc-lock.ts).
  const [{ holdAgainstGc }, { renewDue }] = await Promise.all([import('../guard/gc-lock.ts'), import('../guard/renewal.ts')]);
  const release = await holdAgainstGc(store.locksDir, (who) => settings.reporter.line(`  waiting for gc (${who}) to finish…`));
  try {
    // External files are hashed once in this build (the vega bundles are declared by two stages).
    // The hold is renewed lazily: renewDue hands it to the renewal thread between stages once due.
    return await buildTargets({ project, store, fingerprints: new Map(), warn: (l) => settings.reporter.line(l) }, targets, opts, { ...settings, renewDue });
  } finally {
    release();
  }
}

async function buildTargets(lk: Lookup, targets: string[], opts: BuildOptions, settings: BuildSettings & { renewDue: () => void }): Promise<BuildResult> {
  const { project, store } = lk;
  const { reporter } = settings;
  const params: Params = project.resolveAll(opts.overrides ?? {});
  const order = upstreamClosure(project.graph(params), targets);
  const entries: Record<string, Entry> = {};
  const runs = new Map<string, StageRun>();
  const jobs = Math.max(1, opts.jobs ?? 1);
  // This process and the pool's workers (placement.ts), made at the first miss; the pool starts
  // at a miss when another is running or two stages below it could run at once.
  let slots: Slots | null = null;
  const missing = new Set<string>();
  // Fetch what stages need from outside (the paper's weights) before anything runs, so a
  // failed fetch leaves the cache as it was. Skipped for a source stage already cached.
  for (const name of order) {
    const def = project.stage(name).def;
    if (!def.prepare) continue;
    if (!isForced(opts.force, name) && !project.inputsOf(name, params).length && planStage(lk, name, params, {}, { explain: false }).entry) continue;
    try {
      await def.prepare(params[name] as any, project.envOf(name));
    } catch (e) {
      const { message, hint } = splitHint((e as Error).message, (e as { hint?: string }).hint);
      throw new EngineError('stage-failed', `stage ${name} failed: ${message}`, hint);
    }
  }

  const cached = (name: string, entry: Entry, keyed: Keyed, byOther = false) => {
    entries[name] = entry;
    store.setLatest(name, keyed.key);
    const renamed = otherNames(entry, keyed);
    runs.set(name, { name, status: 'cached', key: keyed.key.slice(0, 12), seconds: 0, ...(renamed ? { note: renamed } : {}) });
    emit(reporter, { kind: 'cached', stage: name, ...(byOther ? { byOther } : {}), ...(renamed ? { note: renamed } : {}) });
  };

  // Outputs this build wrote were validated when written (here or in a worker) and are re-hashed
  // on reads: no schema check (nor its ~20 ms compile per process) on reading them.
  const checked = (u: string) => runs.get(u)?.status === 'ran';
  // An upstream output that fails to read, decode or validate is corruption: drop its
  // entry, rebuild it, and read it again (its key is unchanged, so ours is too).
  const loadInputs = async (ups: readonly string[]): Promise<Record<string, StageOutput>> => {
    const { loadOutput } = await import('./execute.ts');
    const inputs: Record<string, StageOutput> = {};
    for (const u of ups) {
      for (let attempt = 0; ; attempt++) {
        try {
          inputs[u] = loadOutput(store, entries[u], checked(u) ? null : project.stage(u).schemas.output);
          break;
        } catch (e) {
          if (!(e instanceof CorruptError) || attempt >= 2) throw e;
          reporter.line(`warning: ${e.message}; recomputing ${u}`);
          store.dropEntry(u, entries[u].key);
          delete entries[u];
          await buildOne(u);
        }
      }
    }
    return inputs;
  };

  // alone: nothing else is running or ready to start. With jobs > 1, a stage that is not alone
  // runs in a pool worker or here, whichever is free (placement.ts): a cold build uses every core.
  const buildOne = async (name: string, alone = true): Promise<void> => {
    settings.renewDue();
    const forced = isForced(opts.force, name);
    let sp = planStage(lk, name, params, entries, { forced, building: true, explain: false });
    const keyed = sp.keyed!;
    if (!forced && (await store.pull(name, keyed.key)) && !sp.entry) sp = planStage(lk, name, params, entries, { forced, building: true, explain: false }); // a further layer may have it
    if (sp.entry) return cached(name, sp.entry, keyed);
    missing.add(name);
    // Loaded only when something must run: a no-op build never pays for them.
    const [{ lock, waitMessage }, { runStage }, { expectedSeconds, placement, Slots, oneHere }] = await Promise.all([import('../guard/lock.ts'), import('./run-stage.ts'), import('./placement.ts')]);
    await (slots ??= new Slots(jobs)).startPool(missing.size > 1, order, (n) => project.inputsOf(n, params), name);
    // One lock per (stage, key): two processes building the same result wait for each other;
    // different results (other seeds, other params) build at the same time. The lock is a
    // lease its holder renews while it builds (lock.ts).
    const release = await lock(store.lockPath(name, keyed.key), {
      ...settings.lock,
      onWait: (h, file) => reporter.line(waitMessage(h, file, name)),
    }).catch((e) => {
      throw cacheWriteError(e, store.root);
    });
    const releaseShared = await store.lockKey(name, keyed.key, (h) => emit(reporter, { kind: 'waiting', stage: name, holder: h })).catch((e) => { release(); throw e; });
    try {
      // Another process may have built it while we waited.
      if (!forced) {
        await store.pull(name, keyed.key); // another machine may have built it
        const again = planStage(lk, name, params, entries, { building: true, explain: false });
        if (again.entry) return cached(name, again.entry, keyed, true);
      }
      const want = placement(expectedSeconds(store, name, keyed.key), { jobs, alone, long: project.stage(name).def.long });
      let where: Site = 'here';
      for (let attempt = 0; ; attempt++) {
        const slot = want === 'child' || want === 'here' ? want : await slots.slot(want === 'here-first' ? 'here' : 'pool');
        // A worker reads its inputs itself (a damaged one comes back as a CorruptError, rebuilt below).
        const loaded = await loadInputs(slot === 'here' ? sp.inputs : []);
        const upstream = Object.fromEntries(sp.inputs.map((u) => [u, entries[u]]));
        where = typeof slot === 'string' ? slot : 'pool';
        const run = () => runStage({ project, store, reporter, debug: settings.debug, checked }, name, keyed, params, upstream, loaded, slot);
        try {
          entries[name] = await (slot === 'here' ? oneHere(run, want !== 'here') : run());
          break;
        } catch (e) {
          // An input tensor found damaged when the stage read it (on first access): drop that input, rebuild it, run this stage again.
          const u = e instanceof CorruptError ? e.stage : undefined;
          if (u === undefined || !sp.inputs.includes(u) || attempt >= 2) {
            emit(reporter, { kind: 'failed', stage: name, message: (e as Error).message });
            throw e;
          }
          reporter.line(`warning: ${(e as Error).message}; recomputing ${u}`);
          store.dropEntry(u, entries[u].key);
          delete entries[u];
          await buildOne(u);
        }
      }
      // The stage's own time (its run() in the process that ran it), not this scheduler's wall
      // clock, which also counts a child's start-up and any time this process was busy elsewhere.
      const seconds = entries[name].seconds;
      runs.set(name, { name, status: 'ran', key: keyed.key.slice(0, 12), seconds, where });
      emit(reporter, { kind: 'ran', stage: name, seconds, where });
      await store.push(entries[name]); // before the locks go: a waiter then finds it
    } finally {
      missing.delete(name);
      await releaseShared?.();
      release();
    }
  };

  try {
    if (jobs <= 1) {
      for (const name of order) await buildOne(name);
    } else {
      // Parallel: a stage starts when all its inputs are done; at most `jobs` at a time, those
      // with the most seconds on the chain below them first (placement.ts byChainSeconds):
      // seconds from the cache, else the stage's expectSeconds.
      const { byChainSeconds, expectedSeconds } = await import('./placement.ts');
      const seconds = (n: string) => expectedSeconds(store, n) ?? project.stage(n).def.expectSeconds ?? 0.1;
      const pending = new Set(byChainSeconds(order, (n) => project.inputsOf(n, params), seconds));
      const running = new Map<string, Promise<void>>();
      let failure: unknown = null;
      const ready = (name: string) => project.inputsOf(name, params).every((u) => name !== u && u in entries);
      while ((pending.size || running.size) && !failure) {
        for (const name of [...pending]) {
          if (running.size >= jobs || (running.size && (slots as Slots | null)?.busy())) break; // chosen when a slot frees, by the order then
          if (ready(name)) {
            pending.delete(name);
            const alone = running.size === 0 && ![...pending].some(ready);
            running.set(name, buildOne(name, alone).catch((e) => { failure ??= e; }).finally(() => running.delete(name)));
          }
        }
        if (running.size === 0 && pending.size) throw new EngineError('internal', `cannot schedule: ${[...pending].join(', ')}`);
        await Promise.race([...running.values(), (slots as Slots | null)?.freed()].filter((w) => w !== undefined)); // a stage done, or a slot free
      }
      await Promise.all(running.values());
      if (failure) throw failure;
    }
  } finally {
    (slots as Slots | null)?.close();
  }
  materialize(store, settings.reportsDir, order.map((n) => entries[n]));
  return { runs: order.map((n) => runs.get(n)!), entries };
}
