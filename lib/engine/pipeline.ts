// The caller's handle on the engine: a loaded Project, its Store, and how to report. It
// holds these values and hands them to the jobs, each a plain function in its own file
// that takes them as arguments and never imports this module:
//   project.ts  stages, schemas, params, the graph in force, code hashes (the value)
//   plan.ts     plan(project, store, params, targets): per stage its key, and hit or why not
//   build.ts    build(project, store, targets, opts, settings): scheduler, locks, runs
//   status.ts   status(plan): fresh / stale / missing;  gc.ts  gc(project, store, opts)
//               (imported by their callers only, so a build never loads them)
// The engine knows no stage, no command line and no environment variable of the project:
// the caller passes the cache folder, the targets and the environment in.

import path from 'node:path';
import type { GraphNode } from './decide/graph.ts';
import type { LockOptions } from './guard/lock.ts';
import { LocalStore, type Store } from './keep/store.ts';
import type { Layers } from './keep/layered.ts';
import type { RemoteTier } from './keep/store-api.ts';
import type { Entry } from './keep/entry.ts';
import { silentReporter, type Reporter } from './run/progress.ts';
import type { StageOutput } from './types.ts';
import { Project, type LoadedStage, type Overrides, type Params } from './project.ts';
import { build, dryRun, checkTargets, type BuildOptions, type BuildResult } from './run/build.ts';
import { plan } from './decide/plan.ts';
import type { StageStatus } from './decide/status.ts';

export { explainChange, type Staleness } from './decide/explain.ts';
export { EngineError, EngineError as PipelineError } from './errors.ts';
export { Project, loadStages } from './project.ts';
export type { LoadedStage, Overrides, Params } from './project.ts';
export type { StageRun, BuildOptions, BuildResult } from './run/build.ts';
export type { StageStatus } from './decide/status.ts';
export type { GcOptions, GcResult } from './keep/gc.ts';

export interface PipelineOptions {
  /** Project root: code paths and schemas are relative to it. */
  root: string;
  /** Stage modules, relative to root, in declaration order. */
  stageFiles: string[];
  /** Default: <root>/cache. */
  cacheDir?: string;
  reportsDir?: string;
  schemasDir?: string;
  /** The environment stages may declare (`env`) and read; default process.env. */
  env?: Record<string, string | undefined>;
  reporter?: Reporter;
  /** Print every frame of a failing stage's stack, not only a bug's first three. */
  debug?: boolean;
  /** Stage locks: lease length, how long to wait before giving up, advice for the error. */
  lock?: Pick<LockOptions, 'leaseMs' | 'timeoutMs' | 'advice'>;
}

export class Pipeline {
  readonly project: Project;
  /** The store the jobs are given: the local cache, or it with layers behind it (layer). */
  store: Store;
  /** The remote cache behind the store, when one was layered (for callers that need one: --queue). */
  remote: RemoteTier | null = null;
  readonly reportsDir: string;
  readonly debug: boolean;
  reporter: Reporter;
  readonly lockOptions: Pick<LockOptions, 'leaseMs' | 'timeoutMs' | 'advice'>;

  constructor(project: Project, store: Store, opts: Pick<PipelineOptions, 'reportsDir' | 'reporter' | 'debug' | 'lock'> = {}) {
    this.project = project;
    this.store = store;
    this.reportsDir = opts.reportsDir ?? path.join(project.root, 'reports');
    this.reporter = opts.reporter ?? silentReporter;
    this.debug = opts.debug ?? false;
    this.lockOptions = opts.lock ?? {};
    this.store = this.wire(store);
  }

  private wire(store: Store): Store {
    store.warn = (m) => this.reporter.line(`warning: ${m}`);
    store.declared = (s) => this.project.byName.get(s)?.def; // entries read back are checked against their stage's tensors and volatile keys
    return store;
  }

  /** Put a remote cache and/or a key lock shared with other machines behind the local store (keep/layered.ts, loaded only then). */
  async layer(layers: Layers): Promise<void> {
    const { LayeredStore } = await import('./keep/layered.ts');
    this.remote = layers.remote ?? null;
    this.store = this.wire(new LayeredStore(this.store.root, layers, this.store.io));
  }

  static async load(opts: PipelineOptions): Promise<Pipeline> {
    const store = new LocalStore(opts.cacheDir ?? path.join(path.resolve(opts.root), 'cache'));
    // Each source's imports, kept by content hash in the cache: a run whose sources have not
    // changed lexes nothing.
    const project = await Project.load({ ...opts, importsMemo: path.join(store.root, 'imports.json') });
    return new Pipeline(project, store, opts);
  }

  get root(): string {
    return this.project.root;
  }
  get stages(): readonly LoadedStage[] {
    return this.project.stages;
  }
  get byName(): ReadonlyMap<string, LoadedStage> {
    return this.project.byName;
  }
  get stageNames(): string[] {
    return this.project.stageNames;
  }
  get schemasDir(): string {
    return this.project.schemasDir;
  }
  stage(name: string, where?: string): LoadedStage {
    return this.project.stage(name, where);
  }
  resolveAll(overrides: Overrides): Params {
    return this.project.resolveAll(overrides);
  }
  inputsOf(name: string, params: Params): readonly string[] {
    return this.project.inputsOf(name, params);
  }
  graph(params: Params): GraphNode[] {
    return this.project.graph(params);
  }

  /** Build `targets` and everything upstream (see build.ts); a dry run is read off the plan. */
  async build(targets: string[], opts: BuildOptions = {}): Promise<BuildResult> {
    if (opts.dryRun) {
      checkTargets(this.project, targets, opts.force);
      return dryRun(plan(this.project, this.store, this.resolveAll(opts.overrides ?? {}), targets, { force: opts.force, strict: true }));
    }
    const r = await build(this.project, this.store, targets, opts, { reporter: this.reporter, reportsDir: this.reportsDir, debug: this.debug, lock: this.lockOptions });
    this.project.saveImports();
    this.store.saveMemo();
    return r;
  }

  /** Fresh / stale / missing for every stage (see status.ts; loaded when asked for). */
  async status(opts: { overrides?: Overrides; targets?: string[] } = {}): Promise<StageStatus[]> {
    const pl = plan(this.project, this.store, this.resolveAll(opts.overrides ?? {}), opts.targets ?? null, { all: true });
    return (await import('./decide/status.ts')).status(pl);
  }

  /**
   * A built stage's JSON output, hash-checked but not schema-checked (it was validated on
   * write against a schema that is part of its key). Cheap: for the CLI's report paths.
   */
  json(entry: Entry): any {
    const bytes = this.store.getObject(entry.outputs.json, `stage ${entry.record.stage}: json output`);
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  }

  /** Read a built stage's output, tensors included, with every check (execute.ts: loaded when asked for). */
  async output(entry: Entry): Promise<StageOutput> {
    return (await import('./run/execute.ts')).loadOutput(this.store, entry, this.project.stage(entry.record.stage).schemas.output);
  }
}
