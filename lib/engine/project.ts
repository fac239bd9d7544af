// The project as a value: the stage declarations with their schemas, the params they
// resolve to, the graph those params put in force, and each stage's code hash. Loaded once;
// `build`, `plan`, `status` and `gc` take it as an argument and never call back into the
// module that called them. Nothing in it changes after load: the code hashes and the
// defaults are computed on first use and then kept (each is a function of the files).

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { validateGraph, GraphError, type GraphNode } from './decide/graph.ts';
import { loadSchemas, resolveParams, schemaPaths, ParamError, type Schemas } from './params.ts';
import { SourceHasher, codeHash } from './decide/sources.ts';
import type { Entry } from './keep/entry.ts';
import { makeKey, type Keyed } from './decide/key.ts';
import type { FingerprintMemo } from './decide/key.ts';
import type { ExternalFile, StageDef } from './types.ts';
import { EngineError } from './errors.ts';
import { useStandaloneValidators } from './validate.ts';

export interface LoadedStage {
  def: StageDef;
  file: string; // relative to root
  schemas: Schemas;
}

export type Overrides = Record<string, Record<string, unknown>>;
export type Params = Record<string, Record<string, unknown>>;

export interface ProjectOptions {
  /** Project root: code paths and schemas are relative to it. */
  root: string;
  /** Stage modules, relative to root, in declaration order. */
  stageFiles: string[];
  /** Default: <root>/schemas. */
  schemasDir?: string;
  /** The environment stages may declare (`env`) and read; default process.env. */
  env?: Record<string, string | undefined>;
  /** Where each source's imports are kept by content hash (sources.ts); none: lexed every run. */
  importsMemo?: string;
}

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

export class Project {
  readonly root: string;
  readonly stages: readonly LoadedStage[];
  readonly byName: ReadonlyMap<string, LoadedStage>;
  readonly schemasDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  private readonly hasher: SourceHasher;
  private readonly codeMemo = new Map<string, { files: Record<string, string>; hash: string }>();
  private defaults: Params | null = null;

  constructor(opts: ProjectOptions & { stages: LoadedStage[] }) {
    this.root = path.resolve(opts.root);
    this.stages = Object.freeze([...opts.stages]);
    this.byName = new Map(opts.stages.map((s) => [s.def.name, s]));
    if (this.byName.size !== opts.stages.length) {
      const seen = new Set<string>();
      for (const s of opts.stages) {
        if (seen.has(s.def.name)) throw new GraphError('duplicate', `duplicate stage name "${s.def.name}" (${s.file})`);
        seen.add(s.def.name);
      }
    }
    this.env = opts.env ?? process.env;
    this.schemasDir = opts.schemasDir ?? path.join(this.root, 'schemas');
    useStandaloneValidators(path.join(this.schemasDir, 'validators'));
    this.hasher = new SourceHasher(this.root, undefined, opts.importsMemo);
  }

  /** Load the stage modules and check the default graph (unknown inputs, duplicates, cycles). */
  static async load(opts: ProjectOptions): Promise<Project> {
    const schemasDir = opts.schemasDir ?? path.join(opts.root, 'schemas');
    const stages = await loadStages(opts.root, opts.stageFiles, schemasDir);
    const p = new Project({ ...opts, schemasDir, stages });
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

  /** A stage's code: every project file in its module closure and its schemas, with their hash. */
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

  /** Keep the imports lexed so far for the next run (sources.ts). */
  saveImports(): void {
    this.hasher.saveMemo();
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

  /** The key of a stage, given its upstream entries (see key.ts); `fingerprints`: external files hashed earlier in this plan. */
  record(name: string, params: Record<string, unknown>, upstream: Record<string, Entry>, all?: Params, fingerprints?: FingerprintMemo): Keyed {
    const def = this.byName.get(name)!.def;
    return makeKey({
      def,
      code: this.code(name),
      params,
      upstream,
      externals: this.externalsOf(name, params),
      env: this.envOf(name, true),
      overrides: def.overrides && all ? this.nonDefault(all) : {},
      fingerprints,
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
}
