// Running one planned stage: in this process, in a worker of the build's pool, or in a
// worker of its own (placement.ts). Every path executes the same code (execute.ts, which is
// also the workers' entry) and stores exactly the same entry. A failure becomes an
// EngineError 'stage-failed'.
//
// --jobs N: stages run in worker processes (Node with the tsx loader), so independent stages
// use both cores. A worker loads its inputs from the store, runs the stage, writes the
// outputs and the entry itself, and sends back the entry; progress and warnings come back
// over IPC. It runs the stages sent to it one after another:
//   - the pool (StagePool): workers started once per build, as soon as the build finds a
//     stage to run and other stages that could run beside it (or before the build: a
//     report's workers start while the project loads, prestartWorkers). A worker's tsx
//     start-up (~0.7-1.5 s of CPU) is paid once, not per stage, and the modules and kernels
//     it has loaded serve the stages after;
//   - runInChild: a worker of its own for one stage, stopped after it (a `long` stage such
//     as training, which would hold a pool worker for minutes).

import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { executeStage, type ChildJob } from './execute.ts';
import { CacheWriteError, EngineError, splitHint } from '../errors.ts';
import { CorruptError, type Entry } from '../keep/entry.ts';
import type { Keyed } from '../decide/key.ts';
import type { Params, Project } from '../project.ts';
import type { Store } from '../keep/store.ts';
import type { Reporter } from './progress.ts';
import type { Progress, StageOutput } from '../types.ts';

/** `loaded`: the upstream outputs, already read and checked by the caller (build.ts). */
export async function runStage(
  at: { project: Project; store: Store; reporter: Reporter; debug?: boolean; checked?: (stage: string) => boolean },
  name: string,
  keyed: Keyed,
  params: Params,
  upstream: Record<string, Entry>,
  loaded: Record<string, StageOutput>,
  site: 'here' | 'child' | ChildWorker,
): Promise<Entry> {
  const { project, store, reporter } = at;
  const s = project.stage(name);
  const progress = reporter.stage(name);
  const warn = (m: string) => reporter.line(`warning: stage ${name}: ${m}`);
  const job = {
    params: params[name],
    record: keyed.record,
    key: keyed.key,
    codeFiles: keyed.codeFiles,
    externals: keyed.externals,
    labels: keyed.labels,
    env: project.envOf(name),
    overrides: keyed.overrides,
  };
  try {
    if (site !== 'here') {
      const run = {
        ...job,
        root: project.root,
        stageFile: s.file,
        schemasDir: project.schemasDir,
        outputSchema: s.schemas.output,
        cacheDir: store.root,
        name,
        inputs: upstream,
        inputSchemas: Object.fromEntries(Object.keys(upstream).map((u) => [u, at.checked?.(u) ? null : project.stage(u).schemas.output])),
        onProgress: progress,
        onWarn: warn,
      };
      return await (site === 'child' ? runInChild(run) : site.run(run));
    }
    return await executeStage({ ...job, store, def: s.def, inputs: loaded, outputSchema: s.schemas.output, progress, warn });
  } catch (e) {
    const err = e as Error & { reason?: string; hint?: string };
    // A full or read-only cache is not the stage's failure: its error names the cache.
    if (err.reason === 'cache-write') throw err;
    // A damaged input (found when the stage read it) is the input's: the caller drops and rebuilds it, then runs this stage again.
    if (err instanceof CorruptError && err.stage !== undefined && err.stage !== name && Object.hasOwn(upstream, err.stage)) throw err;
    // A message is enough for a deliberate error; a TypeError or the like is a bug, so show
    // where it happened (debug prints every frame).
    const bug = err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError;
    const frames = (err.stack ?? '').split('\n').filter((l) => l.startsWith('    at '));
    const where = bug || at.debug ? `\n${frames.slice(0, at.debug ? undefined : 3).join('\n')}` : '';
    const { message, hint } = splitHint(err.message, err.hint);
    throw new EngineError('stage-failed', `stage ${name} failed: ${message}${where}`, hint);
  } finally {
    progress.done();
  }
}

// ---- worker processes ----

export type ChildRun = ChildJob & { onProgress: Progress; onWarn: (m: string) => void };

/** The child's error as the same class the engine would have thrown in-process. */
function childError(m: { message: string; stack?: string; reason?: string; stage?: string; key?: string; code?: string; hint?: string }): Error {
  let e: Error;
  if (m.reason === 'corrupt') e = new CorruptError(m.message, m.stage && m.key ? { stage: m.stage, key: m.key } : undefined);
  else if (m.reason === 'cache-write') e = new CacheWriteError(m.message, m.code ?? 'EIO', m.hint);
  else e = m.hint !== undefined ? Object.assign(new Error(m.message), { hint: m.hint }) : new Error(m.message);
  return Object.assign(e, { stack: m.stack });
}

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const childMain = fileURLToPath(new URL('./execute.ts', import.meta.url));
// `node --cpu-prof` on the build profiles its workers too (one profile per process).
const profiling = process.execArgv.filter((a) => a.startsWith('--cpu-prof'));

// Children still running when this process exits (Ctrl-C) are stopped with it: a child
// busy in a stage's run() would notice its parent gone only when the run returned.
const live = new Set<ChildProcess>();
process.on('exit', () => live.forEach((c) => c.kill()));

/**
 * One worker process: runs one stage at a time. `ready` once its tsx start-up is done;
 * `busy` from the moment a stage is given to it (while it starts too) until its answer.
 */
export class ChildWorker {
  readonly child: ChildProcess;
  ready = false;
  busy = false;
  /** Why the worker cannot take stages any more (it exited), or null. */
  gone: string | null = null;
  private nextId = 1;
  private job: { id: number; name: string; run: ChildRun; resolve: (e: Entry) => void; reject: (e: Error) => void } | null = null;

  /** Called when the worker becomes free: started, done with a stage, or gone. */
  constructor(private onFree: () => void = () => {}) {
    this.child = fork(childMain, [], { execArgv: ['--import', tsxLoader, ...profiling], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    live.add(this.child);
    this.child.on('message', (m: any) => {
      if (m?.type === 'ready') {
        this.ready = true;
        this.onFree();
        return;
      }
      const job = this.job;
      if (!job || m?.id !== job.id) return;
      if (m.type === 'progress') job.run.onProgress(m.done, m.total, m.message);
      else if (m.type === 'warn') job.run.onWarn(m.message);
      else if (m.type === 'done' || m.type === 'error') {
        this.job = null;
        this.busy = false;
        if (m.type === 'done') job.resolve(m.entry);
        else job.reject(childError(m));
        this.onFree();
      }
    });
    // 'close', not 'exit': 'exit' can come before the child's last message has been read from
    // the IPC pipe (the parent busy running another stage when both arrive), and a build that
    // had finished was reported as a failure; 'close' waits for the pipe to drain.
    this.child.on('close', (code, signal) => {
      live.delete(this.child);
      this.gone = signal ?? `code ${code}`;
      this.ready = false;
      const job = this.job;
      this.job = null;
      if (job) job.reject(new Error(`worker process for stage ${job.name} exited (${this.gone}) before finishing`));
      this.onFree();
    });
    // A fork that fails (no such file, too many processes) closes the child too.
    this.child.on('error', () => {});
  }

  /** Run one stage in this worker; the caller has reserved it (StagePool.take) or owns it. */
  run(run: ChildRun): Promise<Entry> {
    if (this.gone) return Promise.reject(new Error(`worker process for stage ${run.name} exited (${this.gone}) before it started`));
    this.busy = true;
    const { onProgress, onWarn, ...job } = run;
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.job = { id, name: run.name, run, resolve, reject };
      this.child.send({ type: 'job', id, job });
    });
  }

  /** Taken by a pool (StagePool.grow): it reports to `onFree` from now on, at once if it is ready. */
  adopt(onFree: () => void): void {
    [this.child, this.child.channel as { ref?: () => void } | undefined].forEach((x) => x?.ref?.());
    this.onFree = onFree;
    if (this.ready) onFree();
  }

  /** Done with it: the worker exits when it sees its channel closed (execute.ts). */
  close(): void {
    if (this.child.connected) this.child.disconnect();
  }
}

/** One stage in a worker of its own, stopped after it. */
export async function runInChild(run: ChildRun): Promise<Entry> {
  const w = new ChildWorker();
  try {
    return await w.run(run);
  } finally {
    w.close();
  }
}

const spares: ChildWorker[] = [];

/**
 * Start `n` pool workers (returns their pids) before the caller loads its project and plans:
 * their start-up then overlaps them. The first pool takes them. Until then they do not keep
 * this process alive, and they are stopped at exit with the others.
 */
export function prestartWorkers(n: number): number[] {
  while (spares.length < n) {
    const w = new ChildWorker();
    [w.child, w.child.channel as { unref?: () => void } | undefined].forEach((x) => x?.unref?.());
    spares.push(w);
  }
  return spares.map((w) => w.child.pid!);
}

/**
 * The build's worker processes: up to `size`, started by grow() and kept until close().
 * `onFree` is called whenever a worker becomes free (started, done with a stage, gone).
 */
export class StagePool {
  readonly workers: ChildWorker[] = [];
  constructor(
    readonly size: number,
    private readonly onFree: () => void,
  ) {}

  private get alive(): ChildWorker[] {
    return this.workers.filter((w) => !w.gone);
  }

  /** Start workers (prestarted ones first) up to size. */
  grow(): void {
    while (this.alive.length < this.size) {
      const w = spares.shift() ?? new ChildWorker(this.onFree);
      if (w.gone) continue;
      w.adopt(this.onFree);
      this.workers.push(w);
    }
  }

  /** Reserve a started worker that runs nothing, or null. */
  take(): ChildWorker | null {
    const w = this.alive.find((x) => x.ready && !x.busy) ?? null;
    if (w) w.busy = true;
    return w;
  }

  close(): void {
    for (const w of this.workers) w.close();
  }
}
