// The pipeline: stage declarations + resolved params -> a graph in force -> cache keys ->
// build / status / dag / gc. The store decides staleness; every reason a stage is stale
// is a small named check (targets' habit), so `status` can say why.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { sha256, hashJson } from './hash.ts';
import { validateGraph, upstreamClosure, topoSort, GraphError, type GraphNode } from './graph.ts';
import { loadSchemas, paramValidators, resolveParams, schemaPaths, ParamError, type Schemas } from './params.ts';
import type { ValidateFunction } from 'ajv';
import { SourceHasher, codeHash } from './sources.ts';
import { Store, CorruptError, entryObjects, type Entry, type KeyRecord } from './store.ts';
import { ENGINE_VERSION, executeStage, loadOutput } from './execute.ts';
import { lock } from './lock.ts';
import { silentReporter, type Reporter } from './progress.ts';
import { runInChild } from './child-runner.ts';
import type { ExternalFile, StageDef, StageOutput } from './types.ts';
import { fingerprint } from './fingerprint.ts';
import { explainChange } from './explain.ts';

export { explainChange };

export interface PipelineOptions {
  /** Project root: code paths and schemas are relative to it. */
  root: string;
  /** Stage modules, relative to root, in declaration order. */
  stageFiles: string[];
  cacheDir?: string;
  reportsDir?: string;
  schemasDir?: string;
  env?: Record<string, string | undefined>;
  reporter?: Reporter;
}

export interface LoadedStage {
  def: StageDef;
  file: string; // relative to root
  schemas: Schemas;
}

export type Overrides = Record<string, Record<string, unknown>>;

export interface StageRun {
  name: string;
  status: 'ran' | 'cached' | 'would-run';
  key: string;
  seconds: number;
  reasons?: string[];
}

export interface StageStatus {
  name: string;
  state: 'fresh' | 'stale' | 'missing';
  reasons: string[];
  key?: string;
  needed: boolean;
}

export class PipelineError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** Import every stage module and its schemas. */
export async function loadStages(root: string, stageFiles: string[], schemasDir: string): Promise<LoadedStage[]> {
  const out: LoadedStage[] = [];
  for (const file of stageFiles) {
    const abs = path.resolve(root, file);
    const mod = await import(pathToFileURL(abs).href);
    const def: StageDef | undefined = mod.default;
    if (!def || typeof def.name !== 'string' || typeof def.run !== 'function') {
      throw new PipelineError('bad-stage', `${file}: default export is not a stage declaration\nhint: export default defineStage({ name, inputs, run, ... })`);
    }
    out.push({ def, file, schemas: loadSchemas(schemasDir, def.name) });
  }
  return out;
}

export class Pipeline {
  readonly root: string;
  readonly stages: LoadedStage[];
  readonly byName: Map<string, LoadedStage>;
  readonly store: Store;
  readonly reportsDir: string;
  readonly schemasDir: string;
  readonly env: Record<string, string | undefined>;
  reporter: Reporter;
  private hasher: SourceHasher;
  /** Params validators by stage (precompiled, see params.ts); compiled on demand when absent. */
  validators: Record<string, ValidateFunction> = {};
  private codeMemo = new Map<string, { files: Record<string, string>; hash: string }>();

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
    this.store = new Store(opts.cacheDir ?? (this.env.TOTAL_INTERP_CACHE || path.join(this.root, 'cache')));
    this.reportsDir = opts.reportsDir ?? path.join(this.root, 'reports');
    this.schemasDir = opts.schemasDir ?? path.join(this.root, 'schemas');
    this.reporter = opts.reporter ?? silentReporter;
    this.hasher = new SourceHasher(this.root);
  }

  static async load(opts: PipelineOptions): Promise<Pipeline> {
    const schemasDir = opts.schemasDir ?? path.join(opts.root, 'schemas');
    const stages = await loadStages(opts.root, opts.stageFiles, schemasDir);
    const p = new Pipeline({ ...opts, schemasDir, stages });
    p.validators = await paramValidators(Object.fromEntries(stages.map((s) => [s.def.name, s.schemas.params])), p.store.root);
    // Load-time checks on the default graph: unknown inputs, duplicates, cycles.
    p.graph(p.resolveAll({}));
    return p;
  }

  /** Params of every stage: schema defaults + overrides. Unknown stages/params are errors. */
  resolveAll(overrides: Overrides): Record<string, Record<string, unknown>> {
    for (const s of Object.keys(overrides)) {
      if (!this.byName.has(s)) {
        throw new ParamError(`unknown stage "${s}" in --set\nvalid stages: ${[...this.byName.keys()].join(', ')}`);
      }
    }
    const out: Record<string, Record<string, unknown>> = {};
    for (const s of this.stages) out[s.def.name] = resolveParams(s.def.name, s.schemas.params, overrides[s.def.name] ?? {}, this.validators[s.def.name]);
    return out;
  }

  inputsOf(name: string, params: Record<string, Record<string, unknown>>): readonly string[] {
    const def = this.byName.get(name)!.def;
    return typeof def.inputs === 'function' ? def.inputs(params[name] as any) : def.inputs;
  }

  /** The graph in force for these params (validated). */
  graph(params: Record<string, Record<string, unknown>>): GraphNode[] {
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

  /** Declared env vars with their values; `keyed`: only those that enter the key (not pathEnv). */
  private envOf(name: string, keyed = false): Record<string, string | undefined> {
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

  /** The key record of a stage, given its upstream entries. */
  record(
    name: string,
    params: Record<string, unknown>,
    upstream: Record<string, Entry>,
    all?: Record<string, Record<string, unknown>>,
  ): { record: KeyRecord; key: string; codeFiles: Record<string, string>; externals: Record<string, ExternalFile>; overrides: Record<string, Record<string, unknown>> } {
    const code = this.code(name);
    const overrides = this.byName.get(name)!.def.overrides && all ? this.nonDefault(all) : {};
    const externals = this.externalsOf(name, params);
    const env = this.envOf(name, true);
    const record: KeyRecord = {
      engine: ENGINE_VERSION,
      stage: name,
      code: code.hash,
      params,
      inputs: Object.fromEntries(Object.entries(upstream).map(([k, e]) => [k, e.outputHash])),
      externals: Object.fromEntries(Object.entries(externals).map(([k, f]) => [k, fingerprint(f, name)])),
      env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v ?? null])),
      ...(this.byName.get(name)!.def.overrides ? { overrides } : {}),
    };
    return { record, key: hashJson(record), codeFiles: code.files, externals, overrides };
  }

  /** Params that differ from their schema defaults, by stage (stages with none left out). */
  nonDefault(all: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
    const defaults = this.resolveAll({});
    const out: Record<string, Record<string, unknown>> = {};
    for (const [stage, ps] of Object.entries(all)) {
      for (const [k, v] of Object.entries(ps)) {
        if (JSON.stringify(v) !== JSON.stringify(defaults[stage]?.[k])) (out[stage] ??= {})[k] = v;
      }
    }
    return out;
  }

  /**
   * A cached entry that passes every check, or null. When building (`building`), a damaged
   * entry is reported as a warning and dropped; status and dry runs leave the store alone.
   */
  private cachedEntry(name: string, key: string, building: boolean): { entry: Entry | null; corrupt?: string } {
    let entry: Entry | null;
    try {
      entry = this.store.getEntry(name, key);
      if (!entry) return { entry: null };
      // Every object is re-hashed. The JSON was validated against the output schema when it
      // was written, and the schema file is part of the key, so an intact entry still
      // satisfies it; the schema is checked again whenever the JSON is actually read
      // (loadOutput), as a downstream stage's input or for the report paths.
      for (const { ref, what } of entryObjects(entry)) this.store.verifyObject(ref, what);
      return { entry };
    } catch (e) {
      if (!(e instanceof CorruptError) && (e as any).reason !== 'corrupt') throw e;
      const msg = (e as Error).message;
      if (building) {
        this.reporter.line(`warning: ${msg.startsWith('stage') ? msg : `stage ${name}: ${msg}`}; recomputing`);
        this.store.dropEntry(name, key);
      }
      return { entry: null, corrupt: msg };
    }
  }

  /**
   * Build `targets` and everything upstream. `force`: true for every stage, or a list.
   */
  async build(targets: string[], opts: { overrides?: Overrides; force?: boolean | string[]; dryRun?: boolean; jobs?: number } = {}): Promise<{ runs: StageRun[]; entries: Record<string, Entry> }> {
    const params = this.resolveAll(opts.overrides ?? {});
    const nodes = this.graph(params);
    const order = upstreamClosure(nodes, targets);
    const inputsOf = new Map(nodes.map((n) => [n.name, n.inputs]));
    for (const f of Array.isArray(opts.force) ? opts.force : []) {
      if (!this.byName.has(f)) throw new PipelineError('unknown-stage', `--force: unknown stage "${f}"\nvalid stages: ${[...this.byName.keys()].join(', ')}`);
    }
    const forced = (n: string) => opts.force === true || (Array.isArray(opts.force) && opts.force.includes(n));
    const entries: Record<string, Entry> = {};
    const runs = new Map<string, StageRun>();
    const jobs = Math.max(1, opts.jobs ?? 1);

    if (opts.dryRun) {
      const willRun = new Set<string>();
      for (const name of order) {
        const ups = inputsOf.get(name)!;
        const dirtyUp = ups.filter((u) => willRun.has(u));
        if (dirtyUp.length) {
          willRun.add(name);
          runs.set(name, { name, status: 'would-run', key: '', seconds: 0, reasons: dirtyUp.map((u) => `upstream ${u} will run`) });
          continue;
        }
        const r = this.record(name, params[name], Object.fromEntries(ups.map((u) => [u, entries[u]])), params);
        const hit = forced(name) ? { entry: null } : this.cachedEntry(name, r.key, false);
        if (hit.entry) {
          entries[name] = hit.entry;
          runs.set(name, { name, status: 'cached', key: r.key.slice(0, 12), seconds: 0 });
        } else {
          willRun.add(name);
          const reasons = forced(name) ? ['forced'] : hit.corrupt ? ['cache entry corrupt'] : (this.explainMiss(name, r) ?? ['never built']);
          runs.set(name, { name, status: 'would-run', key: r.key.slice(0, 12), seconds: 0, reasons });
        }
      }
      return { runs: order.map((n) => runs.get(n)!), entries };
    }

    // Fetch what stages need from outside (the paper's weights) before anything runs, so a
    // failed fetch leaves the cache as it was. Skipped for a source stage already cached.
    for (const name of order) {
      const def = this.byName.get(name)!.def;
      if (!def.prepare) continue;
      if (!forced(name) && !inputsOf.get(name)!.length && this.cachedEntry(name, this.record(name, params[name], {}, params).key, false).entry) continue;
      await Promise.resolve(def.prepare(params[name] as any, this.envOf(name))).catch((e: Error) => {
        throw new PipelineError('stage-failed', `stage ${name} failed: ${e.message}`);
      });
    }

    const buildOne = async (name: string): Promise<void> => {
      const ups = inputsOf.get(name)!;
      const r = this.record(name, params[name], Object.fromEntries(ups.map((u) => [u, entries[u]])), params);
      const short = r.key.slice(0, 12);
      if (!forced(name)) {
        await this.store.remote?.pull(this.store, name, r.key); // [remote] a local miss is looked up remotely
        const hit = this.cachedEntry(name, r.key, true);
        if (hit.entry) {
          entries[name] = hit.entry;
          this.store.setLatest(name, r.key);
          runs.set(name, { name, status: 'cached', key: short, seconds: 0 });
          this.reporter.line(`  cached  ${name}`);
          return;
        }
      }
      // One lock per (stage, key): two processes building the same result wait for each other;
      // different results (other seeds, other params) build at the same time.
      const release = await lock(this.store.lockPath(name, r.key), (h) =>
        this.reporter.line(`  waiting for process ${h.pid} (${h.host}) building ${name}…`),
      );
      const releaseShared = await this.store.remote?.lock?.(name, r.key, (h) => this.reporter.line(`  waiting for ${h} building ${name}…`)).catch((e) => { release(); throw e; }); // [remote]
      try {
        // Another process may have built it while we waited.
        if (!forced(name)) {
          await this.store.remote?.pull(this.store, name, r.key); // [remote] a local miss is looked up remotely
          const hit = this.cachedEntry(name, r.key, true);
          if (hit.entry) {
            entries[name] = hit.entry;
            this.store.setLatest(name, r.key);
            runs.set(name, { name, status: 'cached', key: short, seconds: 0 });
            this.reporter.line(`  cached  ${name} (built by another process)`);
            return;
          }
        }
        const s = this.byName.get(name)!;
        const t0 = performance.now();
        const progress = this.reporter.stage(name);
        const warn = (m: string) => this.reporter.line(`warning: stage ${name}: ${m}`);
        let entry: Entry;
        try {
          if (jobs > 1) {
            entry = await runInChild({
              root: this.root,
              stageFile: s.file,
              schemasDir: this.schemasDir,
              cacheDir: this.store.root,
              name,
              params: params[name],
              record: r.record,
              key: r.key,
              codeFiles: r.codeFiles,
              inputs: Object.fromEntries(ups.map((u) => [u, entries[u]])),
              inputSchemas: Object.fromEntries(ups.map((u) => [u, this.byName.get(u)!.schemas.output])),
              externals: r.externals,
              env: this.envOf(name),
              overrides: r.overrides,
              onProgress: progress,
              onWarn: warn,
            });
          } else {
            const inputs: Record<string, StageOutput> = {};
            for (const u of ups) inputs[u] = loadOutput(this.store, entries[u], this.byName.get(u)!.schemas.output);
            entry = await executeStage({
              store: this.store,
              def: s.def,
              params: params[name],
              record: r.record,
              key: r.key,
              codeFiles: r.codeFiles,
              inputs,
              externals: r.externals,
              env: this.envOf(name),
              overrides: r.overrides,
              outputSchema: s.schemas.output,
              progress,
              warn,
            });
          }
        } catch (e) {
          progress.done();
          const err = e as Error;
          // A message is enough for a deliberate error; a TypeError or the like is a bug, so
          // show where it happened (TOTAL_INTERP_DEBUG=1 prints every stack).
          const bug = err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError;
          const frames = (err.stack ?? '').split('\n').filter((l) => l.startsWith('    at '));
          const where = bug || this.env.TOTAL_INTERP_DEBUG ? `\n${frames.slice(0, this.env.TOTAL_INTERP_DEBUG ? undefined : 3).join('\n')}` : '';
          throw new PipelineError('stage-failed', `stage ${name} failed: ${err.message}${where}`);
        } finally {
          progress.done();
        }
        entries[name] = entry;
        const seconds = (performance.now() - t0) / 1000;
        runs.set(name, { name, status: 'ran', key: short, seconds });
        this.reporter.line(`  ran     ${name}  ${seconds.toFixed(2)}s`);
        await this.store.remote?.push(this.store, entry); // [remote] before the locks go: a waiter then finds it
      } finally {
        await releaseShared?.(); // [remote]
        release();
      }
    };

    if (jobs <= 1) {
      for (const name of order) await buildOne(name);
    } else {
      // Parallel: a stage starts when all its inputs are done; at most `jobs` at a time.
      const pending = new Set(order);
      const running = new Map<string, Promise<void>>();
      let failure: unknown = null;
      while ((pending.size || running.size) && !failure) {
        for (const name of [...pending]) {
          if (running.size >= jobs) break;
          if (inputsOf.get(name)!.every((u) => name !== u && u in entries)) {
            pending.delete(name);
            running.set(name, buildOne(name).catch((e) => { failure ??= e; }).finally(() => running.delete(name)));
          }
        }
        if (running.size === 0 && pending.size) throw new PipelineError('internal', `cannot schedule: ${[...pending].join(', ')}`);
        await Promise.race(running.values());
      }
      await Promise.all(running.values());
      if (failure) throw failure;
    }
    this.materialize(order.map((n) => entries[n]));
    return { runs: order.map((n) => runs.get(n)!), entries };
  }

  /** Write stage artifacts (reports, figures) into reports/, only where they differ. */
  materialize(entries: Entry[]): string[] {
    const written: string[] = [];
    for (const e of entries) {
      for (const [rel, ref] of Object.entries(e.outputs.artifacts)) {
        const dest = path.join(this.reportsDir, rel);
        let same = false;
        try {
          same = fs.statSync(dest).size === ref.bytes && sha256(fs.readFileSync(dest)) === ref.hash;
        } catch {
          same = false;
        }
        if (!same) {
          const bytes = this.store.getObject(ref, `stage ${e.record.stage}: artifact ${rel}`);
          fs.mkdirSync(path.dirname(dest), { recursive: true });
          const tmp = `${dest}.tmp-${process.pid}`;
          fs.writeFileSync(tmp, bytes);
          fs.renameSync(tmp, dest);
        }
        written.push(dest);
      }
    }
    return written;
  }

  /**
   * A built stage's JSON output, hash-checked but not schema-checked (it was validated on
   * write against a schema that is part of its key). Cheap: for the CLI's report paths.
   */
  json(entry: Entry): any {
    const bytes = this.store.getObject(entry.outputs.json, `stage ${entry.record.stage}: json output`);
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  }

  /** Read a built stage's output, tensors included, with every check. */
  output(entry: Entry): StageOutput {
    return loadOutput(this.store, entry, this.byName.get(entry.record.stage)!.schemas.output);
  }

  /**
   * Why a stage's current key is not in the cache, compared with the built entry it is
   * closest to (fewest differences; the latest build on ties), or null if never built.
   * With several seeds or models in one cache, "the last build" is often not the one the
   * user changed, so the closest record gives the clearest reason.
   */
  explainMiss(name: string, now: { record: KeyRecord; codeFiles: Record<string, string> }): string[] | null {
    const latest = this.store.latestEntry(name);
    let best: string[] | null = latest ? explainChange(latest, now) : null;
    for (const { key } of this.store.listEntries().filter((e) => e.stage === name)) {
      if (latest && key === latest.key) continue;
      let e: Entry | null = null;
      try {
        e = this.store.getEntry(name, key);
      } catch {
        continue;
      }
      if (!e) continue;
      const why = explainChange(e, now);
      if (best === null || why.length < best.length) best = why;
    }
    return best;
  }

  /** Fresh / stale / missing for every stage, with reasons. Nothing is built. */
  status(opts: { overrides?: Overrides; targets?: string[] } = {}): StageStatus[] {
    const params = this.resolveAll(opts.overrides ?? {});
    const nodes = this.graph(params);
    const needed = new Set(upstreamClosure(nodes, opts.targets ?? (this.byName.has('report') ? ['report'] : topoSort(nodes))));
    const inputsOf = new Map(nodes.map((n) => [n.name, n.inputs]));
    const entries: Record<string, Entry> = {};
    const out: StageStatus[] = [];
    for (const name of topoSort(nodes)) {
      const ups = inputsOf.get(name)!;
      const latest = this.store.latestEntry(name);
      const notFresh = ups.filter((u) => !entries[u]);
      if (notFresh.length) {
        out.push({
          name,
          state: latest ? 'stale' : 'missing',
          reasons: [...notFresh.map((u) => `upstream ${u} ${out.find((x) => x.name === u)!.state}`), ...(latest ? [] : ['never built'])],
          needed: needed.has(name),
        });
        continue;
      }
      let r;
      try {
        r = this.record(name, params[name], Object.fromEntries(ups.map((u) => [u, entries[u]])), params);
      } catch (e) {
        out.push({ name, state: latest ? 'stale' : 'missing', reasons: [(e as Error).message.split('\n')[0]], needed: needed.has(name) });
        continue;
      }
      const hit = this.cachedEntry(name, r.key, false);
      if (hit.entry) {
        entries[name] = hit.entry;
        out.push({ name, state: 'fresh', reasons: [], key: r.key.slice(0, 12), needed: needed.has(name) });
      } else if (hit.corrupt) {
        out.push({ name, state: 'stale', reasons: ['cache entry corrupt'], key: r.key.slice(0, 12), needed: needed.has(name) });
      } else if (latest) {
        out.push({ name, state: 'stale', reasons: this.explainMiss(name, r)!, key: r.key.slice(0, 12), needed: needed.has(name) });
      } else {
        out.push({ name, state: 'missing', reasons: ['never built'], key: r.key.slice(0, 12), needed: needed.has(name) });
      }
    }
    return out;
  }

  /** Mermaid text of the graph in force. */
  dag(opts: { overrides?: Overrides } = {}): string {
    const params = this.resolveAll(opts.overrides ?? {});
    const nodes = this.graph(params);
    const id = (n: string) => n.replace(/[^A-Za-z0-9_]/g, '_');
    const lines = ['flowchart LR'];
    for (const n of nodes) {
      const s = this.byName.get(n.name)!.def;
      lines.push(`  ${id(n.name)}["${n.name}${s.section ? `<br/>${s.section}` : ''}"]`);
    }
    for (const n of nodes) for (const i of n.inputs) lines.push(`  ${id(i)} --> ${id(n.name)}`);
    return lines.join('\n') + '\n';
  }

  /**
   * Delete entries and objects that no current stage key reaches (for each of the given
   * param sets; default: the defaults). Files younger than `graceMs` are kept, so a run in
   * progress in another process never loses what it just wrote.
   */
  gc(opts: { overrides?: Overrides[]; graceMs?: number; dryRun?: boolean } = {}): { entries: number; objects: number; bytes: number } {
    const grace = opts.graceMs ?? 10 * 60 * 1000;
    const holders = this.store.liveLocks();
    if (holders.length) {
      throw new PipelineError('busy', `gc: another pipeline process is building (${holders.join(', ')})\nhint: run gc again when it has finished`);
    }
    const keep = new Set<string>();
    const keepObjects = new Set<string>();
    for (const ov of opts.overrides ?? [{}]) {
      for (const st of this.status({ overrides: ov })) {
        if (st.state !== 'fresh' || !st.key) continue;
        const full = this.store.listEntries().find((e) => e.stage === st.name && e.key.startsWith(st.key!));
        if (!full) continue;
        keep.add(`${full.stage}/${full.key}`);
        const entry = this.store.getEntry(full.stage, full.key);
        if (entry) for (const { ref } of entryObjects(entry)) keepObjects.add(ref.hash);
      }
    }
    const now = Date.now();
    let entries = 0;
    let objects = 0;
    let bytes = 0;
    for (const e of this.store.listEntries()) {
      if (keep.has(`${e.stage}/${e.key}`)) continue;
      const st = fs.statSync(e.path);
      if (now - st.mtimeMs < grace) continue;
      entries++;
      bytes += st.size;
      if (!opts.dryRun) fs.rmSync(e.path, { force: true });
    }
    for (const o of this.store.listObjects()) {
      if (keepObjects.has(o.hash) || now - o.mtimeMs < grace) continue;
      objects++;
      bytes += o.bytes;
      if (!opts.dryRun) fs.rmSync(o.path, { force: true });
    }
    for (const t of this.store.listTmp()) {
      if (now - t.mtimeMs < grace) continue;
      bytes += t.bytes;
      if (!opts.dryRun) fs.rmSync(t.path, { force: true });
    }
    return { entries, objects, bytes };
  }
}
