// What each command does, once args.ts has parsed its flags. Each handler returns the
// exit code; errors are thrown (main.ts prints them).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Overrides, Pipeline, StageRun } from '../engine/pipeline.ts';
import { defaultsOf, parseValue, paramNames, ParamError } from '../engine/params.ts';
import { plan, type Force } from '../engine/decide/plan.ts';
import type { Entry } from '../engine/keep/entry.ts';
import type { Staleness } from '../engine/decide/explain.ts';
import type { PointRunner } from './sweep.ts';
import type { Tensor } from '../engine/types.ts';
import { EngineError } from '../engine/errors.ts';
import { CliError } from './errors.ts';
import { localSource, looksLikeZip } from '../data/inputs.ts';

export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Ask a yes/no question; null when there is no terminal to ask on. */
  confirm: ((question: string) => Promise<boolean>) | null;
}

export interface Common {
  set?: string[];
  json?: boolean;
  quiet?: boolean;
}

/** Turn --set strings into typed overrides using each stage's schema. */
export function parseSets(p: Pipeline, sets: string[] = []): Overrides {
  const out: Overrides = {};
  for (const s of sets) {
    const m = /^([^.=]+)\.([^=]+)=(.*)$/s.exec(s);
    if (!m) throw new ParamError(`--set ${s}: expected stage.param=value`, '--set train.seed=43');
    const [, stage, param, raw] = m;
    const st = p.byName.get(stage);
    if (!st) throw new ParamError(`--set ${s}: unknown stage "${stage}"\nvalid stages: ${p.stageNames.join(', ')}`);
    const prop = st.schemas.params?.properties?.[param];
    if (!prop) {
      const names = paramNames(st.schemas.params);
      throw new ParamError(`--set ${s}: unknown param "${stage}.${param}"\nvalid params of ${stage}: ${names.length ? names.join(', ') : '(none)'}`);
    }
    (out[stage] ??= {})[param] = parseValue(stage, param, raw, prop);
  }
  checkStopOnHeldout(p, out);
  return out;
}

/**
 * train.stopOnHeldout needs adam (sgd's cosine spans the planned epochs), no doublings and
 * held-out text: refused here, before anything runs, rather than by the train stage.
 */
function checkStopOnHeldout(p: Pipeline, o: Overrides): void {
  const train = p.byName.get('train');
  const data = p.byName.get('data');
  if (!train || o.train?.stopOnHeldout !== true) return;
  const t = { ...defaultsOf(train.schemas.params), ...o.train };
  const heldoutBytes = o.data?.heldoutBytes ?? (data ? defaultsOf(data.schemas.params).heldoutBytes : null);
  if (t.optimizer === 'adam' && t.maxDoublings === 0 && heldoutBytes !== 0) return;
  throw new ParamError(
    `train.stopOnHeldout stops each run on its held-out curve, which needs train.optimizer=adam, train.maxDoublings=0 and held-out text; got ${String(t.optimizer)}, maxDoublings ${String(t.maxDoublings)}${heldoutBytes === 0 ? ', data.heldoutBytes=0' : ''}`,
    "--set train.optimizer=adam (sgd's cosine schedule is fixed in advance), or --set train.stopOnHeldout=false to train the planned length (docs/q3.md)",
  );
}

// The words for the engine's staleness reasons (lib/engine/decide/explain.ts), as `status`,
// `run --dry-run` and their --json print them.
const unset = (v: string | null) => v ?? '(unset)';

/** One staleness reason in words. */
export function wordReason(r: Staleness): string {
  switch (r.kind) {
    case 'engine':
      return `engine format changed: ${r.was} -> ${r.now}`;
    case 'code':
      return r.file === null ? 'code changed' : `code ${r.change}: ${r.file}`;
    case 'param':
      return `param ${r.stage}.${r.param}: ${unset(r.was)} -> ${unset(r.now)}`;
    case 'upstream':
      return r.how === 'new' ? `new input ${r.stage}` : r.how === 'removed' ? `input ${r.stage} removed` : `upstream ${r.stage} ${r.how === 'will-run' ? 'will run' : r.how}`;
    case 'external':
      return `external file ${r.name} changed`;
    case 'env':
      return `env ${r.name}: ${unset(r.was)} -> ${unset(r.now)}`;
    case 'key':
      return 'key changed';
    case 'forced':
      return 'forced';
    case 'corrupt':
      return 'cache entry corrupt';
    case 'never-built':
      return 'never built';
    case 'error':
      return r.message;
    default: {
      const never: never = r;
      return never;
    }
  }
}

/** Reasons in words; runs read back from a child's --json output carry their words already. */
const words = (rs: readonly (Staleness | string)[]) => rs.map((x) => (typeof x === 'string' ? x : wordReason(x)));

export function formatRuns(runs: (StageRun & { seed?: number; point?: Record<string, unknown> })[]) {
  return runs.map((r) => ({
    name: r.name,
    status: r.status,
    key: r.key,
    seconds: Number(r.seconds.toFixed(3)),
    ...(r.seed !== undefined ? { seed: r.seed } : {}),
    ...(r.point !== undefined ? { point: r.point } : {}),
    ...(r.reasons ? { reasons: words(r.reasons) } : {}),
    ...(r.note ? { note: r.note } : {}),
  }));
}

/** --jobs by default: the machine's cores (independent stages, or sweep points, at once). */
const cores = () => (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);

const rel = (f: string) => path.relative(process.cwd(), f) || f;
/** The stages `status` and `gc` consider needed: the report's closure when there is one. */
export const defaultTargets = (p: Pipeline) => (p.byName.has('report') ? ['report'] : null);

export interface BuildFlags extends Common {
  force?: Force;
  dryRun?: boolean;
  jobs?: number;
  seeds?: number[];
  sweep?: string[];
  targets?: string[];
  metrics?: string[];
  q3?: boolean;
  reference?: string;
  /** build the points on `worker` processes through this Redis queue. */
  queue?: string;
  /** A sweep point's overrides as JSON, from the sweep that started this process (sweep.ts childRunner, TOTAL_INTERP_POINT). */
  point?: string;
}

/** A point's overrides as its sweep serialized them (typed values, read as they are). */
function pointOverrides(json: string): Overrides {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    v = null;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => x && typeof x === 'object' && !Array.isArray(x))) {
    throw new CliError('usage', `TOTAL_INTERP_POINT: expected {"stage": {"param": value}}, got ${json.slice(0, 80)}`, 'it is set by a sweep for the processes it starts; unset it');
  }
  return v as Overrides;
}

/** Q3's sizes (docs/definitions.md §6.4): prefixes of enwik9 of 1, 2, 4, …, 512 KiB. */
export const Q3_SIZES = Array.from({ length: 10 }, (_, i) => 1024 << i);
/** Q3's held-out text for every size: enwik9 bytes [960 KiB, 1 MiB), after every training prefix. */
export const Q3_HELDOUT = { offset: 983040, bytes: 65536 };

/**
 * `report --q3`: docs/definitions.md §6.4, the decomposition against data size, on models
 * trained by the length rule of docs/q3.md (one adam run per model, stopped on its held-out
 * curve once converged, capped by a prediction budget that grows with N: the paper's
 * 4000 × 1023 predictions × ((N − 1)/1023)^0.25) and scored on one held-out block.
 */
export const Q3_PRESET = {
  sweep: [`data.bytes=${Q3_SIZES.join(',')}`],
  seeds: [42, 43, 44],
  sets: [
    `data.heldoutOffset=${Q3_HELDOUT.offset}`,
    `data.heldoutBytes=${Q3_HELDOUT.bytes}`,
    'train.optimizer=adam',
    'train.stopOnHeldout=true',
    'train.predictions=4092000',
    'train.predictionsGrowth=0.25',
    'train.maxDoublings=0',
  ],
  targets: ['trace', 'carrier-pattern', 'influence', 'timing-carrier', 'kn', 'rebuild-score'],
};

/**
 * --q3 expands to its preset; `--sweep data.bytes=…` picks a subset of sizes and `--seeds`
 * other seeds. The user's --set come after the preset's (and win).
 */
function withPreset(o: BuildFlags): BuildFlags {
  if (!o.q3) return o;
  if (o.targets) throw new CliError('usage', '--q3 is a preset of --sweep, --seeds and --targets; it cannot be combined with --targets', 'write the sweep out in full instead (see report --help for what --q3 expands to)');
  if (o.sweep && (o.sweep.length !== 1 || !/^data\.bytes=/.test(o.sweep[0]))) {
    throw new CliError('usage', `--q3 takes one --sweep, of data.bytes (its sizes); got ${o.sweep.map((x) => `--sweep ${x}`).join(' ')}`, 'e.g. report --q3 --sweep data.bytes=1024,8192 --seeds 42');
  }
  return { ...o, sweep: o.sweep ?? Q3_PRESET.sweep, seeds: o.seeds ?? Q3_PRESET.seeds, targets: Q3_PRESET.targets, set: [...Q3_PRESET.sets, ...(o.set ?? [])] };
}

/** Q3's training-length rule in words, from the train params the sweep resolves to. */
function q3Rule(o: Overrides): string {
  const P = o.train?.predictions as number | null | undefined;
  const K = (o.train?.minEpochs as number | undefined) ?? 1;
  const D = (o.train?.maxDoublings as number | undefined) ?? 0;
  const g = (o.train?.predictionsGrowth as number | undefined) ?? 0;
  const budget = g === 0 ? `${P}` : `${P} × ((N − 1) / 1023)^${g}`;
  const start = P === null || P === undefined ? `${(o.train?.epochs as number | undefined) ?? 4000} epochs (train.epochs)` : `epochs = max(${K}, round(${budget} / (N − 1)))`;
  if (o.train?.stopOnHeldout === true) {
    const every = o.train?.heldoutEvery as number | null | undefined;
    return (
      // parseSets has refused stopOnHeldout with any optimizer but adam
      `at most ${start}; adam at a constant rate of 0.001, one run per model, stopped on the held-out curve as soon as its best held-out bpc improved by less than 0.01 over the last quarter of the epochs run ` +
      `(checked at every held-out point from the 8th on, every ${every ?? 'round(32768 / (N − 1))'} epoch${every === 1 ? '' : 's'}; docs/q3.md)`
    );
  }
  return (
    `${start}; ` +
    (D > 0
      ? `a model that has not converged trains again from its init with twice the epochs, at most ${D} time${D > 1 ? 's' : ''} (up to ${2 ** D}×), the cosine schedule spanning the epochs of each run (docs/q3.md)`
      : 'one run per model, the cosine schedule spanning its epochs')
  );
}

/**
 * Q3's sizes against its held-out block and the data source, before anything trains: a size
 * that reaches into the held-out block, a held-out block the params move onto a size, or a
 * local source (data.path, ENWIK9) too short for a size or for the block.
 */
function checkQ3(sizes: number[], overrides: Overrides, env: Record<string, string | undefined>): void {
  const off = (overrides.data?.heldoutOffset as number | null | undefined) ?? Q3_HELDOUT.offset;
  const len = (overrides.data?.heldoutBytes as number | null | undefined) ?? Q3_HELDOUT.bytes;
  const over = sizes.filter((n) => n > off);
  if (over.length) {
    throw new CliError(
      'usage',
      `--q3: data.bytes = ${over.join(', ')} overlaps the held-out block [${off}, ${off + len}) that every size is scored on`,
      `Q3 sizes go up to ${off} bytes (${off / 1024} KiB): choose them with --q3 --sweep data.bytes=…`,
    );
  }
  const file = localSource(overrides.data?.path as string | null | undefined, env);
  if (!file || looksLikeZip(file)) return; // a download or a zip: enwik9 itself, long enough
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return; // the data stage reports a missing file
  }
  const short = sizes.filter((n) => n > size);
  if (short.length || size < off + len) {
    throw new CliError(
      'usage',
      short.length
        ? `--q3: data.bytes = ${short.join(', ')} is more than the ${size} bytes of the data source ${path.basename(file)}`
        : `--q3: the data source ${path.basename(file)} has ${size} bytes, fewer than the held-out block [${off}, ${off + len}) needs`,
      `point ENWIK9 (or --set data.path) at the first ${off + len} bytes of enwik9 or more, or choose smaller sizes with --q3 --sweep data.bytes=…`,
    );
  }
}

export async function build(p: Pipeline, io: Io, targets: string[], flags: BuildFlags): Promise<number> {
  const o = withPreset(flags);
  const overrides = o.point !== undefined ? { ...parseSets(p, o.set), ...pointOverrides(o.point) } : parseSets(p, o.set);
  for (const t of targets) p.stage(t);
  for (const f of Array.isArray(o.force) ? o.force : []) p.stage(f, '--force');
  if (!o.sweep && !o.seeds && (o.targets || o.metrics)) {
    throw new CliError('usage', `${o.targets ? '--targets' : '--metrics'} applies to a sweep (--sweep or --seeds)`, o.targets ? `without a sweep: npx tsx pipeline.ts run ${o.targets.join(' ')}` : 'add --sweep stage.param=v1,v2');
  }
  if (o.queue && !o.sweep && !o.seeds) throw new CliError('usage', '--queue goes with a sweep (report --seeds/--sweep: one job per point)', 'npx tsx pipeline.ts report --seeds 42,43 --queue redis://HOST:PORT --remote-cache URL');
  if (o.sweep || o.seeds) {
    if (o.dryRun) throw new CliError('usage', `${o.sweep ? '--sweep' : '--seeds'} cannot be combined with --dry-run`);
    const { parseSweep, runSweep, inProcessRunner } = await import('./sweep.ts');
    // --seeds is shorthand for --sweep train.seed=…: a swept train.seed is the seeds.
    const parsed = parseSweep(p, o.sweep);
    const seedAxis = parsed.find((a) => a.key === 'train.seed');
    if (seedAxis && o.seeds) throw new CliError('usage', '--seeds and --sweep train.seed cannot be combined', 'give the seeds once');
    const axes = parsed.filter((a) => a !== seedAxis);
    if (o.q3) checkQ3(axes.find((a) => a.key === 'data.bytes')!.values as number[], overrides, process.env);
    const r = await runSweep(p, {
      axes,
      seeds: o.seeds ?? (seedAxis ? (seedAxis.values as number[]) : null),
      overrides,
      targets: o.targets ?? targets,
      // with --queue the workers build every point first; the local loop then pulls each from the remote cache
      jobs: o.queue ? 1 : (o.jobs ?? cores()),
      runner: o.queue ? queueRunner(p, o.queue, o.force ?? false, inProcessRunner) : undefined,
      force: o.force ?? false,
      quiet: o.quiet,
      reference: o.reference,
      metrics: o.metrics,
      q3: o.q3 ? { rule: q3Rule(overrides) } : undefined,
    });
    const stages = r.runs.flatMap((s) => s.stages.map((x) => ({ ...x, ...(s.seed !== null ? { seed: s.seed } : {}), ...(Object.keys(s.values).length ? { point: s.values } : {}) })));
    if (o.json) {
      io.out.write(
        JSON.stringify({
          stages: formatRuns(stages),
          report: r.report,
          reportJson: r.reportJson,
          points: r.runs.map((s) => ({ values: s.values, seed: s.seed, report: s.report, reportJson: s.reportJson })),
          ...(r.kind === 'seeds' ? { seeds: r.runs.map((s) => ({ seed: s.seed, report: s.report, reportJson: s.reportJson })) } : {}),
        }) + '\n',
      );
      return 0;
    }
    const ran = stages.filter((x) => x.status === 'ran').length;
    if (!o.quiet) io.err.write(`${r.runs.length} ${r.kind === 'seeds' ? 'seeds' : 'points'}: ${ran} stages ran, ${stages.length - ran} cached\n`);
    for (const s of r.runs) if (s.report) io.out.write(`${rel(s.report)}\n`);
    io.out.write(`${rel(r.report)}\n`);
    return 0;
  }
  // The default report audits our training against the paper's weights too, when they are
  // here without the network (TOTAL_INTERP_PAPER_WEIGHTS or an earlier download): build the
  // report on them first (cached after the first time), then ours with its label as the
  // audit's "paper's weights" column.
  const ref = targets.includes('report') && !o.dryRun ? await paperReference(p, io, overrides, o) : null;
  if (ref) (overrides.report ??= {}).reference = ref.label;
  const { runs, entries } = await p.build(targets, { overrides, force: o.force, dryRun: o.dryRun, jobs: o.jobs ?? cores() });
  const { report, reportJson } = reportPaths(p, o.dryRun ? undefined : entries.report);
  if (o.json) {
    io.out.write(JSON.stringify({ stages: formatRuns(runs), report, reportJson, ...(ref ? { reference: { label: ref.label, stages: formatRuns(ref.runs), report: ref.report, reportJson: ref.reportJson } } : {}) }) + '\n');
    return 0;
  }
  if (o.dryRun) for (const r of runs) io.out.write(`${r.status.padEnd(9)} ${r.name}${r.reasons ? `  (${words(r.reasons).join('; ')})` : ''}\n`);
  const ran = runs.filter((r) => r.status === 'ran').length;
  if (!o.dryRun && !o.quiet) io.err.write(`${ran} ran, ${runs.length - ran} cached\n`);
  if (report) io.out.write(`${rel(report)}\n`);
  return 0;
}

/**
 * `report --sweep/--seeds … --queue URL`: every point is submitted at start as one job on
 * the workers, and waited for (lib/queue/submit.ts); then each is built here in turn, which
 * finds every stage in the remote cache.
 */
function queueRunner(p: Pipeline, queue: string, force: Force, inProcessRunner: (p: Pipeline, force: Force) => PointRunner): PointRunner {
  const here = inProcessRunner(p, force);
  return { start: (points, targets) => submitToQueue(p, queue, points, targets, force), run: here.run };
}

async function submitToQueue(p: Pipeline, queue: string, points: readonly { name: string; overrides: Overrides }[], targets: string[], force: Force): Promise<void> {
  if (!p.remote) throw new CliError('usage', '--queue needs a remote cache shared with the workers', 'add --remote-cache http://HOST:PORT/cache (or set TOTAL_INTERP_REMOTE_CACHE)');
  if (force !== false) throw new CliError('usage', '--force cannot be combined with --queue', 'force the build on one machine, without --queue');
  const { submitSweep } = await import('../queue/submit.ts');
  const results = await submitSweep(points.map((pt) => ({ label: pt.name, overrides: pt.overrides, targets })), { queue, pipeline: p });
  const ran = results.reduce((n, r) => n + r.runs.filter((x) => x.status === 'ran').length, 0);
  p.reporter.line(`queue: ${results.length} points done on ${new Set(results.map((r) => r.worker)).size} worker process(es), ${ran} stages ran there`);
}

function reportPaths(p: Pipeline, entry: Entry | undefined): { report: string | null; reportJson: string | null } {
  if (!entry) return { report: null, reportJson: null };
  const j = p.json(entry);
  return {
    report: typeof j.report === 'string' ? path.join(p.reportsDir, j.report) : null,
    reportJson: typeof j.reportJson === 'string' ? path.join(p.reportsDir, j.reportJson) : null,
  };
}

/**
 * The report on the paper's weights that a report on our training names as its reference,
 * built (or found cached) first; null when the user chose the model or the reference, or
 * when the weights are not on this machine (the report then says how to add them).
 */
async function paperReference(
  p: Pipeline,
  io: Io,
  overrides: Overrides,
  o: Common & { force?: Force; jobs?: number },
): Promise<{ label: string; runs: StageRun[]; report: string | null; reportJson: string | null } | null> {
  if (overrides.model?.source !== undefined || overrides.report?.reference !== undefined || !p.byName.has('model')) return null;
  const { findPaperWeights } = await import('../data/paper-weights.ts');
  if (!findPaperWeights(process.env)) return null;
  // The same data and analyses, on the paper's weights: training and report settings do not apply.
  const { train: _train, report: _report, ...rest } = overrides;
  if (!o.quiet) io.err.write("the paper's weights are here: building the report on them first (its audit column)\n");
  const r = await p.build(['report'], { overrides: { ...rest, model: { source: 'paper' } }, force: o.force, jobs: o.jobs ?? cores() });
  const label = r.entries.report ? p.json(r.entries.report).label : null;
  if (typeof label !== 'string') return null;
  if (!o.quiet) io.err.write(`paper's weights: ${rel(path.join(p.reportsDir, label, 'report.md'))}\n`);
  return { label, runs: r.runs, ...reportPaths(p, r.entries.report) };
}

export async function status(p: Pipeline, io: Io, o: Common & { exitCode?: boolean }): Promise<number> {
  const { status: statusOf, allFresh } = await import('../engine/decide/status.ts');
  const st = statusOf(plan(p.project, p.store, p.resolveAll(parseSets(p, o.set)), defaultTargets(p), { all: true }));
  if (o.json) io.out.write(JSON.stringify({ stages: st.map((s) => ({ name: s.name, state: s.state, reasons: words(s.reasons) })) }) + '\n');
  else {
    for (const s of st) {
      io.out.write(`${s.state.padEnd(8)} ${s.name.padEnd(16)}${s.needed ? '' : ' (not used by the report with these params)'}\n`);
      for (const r of words(s.reasons)) io.out.write(`           ${r}\n`);
    }
  }
  return o.exitCode && !allFresh(st) ? 1 : 0;
}

export async function dag(p: Pipeline, io: Io, o: Common): Promise<number> {
  const { dagJson, mermaid } = await import('./help.ts');
  const params = p.resolveAll(parseSets(p, o.set));
  io.out.write(o.json ? JSON.stringify(dagJson(p, params)) + '\n' : mermaid(p, params));
  return 0;
}

/** A byte count for people: 0 B, 812 B, 4.2 kB, 13.5 MB, 1.20 GB (powers of 1000, like du --si). */
export function humanBytes(b: number): string {
  if (b < 1000) return `${b} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = b / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${units[i]}`;
}

export async function gc(p: Pipeline, io: Io, o: Common & { seeds?: number[]; dryRun?: boolean; yes?: boolean; keepRecent?: number }): Promise<number> {
  const overrides = parseSets(p, o.set);
  // With --seeds, every seed's build is current: keep all of them.
  const sets = o.seeds ? o.seeds.map((seed) => ({ ...overrides, train: { ...(overrides.train ?? {}), seed } })) : [overrides];
  // What sweeps' aggregates were read from (their points may have built no file of their own).
  const { builtFromEntries } = await import('./reports.ts');
  const recorded = builtFromEntries(p.reportsDir);
  for (const f of recorded.unreadable) io.err.write(`warning: ${rel(f)} is not a list of cache entries; what it named is not protected\n`);
  const opts = { reportsDir: p.reportsDir, overrides: sets, graceMs: (o.keepRecent ?? 10) * 60_000, keep: recorded.ids };
  const { gc } = await import('../engine/keep/gc.ts');
  const would = gc(p.project, p.store, { ...opts, dryRun: true });
  const summary = (r: typeof would, verb: string) =>
    `${verb} ${humanBytes(r.bytes)} (${r.entries} entries, ${r.objects} objects${r.memos ? `, ${r.memos} stale no-op memos` : ''}); kept ${r.keptForReports} entries that reports under ${rel(p.reportsDir)}/ were built from`;
  const list = () => {
    if (!o.quiet) for (const r of would.removed) io.err.write(`  ${r.stage.padEnd(16)} ${r.key.slice(0, 12)}  ${r.builtAt ?? '(damaged)'}\n`);
  };
  if (o.dryRun || would.entries + would.objects + would.memos === 0) {
    if (o.json) io.out.write(JSON.stringify({ ...would, dryRun: true }) + '\n');
    else {
      list();
      io.out.write(summary(would, 'would free') + '\n');
    }
    return 0;
  }
  if (!o.yes) {
    list();
    const question = `delete ${would.entries} entries and ${would.objects} objects (${humanBytes(would.bytes)})? [y/N] `;
    if (!io.confirm) {
      throw new CliError('confirm', `gc: would free ${humanBytes(would.bytes)} (${would.entries} entries, ${would.objects} objects); nothing deleted without --yes`, 'npx tsx pipeline.ts gc --yes deletes them; gc --dry-run only lists them');
    }
    if (!(await io.confirm(question))) {
      io.err.write('nothing deleted\n');
      return 0;
    }
  }
  const r = gc(p.project, p.store, { ...opts, dryRun: false });
  if (o.json) io.out.write(JSON.stringify({ ...r, dryRun: false }) + '\n');
  else io.out.write(summary(r, 'freed') + '\n');
  return 0;
}

/** The entry of a stage for the current params: built (with progress) unless noBuild. */
async function entryOf(p: Pipeline, name: string, overrides: Overrides, build: boolean, what: string): Promise<Entry> {
  p.stage(name);
  if (build) return (await p.build([name], { overrides })).entries[name];
  const pl = plan(p.project, p.store, p.resolveAll(overrides), [name]);
  const e = pl.entries[name];
  if (!e) {
    const s = pl.stages.get(name)!;
    throw new CliError('not-built', `${what}: stage ${name} is not built for these params (${s.state}: ${words(s.reasons)[0] ?? ''})`, `npx tsx pipeline.ts run ${name} builds it (or leave out --no-build)`);
  }
  return e;
}

export async function show(p: Pipeline, io: Io, stage: string, o: Common & { build: boolean }): Promise<number> {
  const e = await entryOf(p, stage, parseSets(p, o.set), o.build, 'show');
  const json = p.json(e);
  const tensors = Object.fromEntries(Object.entries(e.outputs.tensors).map(([n, t]) => [n, { dtype: t.dtype, shape: t.shape }]));
  // Where the inputs of the run that built it came from: shown, never part of a key.
  const provenance = e.provenance ?? null;
  if (o.json) {
    io.out.write(JSON.stringify({ stage, key: e.key.slice(0, 12), builtAt: e.builtAt, json, tensors, provenance }) + '\n');
    return 0;
  }
  io.out.write(`${stage}  key ${e.key.slice(0, 12)}  built ${e.builtAt}\n\n${JSON.stringify(json, null, 2)}\n`);
  if (provenance && (Object.keys(provenance.stage).length || Object.keys(provenance.files).length)) {
    io.out.write(`\nprovenance (the run that built it; not part of any key)\n${JSON.stringify(provenance, null, 2)}\n`);
  }
  const names = Object.keys(tensors);
  io.out.write(`\ntensors${names.length ? '' : ': (none)'}\n`);
  for (const n of names) io.out.write(`  ${n.padEnd(20)} ${tensors[n].dtype.padEnd(8)} [${tensors[n].shape.join(', ')}]\n`);
  return 0;
}

/**
 * `export`: what is written depends on the target and on --out's extension.
 *   STAGE.TENSOR --out F.npy   one tensor as NumPy .npy
 *   STAGE --out F.npz          every tensor of the stage, plus its JSON as the string array `json`
 *   STAGE.TENSOR --out F.npz   that tensor, plus the stage's JSON
 *   model --out F.npz          the weights by name: Wx (H,256), Wh (H,H), bh (H), Wy (256,H), by (256), plus `json`
 *   model --out F.bin          the authors' layout (82,304 little-endian float32 for H = 128)
 * --out must be absent or a regular file (lib/cli/out-file.ts); it is checked before anything is built.
 */
export async function exportTensor(p: Pipeline, io: Io, target: string, o: Common & { out: string; build: boolean }): Promise<number> {
  const overrides = parseSets(p, o.set);
  const dot = target.indexOf('.');
  const stage = dot < 0 ? target : target.slice(0, dot);
  const tensorName = dot < 0 ? null : target.slice(dot + 1);
  const ext = path.extname(o.out).toLowerCase();
  const npz = ext === '.npz';
  p.stage(stage);
  // Where it goes is checked first: a directory, link, device or unwritable folder is refused before anything is built.
  const { checkOutPath, probeOutPath, writeOutFile } = await import('./out-file.ts');
  checkOutPath(o.out);
  probeOutPath(o.out);
  if (tensorName === null && stage !== 'model' && !npz) {
    throw new CliError('usage', `export ${target}: a whole stage goes to a .npz file; one tensor to .npy as STAGE.TENSOR`, `npx tsx pipeline.ts export ${stage} --out ${stage}.npz, or show ${stage} to list its tensors`);
  }
  if (tensorName === null && stage === 'model' && ext === '.npy') {
    throw new CliError('usage', 'export model: the weights go to .npz (named arrays) or to the authors\' layout (.bin)', 'npx tsx pipeline.ts export model --out weights.npz (or --out weights.bin; model.params --out params.npy is the flat vector)');
  }
  const e = await entryOf(p, stage, overrides, o.build, 'export');
  if (tensorName !== null && !(tensorName in e.outputs.tensors)) {
    const valid = Object.keys(e.outputs.tensors);
    throw new EngineError('unknown-tensor', `export: stage ${stage} has no tensor "${tensorName}"\nvalid tensors of ${stage}: ${valid.join(', ') || '(none)'}`, `npx tsx pipeline.ts show ${stage} lists them`);
  }
  const out = await p.output(e);
  const { toNpy, stringNpy } = await import('./npy.ts');
  let bytes: Uint8Array;
  let what: string;
  if (npz) {
    let arrays: [string, Tensor][];
    if (tensorName === null && stage === 'model') {
      const { weightsFrom, V } = await import('../rnn/weights.ts');
      const H = out.json.H as number;
      const w = weightsFrom(out.tensors.params.data as Float32Array, H);
      const f32 = (data: Float32Array, shape: number[]): Tensor => ({ dtype: 'float32', shape, data });
      arrays = [['Wx', f32(w.Wx, [H, V])], ['Wh', f32(w.Wh, [H, H])], ['bh', f32(w.bh, [H])], ['Wy', f32(w.Wy, [V, H])], ['by', f32(w.by, [V])]];
    } else {
      arrays = Object.entries(out.tensors).filter(([n]) => tensorName === null || n === tensorName);
    }
    if (arrays.some(([n]) => n === 'json')) throw new Error(`export: stage ${stage} has a tensor named "json", which the .npz keeps for the stage's JSON`);
    const { zip } = await import('./npz.ts');
    bytes = zip([...arrays.map(([n, t]) => ({ name: `${n}.npy`, bytes: toNpy(t) })), { name: 'json.npy', bytes: stringNpy(JSON.stringify(out.json)) }]);
    what = `.npz: ${arrays.map(([n, t]) => `${n} ${t.dtype} [${t.shape.join(', ')}]`).join(', ')}, json (the stage's JSON as a string)`;
  } else if (tensorName === null) {
    const { serializeWeights, weightsFrom } = await import('../rnn/weights.ts');
    bytes = serializeWeights(weightsFrom(out.tensors.params.data as Float32Array, out.json.H));
    what = `model weights (H=${out.json.H}, authors' layout: Wx, Wh, bh, Wy, by; little-endian float32)`;
  } else {
    const t = out.tensors[tensorName];
    bytes = toNpy(t);
    what = `${t.dtype} [${t.shape.join(', ')}] as .npy`;
  }
  writeOutFile(o.out, bytes);
  if (o.json) io.out.write(JSON.stringify({ target, out: o.out, bytes: bytes.length }) + '\n');
  else io.out.write(`${o.out}\n`);
  if (!o.quiet && !o.json) io.err.write(`wrote ${what}, ${bytes.length} bytes\n`);
  return 0;
}

/**
 * A yes/no prompt on the terminal (stderr), or null when stdin or stderr is not one.
 * isatty on the descriptors, not process.stdin: making that stream costs every run; and
 * node:tty is required here, not imported, so that only a command that asks loads it.
 */
export function terminalConfirm(): Io['confirm'] {
  const { isatty } = createRequire(import.meta.url)('node:tty') as typeof import('node:tty');
  if (!isatty(0) || !isatty(2)) return null;
  return async (q) => {
    const { createInterface } = await import('node:readline/promises');
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(q)).trim());
    } finally {
      rl.close();
    }
  };
}
