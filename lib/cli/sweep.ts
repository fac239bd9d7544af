// `report --sweep PARAM=v1,v2,… [--sweep …] [--seeds 42,43,…] [--targets stage,…]`: one
// ordinary cached build per point of the grid (every combination of the swept values,
// times every seed; --seeds is shorthand for --sweep train.seed=…). A point is its typed
// overrides; a `PointRunner` builds it: in this process, or with --jobs N in N child
// pipeline processes at once (each given the point's overrides as JSON, serialized once; the
// per-(stage, key) locks make shared stages, like data, build once), or on a queue's workers
// (lib/cli/commands.ts: submitted at start, then pulled from the remote cache). The
// aggregate only reads the cache.
//
// Afterwards each point's stage outputs are read back from the cache and turned into a
// report-shaped document by the report's own section builders (only the sections whose
// stages were built), so a sweep need not build the report stage (Q3 builds only the
// stages whose figures it plots). Only --seeds with the report as target keeps the seeds'
// aggregate (lib/report/seeds.ts: the audit, the paper's-weights column); every other sweep
// gets reports/sweep-…/ (lib/report/sweep.ts).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Pipeline, Overrides, StageRun } from '../engine/pipeline.ts';
import { parseValue, paramNames, ParamError } from '../engine/params.ts';
import { plan, type Force } from '../engine/decide/plan.ts';
import { loadOutput } from '../engine/run/execute.ts';
import { writeFileAtomic } from '../engine/keep/atomic-write.ts';
import type { Entry } from '../engine/keep/entry.ts';
import type { StageOutput } from '../engine/types.ts';
import type { ReportJson } from '../report/audit.ts';
import type { PaperFigures } from '../report/compare.ts';
import { BUILT_FROM, builtFromFile, findReference } from './reports.ts';
import { CliError } from './errors.ts';

/** One swept param: its values typed by the stage's schema, and as written. */
export interface Axis {
  stage: string;
  param: string;
  /** stage.param */
  key: string;
  raw: string[];
  values: unknown[];
}

const EXAMPLE = '--sweep data.bytes=1024,4096';

/** Parse --sweep PARAM=v1,v2,… strings; values are typed like --set. */
export function parseSweep(p: Pipeline, specs: string[] = []): Axis[] {
  const axes: Axis[] = [];
  for (const s of specs) {
    const m = /^([^.=]+)\.([^=]+)=(.*)$/s.exec(s);
    if (!m) throw new CliError('usage', `--sweep ${s}: expected stage.param=v1,v2,…`, `e.g. ${EXAMPLE}`);
    const [, stage, param, list] = m;
    const st = p.byName.get(stage);
    if (!st) throw new ParamError(`--sweep ${s}: unknown stage "${stage}"\nvalid stages: ${p.stageNames.join(', ')}`, `e.g. ${EXAMPLE}`);
    const prop = st.schemas.params?.properties?.[param];
    if (!prop) {
      const names = paramNames(st.schemas.params);
      throw new ParamError(`--sweep ${s}: unknown param "${stage}.${param}"\nvalid params of ${stage}: ${names.length ? names.join(', ') : '(none)'}`, `e.g. ${EXAMPLE}`);
    }
    const raw = list.split(',').map((v) => v.trim());
    if (list.trim() === '' || raw.some((v) => v === '')) {
      throw new CliError('usage', `--sweep ${s}: empty value in the list of ${stage}.${param}`, `give one or more comma-separated values, e.g. ${EXAMPLE}`);
    }
    if (new Set(raw).size !== raw.length) throw new CliError('usage', `--sweep ${s}: a value is listed twice`, `list each value of ${stage}.${param} once`);
    const key = `${stage}.${param}`;
    if (axes.some((a) => a.key === key)) throw new CliError('usage', `--sweep ${key} is given twice`, 'list all its values in one --sweep');
    const values = raw.map((v) => {
      try {
        return parseValue(stage, param, v, prop);
      } catch (e) {
        const problem = (e as ParamError).problem;
        throw new ParamError(`--sweep ${s}: ${(e as Error).message}`, problem?.kind === 'bad-value' ? `--sweep ${problem.stage}.${problem.param}=<${problem.expected}>` : (e as ParamError).hint);
      }
    });
    // Two spellings of one value (01 and 1, 1e3 and 1000) would build one point twice and
    // count it as two: an error, like a value written twice.
    const seen = new Map<string, string>();
    values.forEach((v, i) => {
      const k = JSON.stringify(v);
      if (seen.has(k)) throw new CliError('usage', `--sweep ${s}: ${seen.get(k)} and ${raw[i]} are the same value (${k}) of ${stage}.${param}`, `list each value of ${stage}.${param} once`);
      seen.set(k, raw[i]);
    });
    axes.push({ stage, param, key, raw, values });
  }
  return axes;
}

/** One point of the grid: the swept values (seed apart), the seed, and its typed overrides (the --set ones included). */
export interface Point {
  values: Record<string, unknown>;
  seed: number | null;
  overrides: Overrides;
  /** For progress lines: `data.bytes=1024 seed=42`. */
  name: string;
}

/** The grid: every combination of the axes' values (first axis slowest), times every seed. */
export function gridPoints(axes: Axis[], seeds: number[] | null, base: Overrides): Point[] {
  let combos: { values: Record<string, unknown>; overrides: Overrides }[] = [{ values: {}, overrides: base }];
  for (const a of axes) {
    combos = combos.flatMap((c) =>
      a.values.map((v) => ({
        values: { ...c.values, [a.key]: v },
        overrides: { ...c.overrides, [a.stage]: { ...(c.overrides[a.stage] ?? {}), [a.param]: v } },
      })),
    );
  }
  const name = (v: Record<string, unknown>, seed: number | null) => [...Object.entries(v).map(([k, x]) => `${k}=${String(x)}`), ...(seed !== null ? [`seed=${seed}`] : [])].join(' ');
  if (!seeds) return combos.map((c) => ({ ...c, seed: null, name: name(c.values, null) }));
  return combos.flatMap((c) =>
    seeds.map((seed) => ({
      values: c.values,
      seed,
      overrides: { ...c.overrides, train: { ...(c.overrides.train ?? {}), seed } },
      name: name(c.values, seed),
    })),
  );
}

/**
 * The order the points are built in, as indices into `points`. A point's cost grows with
 * its data.bytes (training and every analysis are linear in it or worse), so the largest
 * go first: the last points to finish are then small ones, and no core sits idle beside
 * one long point at the end of a sweep. And the seeds of one size alternate with those of
 * the next size down: two points built side by side then rarely need the same
 * seed-independent stage (construction, reverse-iso) at once, where one would wait on the
 * other's lock. Points without a numeric data.bytes, or all of one size, keep their order.
 */
export function buildOrder(points: readonly Point[]): number[] {
  const bytes = points.map((pt) => pt.overrides.data?.bytes);
  const idx = points.map((_, i) => i);
  if (!bytes.every((b): b is number => typeof b === 'number') || new Set(bytes).size < 2) return idx;
  const sizes = [...new Set(bytes)].sort((a, b) => b - a);
  const groups = sizes.map((n) => idx.filter((i) => bytes[i] === n));
  const order: number[] = [];
  for (let g = 0; g < groups.length; g += 2) {
    const [a, b = []] = [groups[g], groups[g + 1]];
    for (let k = 0; k < Math.max(a.length, b.length); k++) order.push(...(k < a.length ? [a[k]] : []), ...(k < b.length ? [b[k]] : []));
  }
  return order;
}

/** What builds the points: one interface for in-process, child-process and queue runs. */
export interface PointRunner {
  /** Once, with every point checked, before any is built (a queue submits them all here). */
  start?(points: readonly Point[], targets: string[]): Promise<void>;
  /** Build one point (its targets and everything upstream) into this cache; what ran. */
  run(pt: Point, targets: string[]): Promise<StageRun[]>;
}

/** In this process, one point after the other. */
export function inProcessRunner(p: Pipeline, force: Force): PointRunner {
  return {
    async run(pt, targets) {
      p.reporter.line(`${pt.name}:`);
      return (await p.build(targets, { overrides: pt.overrides, force })).runs;
    },
  };
}

const forceArgs = (force: Force) => (force === true ? ['--force'] : Array.isArray(force) ? force.flatMap((f) => ['--force', f]) : []);

/** The environment variable a child pipeline reads its point from: the point's overrides as JSON. */
export const POINT_ENV = 'TOTAL_INTERP_POINT';

/**
 * The environment of a point built beside others: training on one thread. Two threads pay off
 * only with a core to spare, and 'auto' decides that from the load average, which lags: points
 * that start together each took two spinning threads, and a 512 KiB model trained at 47 µs a
 * prediction instead of 16. The user's own TOTAL_INTERP_TRAIN_THREADS wins. The threads never
 * change a result (lib/rnn/wasm-kernel.ts).
 */
export function sideBySideEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.TOTAL_INTERP_TRAIN_THREADS ? env : { ...env, TOTAL_INTERP_TRAIN_THREADS: '1' };
}

/** In a child pipeline process (`run TARGETS --json`, the point in POINT_ENV); its stderr lines are prefixed with the point. */
export function childRunner(force: Force, quiet = false, sideBySide = true): PointRunner {
  return {
    run: (pt, targets) =>
    new Promise((resolve, reject) => {
      const argv = ['run', ...targets, '--json', '--jobs', '1', // points already run side by side
         ...forceArgs(force), ...(quiet ? ['--quiet'] : [])];
      const env = { ...(sideBySide ? sideBySideEnv(process.env) : process.env), [POINT_ENV]: JSON.stringify(pt.overrides) };
      const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => {
        err += d;
        for (const line of String(d).split('\n')) if (line.trim()) process.stderr.write(`[${pt.name}] ${line}\n`);
      });
      child.on('close', (code) => {
        if (code !== 0) return reject(new Error(`${pt.name}: pipeline exited with code ${code}\n${err.trim().split('\n').slice(-3).join('\n')}`));
        try {
          resolve(JSON.parse(out).stages);
        } catch {
          reject(new Error(`${pt.name}: could not read the child's JSON output`));
        }
      });
    }),
  };
}

export interface PointRun {
  values: Record<string, unknown>;
  seed: number | null;
  stages: StageRun[];
  report: string | null;
  reportJson: string | null;
}

/** A stage output whose tensors are read only when a section asks for them. */
function lazyOutput(p: Pipeline, e: Entry): StageOutput {
  let full: StageOutput | undefined;
  return {
    json: p.json(e),
    key: e.key.slice(0, 12),
    outputHash: e.outputHash,
    get tensors() {
      return (full ??= loadOutput(p.store, e, p.stage(e.record.stage).schemas.output)).tensors;
    },
  };
}

/** The point's entries, read from the cache after its build (every target must be there). */
function entriesOf(p: Pipeline, pt: Point, targets: string[]): Record<string, Entry> {
  const pl = plan(p.project, p.store, p.resolveAll(pt.overrides), targets);
  for (const t of targets) {
    if (!pl.entries[t]) throw new CliError('not-built', `${pt.name}: stage ${t} is not in the cache after its build`, 'run the sweep again (a point builder must build into this cache)');
  }
  return pl.entries;
}

export interface SweepOptions {
  axes: Axis[];
  seeds: number[] | null;
  overrides: Overrides;
  targets: string[];
  jobs: number;
  force: Force;
  quiet?: boolean;
  reference?: string;
  metrics?: string[];
  /** report --q3: the training-length rule in words, for the aggregate (lib/report/sweep.ts). */
  q3?: { rule: string };
  /** What builds the points (default: in this process, or with jobs > 1 in child processes). */
  runner?: PointRunner;
}

export interface SweepResult {
  kind: 'seeds' | 'sweep';
  runs: PointRun[];
  report: string;
  reportJson: string;
}

export async function runSweep(p: Pipeline, o: SweepOptions): Promise<SweepResult> {
  // From the first point until built-from.json names what the points built, gc must not
  // delete any of it: the sweep holds the cache against gc throughout (gc-lock.ts).
  const { holdAgainstGc } = await import('../engine/guard/gc-lock.ts');
  const release = await holdAgainstGc(p.store.locksDir, (who) => p.reporter.line(`waiting for gc (${who}) to finish…`));
  try {
    return await sweepHeld(p, o);
  } finally {
    release();
  }
}

async function sweepHeld(p: Pipeline, o: SweepOptions): Promise<SweepResult> {
  const src = o.overrides.model?.source;
  if (o.seeds && src !== undefined && src !== 'train') {
    throw new CliError('usage', '--seeds trains one model per seed; it cannot be combined with --set model.source=FILE');
  }
  for (const a of o.axes) {
    if (o.overrides[a.stage]?.[a.param] !== undefined) throw new CliError('usage', `--sweep ${a.key} and --set ${a.key} cannot be combined`, `list every value in --sweep ${a.key}=…`);
  }
  if (o.seeds && o.overrides.train?.seed !== undefined) throw new CliError('usage', '--seeds and --set train.seed cannot be combined');
  if (o.seeds && o.axes.some((a) => a.key === 'train.seed')) throw new CliError('usage', '--seeds and --sweep train.seed cannot be combined', 'give the seeds once');
  for (const t of o.targets) p.stage(t, '--targets');
  const points = gridPoints(o.axes, o.seeds, o.overrides);
  for (const pt of points) p.resolveAll(pt.overrides); // every point's params are valid before anything runs
  const runner = o.runner ?? (o.jobs > 1 ? childRunner(o.force, o.quiet, Math.min(o.jobs, points.length) > 1) : inProcessRunner(p, o.force));
  const order = buildOrder(points);
  await runner.start?.(order.map((i) => points[i]), o.targets);

  const runs: (PointRun & { entries: Record<string, Entry> })[] = new Array(points.length);
  const queue = order.map((i) => ({ pt: points[i], i }));
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const stages = await runner.run(job.pt, o.targets);
      const entries = entriesOf(p, job.pt, o.targets);
      const rj = entries.report ? p.json(entries.report) : null;
      runs[job.i] = {
        values: job.pt.values,
        seed: job.pt.seed,
        stages,
        report: rj ? path.join(p.reportsDir, rj.report) : null,
        reportJson: rj ? path.join(p.reportsDir, rj.reportJson) : null,
        entries,
      };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.jobs, points.length)) }, worker));
  const out = runs.map(({ entries: _e, ...r }) => r);

  // --seeds alone on the report: the seeds' aggregate with the audit.
  if (!o.axes.length && o.seeds && o.targets.includes('report') && !o.metrics) {
    const reports: ReportJson[] = out.map((r) => JSON.parse(fs.readFileSync(r.reportJson!, 'utf8')));
    const reference = findReference(p.reportsDir, reports[0].data.sha256, o.reference);
    const { aggregateFiles } = await import('../report/seeds.ts');
    const { label, files } = await aggregateFiles(reports, reference, o.seeds);
    const dir = path.join(p.reportsDir, label);
    for (const [f, content] of Object.entries(files)) writeFileAtomic(path.join(dir, f), content);
    writeFileAtomic(path.join(dir, BUILT_FROM), builtFromFile(runs.map((r) => r.entries)));
    return { kind: 'seeds', runs: out, report: path.join(dir, 'report.md'), reportJson: path.join(dir, 'report.json') };
  }

  const [{ SECTIONS }, { buildReport, defaultLabel, overrideList }, sweep, figures] = await Promise.all([
    import('../../stages/report.ts'),
    import('../report/build.ts'),
    import('../report/sweep.ts'),
    import('../report/paper-figures.json', { with: { type: 'json' } }).then((m) => m.default as PaperFigures),
  ]);
  const builders = await Promise.all(SECTIONS.map(async (s) => ({ name: s.name, needs: s.needs, build: (await s.load()).build })));
  const inputs: SweepPointInputs = [];
  runs.forEach((r) => {
    if (!r.entries.model || !r.entries.data) return; // nothing a section could read
    const ins: Record<string, StageOutput> = {};
    for (const [name, e] of Object.entries(r.entries)) if (name !== 'report' && name !== 'viewer') ins[name] = lazyOutput(p, e);
    const doc = buildReport(ins, builders, figures, defaultLabel(ins)).json as unknown as ReportJson;
    inputs.push({ values: r.values, seed: r.seed, doc, report: r.report ? path.relative(p.reportsDir, r.report).split(path.sep).join('/') : null, sampled: sweep.sampledStages(ins) });
  });
  const chosen = sweep.chooseMetrics(inputs.map((x) => x.doc), o.metrics, !!o.q3);
  if (chosen.unknown.length) {
    throw new CliError('usage', `--metrics: no figure "${chosen.unknown.join('", "')}" at these points\navailable: ${chosen.available.join(', ')}`, 'name metrics the sweep\'s targets compute (report metric ids, or the Q3 ids above)');
  }
  const axes = o.axes.map((a) => ({ param: a.key, values: a.values }));
  const seeds = o.seeds ?? [null];
  const fixed = overrideList(o.overrides);
  const label = sweep.sweepLabel(axes, seeds, fixed, o.targets);
  const s = sweep.sweepAggregate({ label, axes, seeds, targets: o.targets, fixed, q3: o.q3 }, inputs, chosen.metrics, figures);
  const files = await sweep.sweepFiles(s);
  const dir = path.join(p.reportsDir, label);
  for (const [f, content] of Object.entries(files)) writeFileAtomic(path.join(dir, f), content);
  writeFileAtomic(path.join(dir, BUILT_FROM), builtFromFile(runs.map((r) => r.entries)));
  return { kind: 'sweep', runs: out, report: path.join(dir, 'report.md'), reportJson: path.join(dir, 'report.json') };
}

type SweepPointInputs = import('../report/sweep.ts').SweepPointInput[];
