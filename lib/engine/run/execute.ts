// Running one stage: load its inputs from the store, call its pure `run`, check its outputs
// (schema, tensors, artifact names, JSON round trip) and hand them to the store's `put`.
// The same code in this process and in a worker (--jobs): this file is also the worker
// process's entry (run-stage.ts forks it), so both store exactly the same thing.

import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { canonicalJson } from '../keep/hash.ts';
import { checkOutput, useStandaloneValidators } from '../validate.ts';
import { decodeTensor, encodeTensor, checkTensor } from '../keep/tensor.ts';
import { LocalStore, type Store, type StoredResult } from '../keep/store.ts';
import { CorruptError, artifactNameProblem, outputHashOf, type Entry, type TensorRef } from '../keep/entry.ts';
import type { KeyRecord } from '../decide/key.ts';
import type { ExternalFile, Progress, StageDef, StageOutput, StageResult, Tensor } from '../types.ts';


/**
 * Load a built stage's output. Its JSON is read, re-hashed, parsed and schema-checked here; each
 * tensor is read, re-hashed, decoded and checked against its ref on first access (a getter on
 * `tensors`), so a stage pays only for the tensors it reads. Any failure to read, decode or
 * validate is corruption: a CorruptError naming the entry, which the caller drops and
 * recomputes. A tensor found damaged during a stage's run is remembered on the output
 * (damageOf), so the run fails with that CorruptError even if the stage caught it.
 */
/** `outputSchema` null: the JSON was validated when this build wrote it (build.ts); its bytes are still hash-checked. */
export function loadOutput(store: Store, entry: Entry, outputSchema: any): StageOutput {
  const stage = entry.record.stage;
  const at = { stage, key: entry.key };
  const jsonBytes = store.getObject(entry.outputs.json, `stage ${stage}: json output`, at);
  let json: any;
  try {
    json = JSON.parse(Buffer.from(jsonBytes).toString('utf8'));
  } catch (e) {
    throw new CorruptError(`stage ${stage}: json output does not decode (${(e as Error).message})`, at);
  }
  let err: string | null;
  try {
    err = checkOutput(stage, outputSchema, json, 'read');
  } catch (e) {
    err = (e as Error).message;
  }
  if (err) throw new CorruptError(err, at);
  // The entry's outputHash (what downstream keys use) must be that of the JSON just read and of
  // the tensor refs, each of which is checked against its bytes when read: a re-sealed entry
  // cannot pass other outputs off.
  const declared = store.declared?.(stage);
  if (declared && outputHashOf(json, declared.volatile ?? [], entry.outputs.tensors, entry.outputs.artifacts) !== entry.outputHash) {
    throw new CorruptError(`stage ${stage}: cache entry ${entry.key.slice(0, 12)} has an outputHash that is not its outputs' (forged)`, at);
  }
  const out: StageOutput = { json, tensors: {}, key: entry.key.slice(0, 12), outputHash: entry.outputHash, provenance: entry.provenance?.stage ?? {} };
  const damage: { error: CorruptError | null } = { error: null };
  Object.defineProperty(out, DAMAGE, { value: damage, enumerable: false });
  for (const [name, ref] of Object.entries(entry.outputs.tensors)) {
    let t: Tensor | null = null;
    Object.defineProperty(out.tensors, name, {
      enumerable: true,
      get(): Tensor {
        if (t) return t;
        if (damage.error) throw damage.error;
        try {
          t = readTensor(store, ref, `stage ${stage}: tensor ${name}`, at);
        } catch (e) {
          damage.error = e instanceof CorruptError ? e : new CorruptError((e as Error).message, at);
          throw damage.error;
        }
        return t;
      },
    });
  }
  return out;
}

const DAMAGE = Symbol('damage');

/** The CorruptError of an input tensor found damaged when read (loadOutput), or null. */
export function damageOf(inputs: Record<string, StageOutput>): CorruptError | null {
  for (const o of Object.values(inputs)) {
    const d = (o as { [DAMAGE]?: { error: CorruptError | null } })[DAMAGE];
    if (d?.error) return d.error;
  }
  return null;
}

/** One tensor object read, re-hashed (getObject), decoded and checked against its ref. */
function readTensor(store: Store, ref: TensorRef, what: string, at: { stage: string; key: string }): Tensor {
  const bytes = store.getObject(ref, what, at);
  let t: Tensor;
  try {
    t = decodeTensor(bytes, what, { owned: true }); // a fresh read, used for nothing else
  } catch (e) {
    throw new CorruptError((e as Error).message, at);
  }
  if (t.dtype !== ref.dtype || JSON.stringify(t.shape) !== JSON.stringify(ref.shape)) {
    throw new CorruptError(`${what}: decodes as ${t.dtype} ${JSON.stringify(t.shape)}, its entry says ${ref.dtype} ${JSON.stringify(ref.shape)}`, at);
  }
  return t;
}

export interface ExecuteArgs {
  store: Store;
  def: StageDef;
  params: Record<string, unknown>;
  record: KeyRecord;
  key: string;
  codeFiles: Record<string, string>;
  inputs: Record<string, StageOutput>;
  externals: Record<string, ExternalFile>;
  /** Each external file's label, for the entry's provenance (Keyed.labels). */
  labels: Record<string, string>;
  env: Record<string, string | undefined>;
  overrides: Record<string, Record<string, unknown>>;
  outputSchema: any;
  progress: Progress;
  warn: (m: string) => void;
}

// outputHashOf is defined in entry.ts (the store recomputes it on reads without loading this file).
export { outputHashOf };

export async function executeStage(a: ExecuteArgs): Promise<Entry> {
  const { store, def } = a;
  const t0 = performance.now();
  let result: StageResult;
  try {
    result = await def.run({
      params: a.params,
      inputs: a.inputs,
      externals: a.externals,
      progress: a.progress,
      warn: a.warn,
      env: a.env,
      overrides: a.overrides,
    });
  } catch (e) {
    // A damaged input tensor is the input's fault, whatever the stage made of it: the caller rebuilds that input.
    throw damageOf(a.inputs) ?? e;
  }
  // Nothing computed from a damaged read is stored, even if the stage caught the error.
  const damaged = damageOf(a.inputs);
  if (damaged) throw damaged;
  const seconds = (performance.now() - t0) / 1000;
  if (!result || typeof result !== 'object' || typeof result.json !== 'object' || result.json === null) {
    throw new Error(`stage ${def.name}: run() must return { json, tensors?, artifacts? }`);
  }
  const schemaErr = checkOutput(def.name, a.outputSchema, result.json, 'write');
  if (schemaErr) throw new Error(schemaErr);
  const tensors: StoredResult['tensors'] = {};
  for (const [name, t] of Object.entries(result.tensors ?? {})) {
    checkTensor(t, `stage ${def.name}: tensor ${name}`);
    tensors[name] = { encode: encodeTensor.bind(null, t), dtype: t.dtype, shape: t.shape }; // encoded as written: one at a time in memory
  }
  for (const name of def.tensors ?? []) {
    if (!(name in tensors)) throw new Error(`stage ${def.name}: declared tensor "${name}" was not produced`);
  }
  for (const p of Object.keys(result.artifacts ?? {})) {
    const bad = artifactNameProblem(p);
    if (bad) throw new Error(`stage ${def.name}: artifact name ${bad} (it must be a file inside reports/<label>/)`);
  }
  const jsonText = JSON.stringify(result.json);
  // Round-trip check: what downstream will read must equal what the stage returned.
  if (canonicalJson(JSON.parse(jsonText)) !== canonicalJson(result.json)) {
    throw new Error(`stage ${def.name}: JSON output does not survive JSON encoding (NaN, undefined or a typed array in it?)`);
  }
  const provenance = result.provenance ?? {};
  if (typeof provenance !== 'object' || provenance === null || Array.isArray(provenance) || canonicalJson(JSON.parse(JSON.stringify(provenance))) !== canonicalJson(provenance)) {
    throw new Error(`stage ${def.name}: provenance must be a plain JSON object`);
  }
  // Checked: the store writes it, objects first and the entry last.
  return store.put({
    key: a.key,
    record: a.record,
    codeFiles: a.codeFiles,
    json: result.json,
    jsonText,
    volatile: def.volatile ?? [],
    tensors,
    artifacts: result.artifacts ?? {},
    provenance: { files: a.labels, stage: provenance },
    seconds,
  });
}

export { decodeTensor };

/** What a worker process needs: executeStage's arguments that travel as data, and where to find the rest (stage, schemas, store, inputs). */
export interface ChildJob extends Pick<ExecuteArgs, 'params' | 'record' | 'key' | 'codeFiles' | 'externals' | 'labels' | 'env' | 'overrides' | 'outputSchema'> {
  root: string;
  stageFile: string;
  schemasDir: string;
  cacheDir: string;
  name: string;
  inputs: Record<string, Entry>;
  /** Each input's output schema; null for one validated when this build wrote it. */
  inputSchemas: Record<string, unknown>;
}

// ---- a worker process ----
// Forked by run-stage.ts: it runs the stages sent to it one after another, each with its own
// id, and stays up between them, so the modules and WebAssembly kernels it has loaded serve
// the next stage without another tsx start-up.

async function work(id: number, job: ChildJob): Promise<void> {
  try {
    useStandaloneValidators(path.join(job.schemasDir, 'validators'));
    const store = new LocalStore(job.cacheDir);
    const def = (await import(pathToFileURL(path.resolve(job.root, job.stageFile)).href)).default;
    const inputs: Record<string, StageOutput> = {};
    for (const [u, e] of Object.entries(job.inputs)) inputs[u] = loadOutput(store, e, job.inputSchemas[u]);
    let last = 0;
    const entry = await executeStage({
      ...job,
      store,
      def,
      params: Object.freeze(job.params),
      inputs,
      progress: (done, total, message) => {
        const now = performance.now();
        if (now - last < 50 && done < total) return;
        last = now;
        process.send!({ type: 'progress', id, done, total, message });
      },
      warn: (message) => process.send!({ type: 'warn', id, message }),
    });
    process.send!({ type: 'done', id, entry });
  } catch (e) {
    const err = e as Error & { reason?: string; stage?: string; key?: string; code?: string; hint?: string };
    // reason/stage/key/code/hint let the parent rebuild the same error (corrupt input, cache full…).
    const { reason, stage, key, code, hint } = err;
    process.send!({ type: 'error', id, message: err.message, stack: err.stack, reason, stage, key, code, hint });
  }
}

if (process.send && process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // The parent is gone (Ctrl-C, a kill) or done with this worker: nothing will read a result, so stop.
  process.on('disconnect', () => process.exit(0));
  // Jobs arrive one at a time (the parent sends the next only after this one's answer); they
  // are chained anyway, so that a stage's seconds never count another's work.
  let tail: Promise<void> = Promise.resolve();
  process.on('message', (m: any) => {
    if (m?.type === 'job') tail = tail.then(() => work(m.id, m.job));
  });
  // A build that finished while this worker started has closed the channel already: the
  // callback takes that error (else an unhandled 'error' event), and 'disconnect' ends the process.
  if (process.connected) process.send({ type: 'ready' }, undefined, {}, () => {});
}
