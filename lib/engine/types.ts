// The stage declaration: the one contract between the engine and every stage.
//
// A stage is a pure function from (params, upstream outputs, external files) to an
// output. It does no file I/O of its own (the engine reads inputs and writes outputs),
// no Date.now(), no Math.random(): everything that can change its result must arrive
// through `run`'s context so that it is in the cache key.
//
// Params are defined by a JSON Schema at `schemas/<stage>.params.json` (with `default`s;
// ajv fills them), and a stage's JSON output by `schemas/<stage>.output.json`. Both
// schema files are part of the stage's code hash.

/** A dense tensor: row-major, little-endian on disk. */
export type TypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

export type DType = 'float32' | 'float64' | 'int32' | 'uint32' | 'int16' | 'uint16' | 'int8' | 'uint8';

export interface Tensor<A extends TypedArray = TypedArray> {
  dtype: DType;
  shape: number[];
  data: A;
}

/** What a stage returns. `json` is validated against the stage's output schema. */
export interface StageResult {
  /** What the stage computed: hashed, and what downstream keys stand for. */
  json: Record<string, unknown>;
  /**
   * Where its inputs came from (a source's kind, a file's name, a zip entry): stored beside
   * the output, shown and reported, never hashed into the output's content hash. The same
   * bytes read from another source give the same output hash, so nothing downstream runs
   * again. `json` must not depend on anything that goes here.
   */
  provenance?: Record<string, unknown>;
  tensors?: Record<string, Tensor>;
  /**
   * Files for users (report.md, SVGs…), path relative to the project's `reports/`
   * folder. Stored in the cache like any output and materialized by the engine.
   */
  artifacts?: Record<string, string | Uint8Array>;
}

/** An upstream stage's output as seen by a downstream stage. */
export interface StageOutput {
  json: any;
  tensors: Record<string, Tensor>;
  /** Short cache key of the stage that produced it (for provenance in reports). */
  key: string;
  /** Content hash of the whole output (provenance left out). */
  outputHash: string;
  /** The producing run's provenance (StageResult.provenance), when it gave one. */
  provenance?: Record<string, unknown>;
}

/** A file outside the cache that a stage reads (data, imported weights). */
export interface ExternalFile {
  /** Logical name, e.g. "source". */
  name: string;
  /** Path as resolved (absolute). Used to read the file; never enters a key or an output. */
  path: string;
  /**
   * The file's label (default: its basename), e.g. "embedded:enwik9-head-1024.txt": recorded
   * in the provenance of the entry built from it and shown, never part of a key (a file is
   * its content; its name is a label). Never a path.
   */
  display?: string;
  /**
   * The file's sha256 when code pins it (the paper's weights): the fingerprint is then
   * `sha256:<this>`, the same as that of any file with these bytes, without reading or even
   * finding the file (the stage's `prepare` fetches it; its `run` checks what it reads).
   */
  sha256?: string;
  /**
   * Read at most this many bytes; the fingerprint then covers only the prefix
   * (enwik9 is 1 GB and we need its first kilobyte).
   */
  maxBytes?: number;
  /** What to tell the user when the file is missing ("set data.path or ENWIK9"). */
  hint?: string;
}

export interface Progress {
  /** done/total units of work, with an optional short message ("epoch 120 bpc 0.41"). */
  (done: number, total: number, message?: string): void;
}

export interface RunContext<P> {
  params: Readonly<P>;
  inputs: Record<string, StageOutput>;
  /**
   * External files declared by `externals`, resolved and fingerprinted by the engine
   * (it has checked they exist). The one I/O a stage may do is to read these files.
   */
  externals: Record<string, ExternalFile>;
  progress: Progress;
  /** A warning for the user (printed on stderr, named with the stage). */
  warn: (message: string) => void;
  /** Environment variables the stage declared in `env` (and only those). */
  env: Record<string, string | undefined>;
  /**
   * For a stage that declares `overrides: true` (the report): every stage's params that
   * differ from their schema defaults, `{ stage: { param: value } }`. Empty otherwise
   * (the engine always passes it; callers that test a stage may leave it out).
   */
  overrides?: Record<string, Record<string, unknown>>;
}

export interface StageDef<P = any> {
  name: string;
  /** One line for `dag`, `status` and `--help`. */
  description: string;
  /** Paper section this stage reproduces, e.g. "§3.3". */
  section?: string;
  /** Upstream stage names; may depend on params (model: import vs train). */
  inputs: readonly string[] | ((params: P) => readonly string[]);
  /** Environment variables that may change the result; their values enter the key. */
  env?: readonly string[];
  /**
   * Environment variables that only say where a file is (ENWIK9, TOTAL_INTERP_PAPER_WEIGHTS):
   * handed to `externals` and `run` like `env`, but kept out of the key, which holds the
   * file's content fingerprint (an external) or a hash pinned in code instead. A path is
   * not a result: checkouts with different layouts share cache entries.
   */
  pathEnv?: readonly string[];
  /**
   * Fetches what the stage will read from outside before any stage of the build runs (the
   * paper's weights), so a failed fetch fails the build with the cache untouched. Not called
   * by status or dry runs, nor for a stage without inputs that is already cached.
   */
  prepare?: (params: P, env: Record<string, string | undefined>) => void | Promise<void>;
  /**
   * The stage can run for minutes (training). Under --jobs, a stage the cache has never
   * timed runs in this process, as most stages take less than a child's start-up; a `long`
   * one goes to a child instead, so that it never holds up the scheduler and the other
   * stages' progress on its first run. Once timed, its recorded seconds decide.
   */
  long?: boolean;
  /**
   * Roughly how many seconds a run takes on the default data, for ordering a parallel build
   * whose cache has never timed this stage (an empty cache): the stages with the most
   * seconds below them start first. Once the cache has timed it, its recorded seconds
   * decide. Never part of a key or a result; without it a stage counts as 0.1 s.
   */
  expectSeconds?: number;
  /** External files read by the stage; their content fingerprints (never their names) enter the key. */
  externals?: (params: P, env: Record<string, string | undefined>) => ExternalFile[];
  /**
   * Project files the stage's result depends on besides its own import graph
   * (rare; e.g. the paper-figures file read by the report). Relative to the project.
   */
  extraSources?: readonly string[];
  /**
   * Top-level keys of the JSON output that record how the run went rather than what it
   * computed (wall-clock timings). They are stored and shown, but left out of the
   * output's content hash, so a re-run that only differs in them does not invalidate
   * anything downstream (early cutoff survives non-deterministic timings).
   */
  volatile?: readonly string[];
  /**
   * The stage sees which params of the whole pipeline differ from their defaults
   * (ctx.overrides), e.g. to name and describe a run; they then enter its key.
   */
  overrides?: boolean;
  /**
   * The params as they enter keys (and other stages' `overrides`), when some param only
   * says where a file is: its content is already in the key through an external file's
   * fingerprint, and neither its folder nor its name may be (results are relocatable, and
   * the same bytes under another name are the same input). E.g. model.source =
   * "../weights/w.bin" and "paper" both enter as "import". Default: the params as they are.
   */
  keyParams?: (params: P) => Record<string, unknown>;
  /**
   * The params that, with these values, name a file on this machine (data.path, model.source
   * as a path): a queued job may not set them, since a worker would read what they name.
   */
  fileParams?: (params: P) => readonly string[];
  /** Tensor names the stage produces (checked after run). */
  tensors?: readonly string[];
  run(ctx: RunContext<P>): StageResult | Promise<StageResult>;
}

/** Identity helper giving type inference for stage files. */
export function defineStage<P>(def: StageDef<P>): StageDef<P> {
  return def;
}
