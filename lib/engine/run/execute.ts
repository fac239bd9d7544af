// Running one stage: load its inputs from the store, call its pure `run`, check its outputs
// (schema, tensors, artifact names, JSON round trip) and hand them to the store's `put`. Shared by the in-process runner
// and the child-process runner (--jobs), so both store exactly the same thing.

import { canonicalJson } from '../keep/hash.ts';
import { checkOutput } from '../validate.ts';
import { decodeTensor, encodeTensor, checkTensor } from '../keep/tensor.ts';
import type { Store, StoredResult } from '../keep/store.ts';
import { CorruptError, artifactNameProblem, outputHashOf, type Entry } from '../keep/entry.ts';
import type { KeyRecord } from '../decide/key.ts';
import { externalLabel } from '../decide/key.ts';
import type { ExternalFile, Progress, StageDef, StageOutput, Tensor } from '../types.ts';


/**
 * Load a built stage's output (json + tensors), verifying every object. Any failure to
 * read, decode or validate it is corruption: a CorruptError naming the entry, which the
 * caller drops and recomputes.
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
  const tensors: Record<string, Tensor> = {};
  for (const [name, ref] of Object.entries(entry.outputs.tensors)) {
    const what = `stage ${stage}: tensor ${name}`;
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
    tensors[name] = t;
  }
  // The JSON and every tensor were just read and re-hashed: the entry's outputHash (what
  // downstream keys use) must be theirs, so a re-sealed entry cannot pass other outputs off.
  const declared = store.declared?.(stage);
  if (declared && outputHashOf(json, declared.volatile ?? [], entry.outputs.tensors, entry.outputs.artifacts) !== entry.outputHash) {
    throw new CorruptError(`stage ${stage}: cache entry ${entry.key.slice(0, 12)} has an outputHash that is not its outputs' (forged)`, at);
  }
  return { json, tensors, key: entry.key.slice(0, 12), outputHash: entry.outputHash, provenance: entry.provenance?.stage ?? {} };
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
  const result = await def.run({
    params: a.params,
    inputs: a.inputs,
    externals: a.externals,
    progress: a.progress,
    warn: a.warn,
    env: a.env,
    overrides: a.overrides,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (!result || typeof result !== 'object' || typeof result.json !== 'object' || result.json === null) {
    throw new Error(`stage ${def.name}: run() must return { json, tensors?, artifacts? }`);
  }
  const schemaErr = checkOutput(def.name, a.outputSchema, result.json, 'write');
  if (schemaErr) throw new Error(schemaErr);
  const tensors: StoredResult['tensors'] = {};
  for (const [name, t] of Object.entries(result.tensors ?? {})) {
    checkTensor(t, `stage ${def.name}: tensor ${name}`);
    tensors[name] = { encode: () => encodeTensor(t), dtype: t.dtype, shape: t.shape }; // encoded as written: one at a time in memory
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
    provenance: { files: Object.fromEntries(Object.entries(a.externals).map(([n, f]) => [n, externalLabel(f)])), stage: provenance },
    seconds,
  });
}

export { decodeTensor };
