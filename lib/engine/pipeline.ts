// The pipeline: stage declarations + resolved params -> the graph in force -> what each
// stage's key is made of. The jobs live in their own files and all start from one plan:
//   plan.ts    per stage: key, record, and hit or the reasons for a miss
//   build.ts   scheduler, locks, in-process or child runs (and the dry run)
//   status.ts  fresh / stale / missing;   gc.ts  what the cache may drop (gc(p, opts):
//              imported by its callers only, so a build never loads it)
// The engine knows no stage, no command line and no environment variable of the project:
// the caller passes the cache folder, the targets and the environment in.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { validateGraph, GraphError, type GraphNode } from './graph.ts';
import { loadSchemas, resolveParams, schemaPaths, ParamError, type Schemas } from './params.ts';
import type { LockOptions } from './lock.ts';
import { SourceHasher, codeHash } from './sources.ts';
import { Store } from './store.ts';
import type { Entry } from './entry.ts';
import { makeKey, type Keyed } from './key.ts';
import type { FingerprintMemo } from './fingerprint.ts';
import { silentReporter, type Reporter } from './progress.ts';
import type { ExternalFile, StageDef, StageOutput } from './types.ts';
import { EngineError } from './errors.ts';
import { build, type BuildOptions, type BuildResult } from './build.ts';
import type { StageStatus } from './status.ts';

export { explainChange } from './explain.ts';
export { EngineError, EngineError as PipelineError } from './errors.ts';
export type { StageRun, BuildOptions, BuildResult } from './build.ts';
export type { StageStatus } from './status.ts';
export type { GcOptions, GcResult } from './gc.ts';

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

export interface LoadedStage {
  def: StageDef;
  file: string; // relative to root
  schemas: Schemas;
}

export type Overrides = Record<string, Record<string, unknown>>;
export type Params = Record<string, Record<string, unknown>>;

/** Import every stage module and its schemas. */
export async function loadStages(root: string, stageFiles: string[], schemasDir: string): Promise<LoadedStage[]> {
  // All at once: the module loader reads and compiles one while this thread evaluates another.
  const mods = await Promise.all(stageFiles.map((file) => import(pathToFileURL(path.resolve(root, file)).href)));
  return stageFiles.map((file, i) => {
    const def: StageDef | undefined = mods[i].default;
    if (!def || typeof def.name !== 'string' || typeof def.run !== 'function') {
      throw new EngineError('bad-stage', `${file}: default export is not a stage declaration`, 'export default defineStage({ name, inputs, run, ... })');
    }
    return { def, file, schemas: loadSchemas(schemasDir, def.name) };
  });
}

export class Pipeline {
  readonly root: string;
  readonly stages: LoadedStage[];
  readonly byName: Map<string, LoadedStage>;
  readonly store: Store;
  readonly reportsDir: string;
  readonly schemasDir: string;
  readonly env: Record<string, string | undefined>;
  readonly debug: boolean;
  reporter: Reporter;
  private hasher: SourceHasher;
  readonly lockOptions: Pick<LockOptions, 'leaseMs' | 'timeoutMs' | 'advice'>;
  private codeMemo = new Map<string, { files: Record<string, string>; hash: string }>();
  /** Set by build and plan for their duration: external files hashed once in each (see FingerprintMemo). */
  fingerprints?: FingerprintMemo;
  private defaults: Params | null = null;

  constructor(opts: PipelineOptions & { stages: LoadedStage[] }) {
    this.root = path.resolve(opts.root);
    this.stages = opts.stages;
    this.byName = new Map(opts.stages.map((s) => [s.def.name, s]));
    if (this.byName.size !== opts.stages.length) {
      const seen = new Set<string>();
      for (const s of opts.stages) {
        if (seen.has(s.def.name)) throw new GraphError('duplicate', `duplicate stage name "${s.def.name}" (${s.file})`);
        seen.add(s.def.name);
      }
    }
    this.env = opts.env ?? process.env;
    this.debug = opts.debug ?? false;
    this.store = new Store(opts.cacheDir ?? path.join(this.root, 'cache'));
    this.reportsDir = opts.reportsDir ?? path.join(this.root, 'reports');
    this.schemasDir = opts.schemasDir ?? path.join(this.root, 'schemas');
    this.reporter = opts.reporter ?? silentReporter;
    this.store.warn = (m) => this.reporter.line(`warning: ${m}`);
    this.store.declared = (s) => this.byName.get(s)?.def; // entries read back are checked against their stage's tensors and volatile keys
    this.lockOptions = opts.lock ?? {};
    // Each source's imports, kept by content hash in the cache: a run whose sources have not
    // changed lexes nothing.
    this.hasher = new SourceHasher(this.root, undefined, path.join(this.store.root, 'imports.json'));
  }

  static async load(opts: PipelineOptions): Promise<Pipeline> {
    const schemasDir = opts.schemasDir ?? path.join(opts.root, 'schemas');
    const stages = await loadStages(opts.root, opts.stageFiles, schemasDir);
    const p = new Pipeline({ ...opts, schemasDir, stages });
    // Load-time checks on the default graph: unknown inputs, duplicates, cycles.
    p.graph(p.resolveAll({}));
    return p;
  }

  get stageNames(): string[] {
    return [...this.byName.keys()];
  }

  /** The loaded stage, or an 'unknown-stage' error listing the valid names (`where`: "--force"). */
  stage(name: string, where?: string): LoadedStage {
    const s = this.byName.get(name);
    if (!s) throw new EngineError('unknown-stage', `${where ? `${where}: ` : ''}unknown stage "${name}"\nvalid stages: ${this.stageNames.join(', ')}`);
    return s;
  }

  /** Params of every stage: schema defaults + overrides. Unknown stages/params are errors. */
  resolveAll(overrides: Overrides): Params {
    for (const s of Object.keys(overrides)) {
      if (!this.byName.has(s)) throw new ParamError(`unknown stage "${s}" in the params\nvalid stages: ${this.stageNames.join(', ')}`);
    }
    const out: Params = {};
    for (const s of this.stages) out[s.def.name] = resolveParams(s.def.name, s.schemas.params, overrides[s.def.name] ?? {});
    return out;
  }

  inputsOf(name: string, params: Params): readonly string[] {
    const def = this.byName.get(name)!.def;
    return typeof def.inputs === 'function' ? def.inputs(params[name] as any) : def.inputs;
  }

  /** The graph in force for these params (validated). */
  graph(params: Params): GraphNode[] {
    const nodes = this.stages.map((s) => ({ name: s.def.name, inputs: this.inputsOf(s.def.name, params) }));
    validateGraph(nodes);
    return nodes;
  }

  code(name: string): { files: Record<string, string>; hash: string } {
    let c = this.codeMemo.get(name);
    if (!c) {
      const s = this.byName.get(name)!;
      const sp = schemaPaths(this.schemasDir, name);
      const extra = [sp.params, sp.output, ...(s.def.extraSources ?? []).map((f) => path.resolve(this.root, f))];
      const files = this.hasher.closure([s.file], extra);
      c = { files, hash: codeHash(files) };
      this.codeMemo.set(name, c);
    }
    return c;
  }

  /**
   * The declared environment variables of a stage, with their values. `keyed`: only those
   * that enter the key (`env`), not those that only name a file (`pathEnv`: the file's
   * content is in the key through its fingerprint, its location must not be).
   */
  envOf(name: string, keyed = false): Record<string, string | undefined> {
    const def = this.byName.get(name)!.def;
    const out: Record<string, string | undefined> = {};
    for (const k of [...(def.env ?? []), ...(keyed ? [] : (def.pathEnv ?? []))]) out[k] = this.env[k];
    return out;
  }

  externalsOf(name: string, params: Record<string, unknown>): Record<string, ExternalFile> {
    const def = this.byName.get(name)!.def;
    const list = def.externals ? def.externals(params as any, this.envOf(name)) : [];
    return Object.fromEntries(list.map((f) => [f.name, f]));
  }

  /** The key of a stage, given its upstream entries (see key.ts). */
  record(name: string, params: Record<string, unknown>, upstream: Record<string, Entry>, all?: Params): Keyed {
    const def = this.byName.get(name)!.def;
    return makeKey({
      def,
      code: this.code(name),
      params,
      upstream,
      externals: this.externalsOf(name, params),
      env: this.envOf(name, true),
      overrides: def.overrides && all ? this.nonDefault(all) : {},
      fingerprints: this.fingerprints,
    });
  }

  /** Params that differ from their schema defaults, by stage (stages with none left out). */
  nonDefault(all: Params): Overrides {
    const defaults = (this.defaults ??= this.resolveAll({}));
    const out: Overrides = {};
    for (const [stage, given] of Object.entries(all)) {
      // A param naming a file is seen as its key form (no folder): see StageDef.keyParams.
      const keyParams = this.byName.get(stage)?.def.keyParams;
      const ps = keyParams ? keyParams(given as any) : given;
      for (const [k, v] of Object.entries(ps)) {
        if (JSON.stringify(v) !== JSON.stringify(defaults[stage]?.[k])) (out[stage] ??= {})[k] = v;
      }
    }
    return out;
  }

  /** Build `targets` and everything upstream (see build.ts). */
  async build(targets: string[], opts: BuildOptions = {}): Promise<BuildResult> {
    const r = await build(this, targets, opts);
    this.hasher.saveMemo();
    return r;
  }

  /** Fresh / stale / missing for every stage (see status.ts; loaded when asked for). */
  async status(opts: { overrides?: Overrides; targets?: string[] } = {}): Promise<StageStatus[]> {
    return (await import('./status.ts')).status(this, opts);
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
    return (await import('./execute.ts')).loadOutput(this.store, entry, this.byName.get(entry.record.stage)!.schemas.output);
  }
}
