// The command line: report (default), run, status, dag, gc, ls, diff, show, export, worker.
// Flags are per command, from one table (args.ts, on node:util parseArgs): unknown options
// are errors with suggestions, stray words are errors, `--version`, per-command --help.
// Human output and progress go to stderr; stdout carries only the result (a path, a
// listing, or with --json one JSON object; the shapes are documented in README.md and stay
// stable). This is the one place that knows the project's environment variables
// (TOTAL_INTERP_CACHE, TOTAL_INTERP_DEBUG).

import fs from 'node:fs';
import os from 'node:os';
import { Pipeline } from '../engine/pipeline.ts';
import { makeReporter, silentReporter } from '../engine/run/progress.ts';
import { describe, exitCodeOf } from './errors.ts';
import * as cmd from './commands.ts';
import { ArgError, commandHelp, parse, programHelp, unalias, type CommandSpec, type FlagSpec } from './args.ts';
// lib/queue/cli.ts (and the remote cache it attaches) is imported only when a
// remote cache or a queue is used: a no-op run does not pay for loading it.

export interface MainOptions {
  root: string;
  stageFiles: string[];
  argv: string[];
  env?: Record<string, string | undefined>;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
  /** gc's yes/no question; default: a prompt when stdin and stderr are terminals, else none. */
  confirm?: ((question: string) => Promise<boolean>) | null;
  /** Handle Ctrl-C (SIGINT) and SIGTERM: one line, release this process's locks, exit 130 (143). Default true. */
  signals?: boolean;
}

let interruptible = false;
/**
 * Ctrl-C: one line on stderr, every stage lock this process holds released at once (a
 * waiting run, here or on another host, goes on without waiting for the lease to expire),
 * an unfinished export's temporary file removed, exit 130 (SIGTERM: 143). Stages already
 * built stay in the cache; the one running is not stored. Node runs the handler between
 * steps of JavaScript: a stage that computes without pausing stops when it pauses.
 */
function exitOnInterrupt(err: NodeJS.WritableStream): void {
  if (interruptible) return;
  interruptible = true;
  const stop = (signal: 'SIGINT' | 'SIGTERM') => {
    Promise.all([import('../engine/guard/lock.ts'), import('./out-file.ts')]).then(
      ([{ releaseAllLocks }, { removePendingOutputs }]) => {
        const n = releaseAllLocks();
        removePendingOutputs();
        err.write(`\ninterrupted (${signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'}): stopped${n ? `, released ${n} lock${n === 1 ? '' : 's'}` : ''}; stages already built stay cached\n`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      },
      () => process.exit(signal === 'SIGINT' ? 130 : 143),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

const PROG = 'npx tsx pipeline.ts';
const { Q3_PRESET } = cmd;
const Q3_WORDS = `the same as ${Q3_PRESET.sweep.map((x) => `--sweep ${x}`).join(' ')} --seeds ${Q3_PRESET.seeds.join(',')} ${Q3_PRESET.sets.map((x) => `--set ${x}`).join(' ')} --targets ${Q3_PRESET.targets.join(',')} (needs the first MiB of enwik9: ENWIK9 or a download; --sweep data.bytes=… picks sizes up to 960 KiB, --seeds other seeds, more --set may follow)`;

function version(): string {
  try {
    return JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const positiveInt = (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`expected a positive integer, got ${JSON.stringify(v)}`);
  return Number(v);
};
const minutes = (v: string) => {
  if (!/^\d+(\.\d+)?$/.test(v)) throw new Error(`expected a number of minutes (0 or more), got ${JSON.stringify(v)}`);
  return Number(v);
};
const seedList = (v: string) => {
  if (!/^\d+(,\d+)*$/.test(v)) throw new Error(`expected a comma-separated list of integers, got ${JSON.stringify(v)} (e.g. --seeds 42,43,44)`);
  const seeds = v.split(',').map(Number);
  const twice = seeds.find((x, i) => seeds.indexOf(x) !== i);
  if (twice !== undefined) throw new Error(`seed ${twice} is listed twice in ${JSON.stringify(v)}; each seed is one model (e.g. --seeds 42,43,44)`);
  return seeds;
};
const nameList = (what: string, example: string) => (v: string) => {
  const xs = v.split(',').map((x) => x.trim());
  if (xs.some((x) => !x)) throw new Error(`expected a comma-separated list of ${what}, got ${JSON.stringify(v)} (e.g. ${example})`);
  return [...new Set(xs)];
};

const flag = {
  set: { long: 'set', value: '<stage.param=value>', repeat: true, help: 'override a param (typed by schemas/<stage>.params.json; repeatable)' },
  json: { long: 'json', help: 'one JSON object on stdout (errors too: {"error":{reason,message,hint}})' },
  quiet: { long: 'quiet', short: 'q', help: 'no progress or per-stage lines on stderr (errors still)' },
  force: { long: 'force', value: '[stage]', repeat: true, help: 're-run every stage, or only STAGE (repeatable)' },
  dryRun: (help: string): FlagSpec => ({ long: 'dry-run', short: 'n', help }),
  jobs: (extra = ''): FlagSpec => ({ long: 'jobs', short: 'j', value: '<n>', parse: positiveInt, help: `run up to N independent stages at once (default: the number of cores; a stage runs in a child process while another runs)${extra}` }),
  seeds: (help: string): FlagSpec => ({ long: 'seeds', value: '<list>', parse: seedList, help }),
  noBuild: { long: 'no-build', key: 'build', constant: false, help: 'do not build a stage that is not cached; say so instead' },
  remote: { long: 'remote-cache', value: '<url>', help: 'a Bazel-style HTTP cache (GET/PUT /cas, /ac) behind the local one; or TOTAL_INTERP_REMOTE_CACHE' },
  exitCode: (help: string): FlagSpec => ({ long: 'exit-code', help }),
} satisfies Record<string, FlagSpec | ((...a: any[]) => FlagSpec)>;

/** Every command and its flags (the first is the default). */
export const COMMANDS: CommandSpec[] = [
  {
    name: 'report',
    description: 'build everything the report needs and write reports/<label>/report.{md,json} (default command)',
    flags: [
      flag.set, flag.force, flag.dryRun('say what would run and why; run nothing'), flag.jobs('; with --sweep/--seeds: N points at once'),
      flag.seeds('one trained model per seed, each with its report, plus an aggregate (mean ± sd, min–max, plots); with --sweep: the seeds of every point (as --sweep train.seed=…)'),
      { long: 'sweep', value: '<stage.param=v1,v2,…>', repeat: true, help: 'one build per value (repeatable: the grid is every combination), typed like --set; with an aggregate report' },
      { long: 'targets', value: '<stage,…>', parse: nameList('stages', '--targets trace,influence'), help: 'with --sweep/--seeds: build only these stages (and upstream) at each point, not the report' },
      { long: 'metrics', value: '<id,…>', parse: nameList('metric ids', '--metrics trained_bpc,pattern_gain_bpc'), help: 'with --sweep: the figures the aggregate shows (default: the docs/definitions.md §6.4 ones present, else every metric)' },
      { long: 'q3', help: `Q3, docs/definitions.md §6.4 and docs/q3.md: ${Q3_WORDS}` },
      { long: 'reference', value: '<label>', help: "with --seeds: the paper's-weights column from this report (default: the newest report on imported weights)" },
      { long: 'queue', value: '<url>', help: 'with --seeds/--sweep: build the points on `worker` processes through this Redis queue (needs --remote-cache)' },
      flag.remote, flag.json, flag.quiet,
    ],
    after: '\n--json prints {"stages":[{"name","status","key","seconds"}],"report":PATH,"reportJson":PATH}\n(with --seeds/--sweep also "points":[{values,seed,report,reportJson}], report/reportJson being the aggregate\'s;\nwith --seeds alone also "seeds":[{seed,report,reportJson}]).\n\nexample:\n  ENWIK9=enwik9 ' + PROG + ' report --sweep data.bytes=1024,4096 --seeds 42,43 --jobs 2\n',
  },
  {
    name: 'run',
    description: 'build the named stages and everything upstream of them',
    args: [{ name: 'stage', variadic: true }],
    flags: [flag.set, flag.force, flag.dryRun('say what would run and why; run nothing'), flag.jobs(), flag.remote, flag.json, flag.quiet],
    after: '\n--json prints the same shape as report --json, with report/reportJson null unless the report was built.\n',
  },
  {
    name: 'worker', // lib/queue/cli.ts
    description: 'build sweep points from a Redis queue (report --seeds … --queue) until stopped',
    flags: [{ long: 'queue', value: '<url>', help: 'the BullMQ queue: redis://HOST:PORT' }, flag.remote, flag.quiet],
    after: "\nOne sandboxed process per job, as many at once as cores (TOTAL_INTERP_WORKER_CONCURRENCY). A dead worker's job is\ntaken over by another after TOTAL_INTERP_QUEUE_LOCK_MS (30000). Credentials: in the URL, or TOTAL_INTERP_REMOTE_CACHE_AUTH=user:pass.\n",
  },
  {
    name: 'status',
    description: 'show each stage as fresh, stale or missing, with the reasons',
    flags: [flag.set, flag.exitCode('exit 1 when a stage the report needs is not fresh, 0 when all are'), flag.json],
    after: '\n--json prints {"stages":[{"name","state","reasons":[...]}]}.\n',
  },
  {
    name: 'dag',
    description: 'print the stage graph in force as Mermaid text (it depends on params: an imported model needs no training)',
    flags: [flag.set, flag.json],
    after: '\n--json prints {"stages":[{"name","section","description","inputs":[...]}]}.\n',
  },
  {
    name: 'gc',
    description: 'delete cache entries and objects that neither the given params nor any report under reports/ needs',
    flags: [
      flag.set, flag.seeds("also keep every listed seed's builds"), flag.dryRun('list what would be deleted; delete nothing'),
      { long: 'yes', short: 'y', help: 'delete without asking (needed when not on a terminal)' },
      { long: 'keep-recent', value: '<minutes>', parse: minutes, help: 'keep whatever was written in the last N minutes, needed or not (default 10: another run may be about to use it)' },
      flag.json, flag.quiet,
    ],
    after: '\nKept: what the given params reach, every entry a file under reports/ was built from, and every\nentry a sweep\'s reports/<label>/built-from.json names (each with everything upstream of it).\nOn a terminal gc asks before deleting; elsewhere it lists what would go\nand exits 2 unless --yes. Refuses to run while a build or a sweep is in progress on this cache\n(a build that starts during gc waits for it).\n',
  },
  {
    name: 'diff',
    description: 'what changed between two reports (labels under reports/, or report.json paths)',
    args: [{ name: 'a' }, { name: 'b' }],
    flags: [
      { long: 'aggregate', value: '<label>', help: 'flag changes beyond 2 sd of this aggregate over seeds (default: one that includes A or B)' },
      { long: 'all', help: 'also list changes below the noise rule (a number that prints the same at the report\'s precision, or moved by less than 1e-6 relative)' },
      flag.exitCode('exit 1 when anything changed, 0 when the reports agree'), flag.json,
    ],
    after: '\nFirst the params that differ (and from what: "(default)"), then metrics, then table cells.\n--json prints {a, b, params:[{param,a,b,default}], metrics:[{metric,a,b,delta,band,flagged,noise?}], tables:[{id,changes,onlyInA,onlyInB}], aggregate}.\n',
  },
  {
    name: 'ls',
    alias: 'exp show',
    description: 'one row per report under reports/: its label, the params that differ from the defaults, headline metrics, when built, fresh or stale',
    flags: [
      { long: 'metrics', value: '<id,…>', parse: nameList('metric ids', '--metrics trained_bpc,pattern_gain_bpc'), help: `the metric columns (report.json metric ids, or figures, heldout_bpc, q4_best_gap; default: ${'trained_bpc,heldout_bpc,figures,ps_per_position,q4_best_gap'})` },
      flag.json,
      { long: 'csv', help: 'the same rows as CSV on stdout' },
    ],
    after: '\nfigures: the paper\'s figures that agree / are within 10% / disagree (✔/≈/✘). Q4 best gap: the rebuild level\nclosest to the trained bpc (not "full"), its bpc minus the trained bpc. state: the report stage for the\nreport\'s params today (fresh, stale: code, data or params changed, missing: its cache entry is gone).\n--json prints {"columns":[...],"reports":[{label,kind,params,metrics,q4Level,builtAt,state}]}.\n',
  },
  {
    name: 'show',
    description: "print a stage's JSON output as stored and list its tensors (dtype, shape), for the params in force",
    args: [{ name: 'stage' }],
    flags: [flag.set, flag.noBuild, flag.json, flag.quiet],
    after: '\nA stage not in the cache is built first (with progress), unless --no-build.\n--json prints {"stage","key","builtAt","json":{...},"tensors":{NAME:{"dtype","shape"}}}.\n',
  },
  {
    name: 'export',
    description: "write a stage's tensors for NumPy: one as .npy (STAGE.TENSOR), all of them with the stage's JSON as .npz (STAGE), or the model's weights (.npz by name, or the authors' layout)",
    args: [{ name: 'target' }],
    flags: [{ long: 'out', short: 'o', value: '<file>', required: true, help: 'the file to write: absent or a regular file (replaced, keeping its mode); a directory, link, device or FIFO is refused' }, flag.set, flag.noBuild, flag.json, flag.quiet],
    after: `\nexamples:\n  ${PROG} export trace.z --out z.npy\n  ${PROG} export trace --out trace.npz     (z, S, lpNext, bits, logp up to trace.logpMaxBytes, and "json", the stage's JSON as a string)\n  ${PROG} export model --out weights.npz   (Wx [H,256], Wh [H,H], bh [H], Wy [256,H], by [256] and "json")\n  ${PROG} export model --out weights.bin   (82,304 little-endian float32 for H=128: Wx, Wh, bh, Wy, by)\nLoading them in Python: docs/python.md.\n`,
  },
];

/** The command the words name (an alias as its command), for an error's hint before they are parsed. */
function commandWord(argv: readonly string[]): string {
  try {
    const w = unalias(argv, COMMANDS)[0];
    return w && COMMANDS.some((c) => c.name === w) ? w : 'report';
  } catch {
    return 'report';
  }
}

/** Run the command line; returns the exit code. */
export async function main(o: MainOptions): Promise<number> {
  const env = o.env ?? process.env;
  const out = o.out ?? process.stdout;
  const err = o.err ?? process.stderr;
  const json = o.argv.includes('--json');
  let command = commandWord(o.argv);
  const fail = (e: unknown): number => {
    const d = describe(e, `${PROG} ${command} --help`);
    err.write(`error: ${d.message}\n`);
    if (d.hint) err.write(`hint: ${d.hint}\n`);
    if (d.reason === 'bug' && env.TOTAL_INTERP_DEBUG) err.write(`${(e as Error)?.stack}\n`);
    if (json) out.write(JSON.stringify({ error: { reason: d.reason, message: d.message, hint: d.hint } }) + '\n');
    return exitCodeOf(d.reason);
  };

  let parsed;
  try {
    parsed = parse(o.argv, COMMANDS);
  } catch (e) {
    if (e instanceof ArgError) return fail(e);
    throw e;
  }
  if (parsed.kind === 'version') {
    const { ENGINE_VERSION } = await import('../engine/decide/key.ts');
    out.write(`total-interp ${version()} (cache format ${ENGINE_VERSION}, node ${process.versions.node})\n`);
    return 0;
  }
  if (parsed.kind === 'help' && parsed.command) {
    out.write(commandHelp(PROG, COMMANDS.find((c) => c.name === parsed.command)!));
    return 0;
  }
  // A cold report runs stages on every core: its pool's workers start now, while the project
  // loads and plans (run-stage.ts prestartWorkers; stopped at exit if every stage was cached).
  if (parsed.kind === 'run' && parsed.command === 'report') {
    const f = parsed.opts as { dryRun?: boolean; seeds?: unknown; sweep?: unknown; q3?: boolean; queue?: string; jobs?: number };
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    const jobs = f.jobs ?? cores;
    if (!f.dryRun && !f.seeds && !f.sweep && !f.q3 && !f.queue && jobs > 1) (await import('../engine/run/run-stage.ts')).prestartWorkers(jobs);
  }
  let p: Pipeline;
  try {
    p = await Pipeline.load({
      root: o.root,
      stageFiles: o.stageFiles,
      env,
      cacheDir: env.TOTAL_INTERP_CACHE || undefined,
      debug: Boolean(env.TOTAL_INTERP_DEBUG),
      lock: lockOptions(env),
    });
  } catch (e) {
    return fail(e);
  }
  if (parsed.kind === 'help') {
    // The stages' help is loaded only when help is asked for (a no-op run should not pay for it).
    const { stagesHelp } = await import('./help.ts');
    out.write(programHelp(PROG, 'Reproduces every table of "Toward Total Interpretability of a Tiny Elman RNN" from raw bytes.', COMMANDS));
    out.write(`\nRun "${PROG} COMMAND --help" for a command's flags.\n${stagesHelp(p)}`);
    return 0;
  }
  command = parsed.command;
  // The worker has its own graceful stop (it finishes or hands back its job).
  if (o.signals !== false && command !== 'worker') exitOnInterrupt(err);
  let confirm: cmd.Io['confirm'] | undefined = o.confirm;
  const io: cmd.Io = {
    out,
    err,
    // Whether there is a terminal to ask on is looked up only by a command that asks (gc).
    get confirm() {
      return confirm === undefined ? (confirm = cmd.terminalConfirm()) : confirm;
    },
  };
  const c = parsed.opts as any;
  const [a0, a1] = parsed.args;
  const prepare = async () => {
    p.reporter = c.quiet ? silentReporter : makeReporter(err as NodeJS.WriteStream);
    if (c.remoteCache ?? env.TOTAL_INTERP_REMOTE_CACHE) await (await import('../queue/cli.ts')).attachRemote(p, c.remoteCache, env); // --remote-cache URL or TOTAL_INTERP_REMOTE_CACHE
  };
  try {
    switch (parsed.command) {
      case 'report':
        await prepare();
        return await cmd.build(p, io, ['report'], c);
      case 'run':
        await prepare();
        // A sweep's child process gets its point as JSON (lib/cli/sweep.ts childRunner).
        return await cmd.build(p, io, parsed.args, { ...c, point: env.TOTAL_INTERP_POINT });
      case 'worker':
        await prepare();
        return await (await import('../queue/cli.ts')).workerCommand(p, c, env);
      case 'status':
        return await cmd.status(p, io, c);
      case 'dag':
        return await cmd.dag(p, io, c);
      case 'gc':
        await prepare();
        return await cmd.gc(p, io, c);
      case 'diff':
        return (await import('./diff.ts')).runDiff(p, io, a0, a1, c);
      case 'ls':
        return await (await import('./ls.ts')).ls(p, io, c);
      case 'show':
        await prepare();
        return await cmd.show(p, io, a0, c);
      case 'export':
        await prepare();
        return await cmd.exportTensor(p, io, a0, c);
      default:
        throw new Error(`no handler for command ${parsed.command}`);
    }
  } catch (e) {
    return fail(e);
  }
}

/** End quietly when stdout's reader goes away (`status | head -1`). */
export function quietOnEpipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

/** Stage locks: TOTAL_INTERP_LOCK_TIMEOUT=SECONDS bounds how long a run waits for another's. */
function lockOptions(env: Record<string, string | undefined>): { timeoutMs?: number; advice: string } {
  const waitS = Number(env.TOTAL_INTERP_LOCK_TIMEOUT);
  return {
    ...(env.TOTAL_INTERP_LOCK_TIMEOUT && Number.isFinite(waitS) && waitS >= 0 ? { timeoutMs: waitS * 1000 } : {}),
    advice: 'to wait longer, set TOTAL_INTERP_LOCK_TIMEOUT=SECONDS',
  };
}
