// The command line: report (default), run, status, dag, gc, diff, show, export. Flags are
// per command (commander: unknown options are errors with suggestions, stray words are
// errors, `--version`, per-command --help). Human output and progress go to stderr;
// stdout carries only the result (a path, a listing, or with --json one JSON object; the
// shapes are documented in README.md and stay stable). This is the one place that knows
// the project's environment variables (TOTAL_INTERP_CACHE, TOTAL_INTERP_DEBUG).

import fs from 'node:fs';
import { createRequire } from 'node:module';
import type * as Commander from 'commander';
import { Pipeline } from '../engine/pipeline.ts';
import { makeReporter, silentReporter } from '../engine/progress.ts';
import { describe, exitCodeOf } from './errors.ts';
import * as cmd from './commands.ts';
// [remote] issue 16: lib/queue/cli.ts (and the remote cache it attaches) is imported only when a
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
}

// commander is CommonJS: required directly rather than through its ESM wrapper, which makes
// Node scan its source for exports on every start (about 10 ms of each no-op run).
const { Command, CommanderError, InvalidArgumentError, Option } = createRequire(import.meta.url)('commander') as typeof Commander;
type Command = Commander.Command;

const PROG = 'npx tsx pipeline.ts';
const { Q3_PRESET } = cmd;
const Q3_WORDS = `the same as ${Q3_PRESET.sweep.map((x) => `--sweep ${x}`).join(' ')} --seeds ${Q3_PRESET.seeds.join(',')} ${Q3_PRESET.sets.map((x) => `--set ${x}`).join(' ')} --targets ${Q3_PRESET.targets.join(',')} (needs ENWIK9 or a download for data beyond 1 KiB; more --set may follow)`;

function version(): string {
  try {
    return JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const collect = (v: string, prev: string[] = []) => [...prev, v];
const positiveInt = (flag: string) => (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`expected a positive integer, got ${JSON.stringify(v)}`);
  return Number(v);
};
const seedList = (v: string) => {
  if (!/^\d+(,\d+)*$/.test(v)) throw new InvalidArgumentError(`expected a comma-separated list of integers, got ${JSON.stringify(v)} (e.g. --seeds 42,43,44)`);
  return [...new Set(v.split(',').map(Number))];
};
const forceList = (v: string, prev: unknown) => [...(Array.isArray(prev) ? prev : []), v];
const nameList = (what: string, example: string) => (v: string) => {
  const xs = v.split(',').map((x) => x.trim());
  if (xs.some((x) => !x)) throw new InvalidArgumentError(`expected a comma-separated list of ${what}, got ${JSON.stringify(v)} (e.g. ${example})`);
  return [...new Set(xs)];
};

const opt = {
  set: () => new Option('--set <stage.param=value>', 'override a param (typed by schemas/<stage>.params.json; repeatable)').argParser(collect),
  json: () => new Option('--json', 'one JSON object on stdout (errors too: {"error":{reason,message,hint}})'),
  quiet: () => new Option('-q, --quiet', 'no progress or per-stage lines on stderr (errors still)'),
  force: () => new Option('--force [stage]', 're-run every stage, or only STAGE (repeatable)').argParser(forceList),
  dryRun: (what: string) => new Option('-n, --dry-run', what),
  jobs: (extra = '') => new Option('-j, --jobs <n>', `run up to N independent stages at once (default: the number of cores; a stage runs in a child process while another runs)${extra}`).argParser(positiveInt('--jobs')),
  seeds: (what: string) => new Option('--seeds <list>', what).argParser(seedList),
  noBuild: () => new Option('--no-build', 'do not build a stage that is not cached; say so instead'),
};

/** Run the command line; returns the exit code. */
export async function main(o: MainOptions): Promise<number> {
  const env = o.env ?? process.env;
  const out = o.out ?? process.stdout;
  const err = o.err ?? process.stderr;
  const json = o.argv.includes('--json');
  let command = 'report';
  const fail = (e: unknown): number => {
    const d = describe(e, `${PROG} ${command} --help`);
    err.write(`error: ${d.message}\n`);
    if (d.hint) err.write(`hint: ${d.hint}\n`);
    if (d.reason === 'bug' && env.TOTAL_INTERP_DEBUG) err.write(`${(e as Error)?.stack}\n`);
    if (json) out.write(JSON.stringify({ error: { reason: d.reason, message: d.message, hint: d.hint } }) + '\n');
    return exitCodeOf(d.reason);
  };

  // The stages' help is loaded only when help is asked for (a no-op run should not pay for it).
  const help = o.argv.some((a) => a === '--help' || a === '-h' || a === 'help') ? await import('./help.ts') : null;
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
  const io: cmd.Io = { out, err, confirm: o.confirm !== undefined ? o.confirm : cmd.terminalConfirm() };
  let code = 0;
  const prepare = async (c: cmd.Common & { remoteCache?: string }) => {
    p.reporter = c.quiet ? silentReporter : makeReporter(err as NodeJS.WriteStream);
    if (c.remoteCache ?? env.TOTAL_INTERP_REMOTE_CACHE) (await import('../queue/cli.ts')).attachRemote(p, c.remoteCache, env); // [remote] --remote-cache URL or TOTAL_INTERP_REMOTE_CACHE
  };
  const remoteOpt = () => new Option('--remote-cache <url>', 'a Bazel-style HTTP cache (GET/PUT /cas, /ac) behind the local one; or TOTAL_INTERP_REMOTE_CACHE'); // [remote]

  const program = new Command()
    .name(PROG)
    .description('Reproduces every table of "Toward Total Interpretability of a Tiny Elman RNN" from raw bytes.')
    .version(version(), '-V, --version')
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({ writeOut: (s) => out.write(s), writeErr: () => {} })
    .configureHelp({ styleTitle: (s) => s.toLowerCase(), sortSubcommands: false })
    .addHelpText('after', () => `\nRun "${PROG} COMMAND --help" for a command's flags.\n${help?.stagesHelp(p) ?? ''}`);
  const hook = (c: Command) => c.hook('preAction', (_t, a) => {
    command = a.name();
  });

  hook(program.command('report', { isDefault: true }))
    .description('build everything the report needs and write reports/<label>/report.{md,json} (default command)')
    .addOption(opt.set()).addOption(opt.force()).addOption(opt.dryRun('say what would run and why; run nothing')).addOption(opt.jobs('; with --sweep/--seeds: N points at once'))
    .addOption(opt.seeds('one trained model per seed, each with its report, plus an aggregate (mean ± sd, min–max, plots); with --sweep: the seeds of every point (as --sweep train.seed=…)'))
    .addOption(new Option('--sweep <stage.param=v1,v2,…>', 'one build per value (repeatable: the grid is every combination), typed like --set; with an aggregate report').argParser(collect))
    .addOption(new Option('--targets <stage,…>', 'with --sweep/--seeds: build only these stages (and upstream) at each point, not the report').argParser(nameList('stages', '--targets trace,influence')))
    .addOption(new Option('--metrics <id,…>', 'with --sweep: the figures the aggregate shows (default: the SPEC §6.4 ones present, else every metric)').argParser(nameList('metric ids', '--metrics trained_bpc,pattern_gain_bpc')))
    .option('--q3', `SPEC §6.4: ${Q3_WORDS}`)
    .option('--reference <label>', "with --seeds: the paper's-weights column from this report (default: the newest report on imported weights)")
    .option('--queue <url>', 'with --seeds/--sweep: build the points on `worker` processes through this Redis queue (needs --remote-cache)').addOption(remoteOpt()) // [remote]
    .addOption(opt.json()).addOption(opt.quiet())
    .addHelpText('after', '\n--json prints {"stages":[{"name","status","key","seconds"}],"report":PATH,"reportJson":PATH}\n(with --seeds/--sweep also "points":[{values,seed,report,reportJson}], report/reportJson being the aggregate\'s;\nwith --seeds alone also "seeds":[{seed,report,reportJson}]).\n\nexample:\n  ENWIK9=enwik9 ' + PROG + ' report --sweep data.bytes=1024,4096 --seeds 42,43 --jobs 2')
    .action(async (c) => {
      await prepare(c);
      code = await cmd.build(p, io, ['report'], c);
    });
  hook(program.command('run'))
    .description('build the named stages and everything upstream of them')
    .argument('<stage...>', 'stages to build')
    .addOption(opt.set()).addOption(opt.force()).addOption(opt.dryRun('say what would run and why; run nothing')).addOption(opt.jobs())
    .addOption(remoteOpt()) // [remote]
    .addOption(opt.json()).addOption(opt.quiet())
    .addHelpText('after', '\n--json prints the same shape as report --json, with report/reportJson null unless the report was built.')
    .action(async (stages: string[], c) => {
      await prepare(c);
      code = await cmd.build(p, io, stages, c);
    });
  hook(program.command('worker')) // [remote] lib/queue/cli.ts
    .description('build sweep points from a Redis queue (report --seeds … --queue) until stopped')
    .option('--queue <url>', 'the BullMQ queue: redis://HOST:PORT').addOption(remoteOpt()).addOption(opt.quiet())
    .addHelpText('after', '\nOne sandboxed process per job, as many at once as cores (TOTAL_INTERP_WORKER_CONCURRENCY). A dead worker\'s job is\ntaken over by another after TOTAL_INTERP_QUEUE_LOCK_MS (30000). Credentials: in the URL, or TOTAL_INTERP_REMOTE_CACHE_AUTH=user:pass.')
    .action(async (c) => {
      await prepare(c);
      code = await (await import('../queue/cli.ts')).workerCommand(p, c, env);
    });
  hook(program.command('status'))
    .description('show each stage as fresh, stale or missing, with the reasons')
    .addOption(opt.set()).option('--exit-code', 'exit 1 when a stage the report needs is not fresh, 0 when all are').addOption(opt.json())
    .addHelpText('after', '\n--json prints {"stages":[{"name","state","reasons":[...]}]}.')
    .action(async (c) => {
      code = await cmd.status(p, io, c);
    });
  hook(program.command('dag'))
    .description('print the stage graph in force as Mermaid text (it depends on params: an imported model needs no training)')
    .addOption(opt.set()).addOption(opt.json())
    .addHelpText('after', '\n--json prints {"stages":[{"name","section","description","inputs":[...]}]}.')
    .action(async (c) => {
      code = await cmd.dag(p, io, c);
    });
  hook(program.command('gc'))
    .description('delete cache entries and objects that neither the given params nor any report under reports/ needs')
    .addOption(opt.set()).addOption(opt.seeds('also keep every listed seed\'s builds'))
    .addOption(opt.dryRun('list what would be deleted; delete nothing'))
    .option('-y, --yes', 'delete without asking (needed when not on a terminal)')
    .addOption(opt.json()).addOption(opt.quiet())
    .addHelpText('after', '\nKept: what the given params reach, and every entry a file under reports/ was built from (with\neverything upstream of it). On a terminal gc asks before deleting; elsewhere it lists what would go\nand exits 2 unless --yes. Refuses to run while another pipeline process holds a stage lock.')
    .action(async (c) => {
      await prepare(c);
      code = await cmd.gc(p, io, c);
    });
  hook(program.command('diff'))
    .description('what changed between two reports (labels under reports/, or report.json paths)')
    .argument('<a>').argument('<b>')
    .option('--aggregate <label>', 'flag changes beyond 2 sd of this aggregate over seeds (default: one that includes A or B)')
    .option('--exit-code', 'exit 1 when anything changed, 0 when the reports agree')
    .addOption(opt.json())
    .addHelpText('after', '\n--json prints {a, b, metrics:[{metric,a,b,delta,band,flagged}], tables:[{id,changes,onlyInA,onlyInB}], aggregate}.')
    .action(async (a: string, b: string, c) => {
      const { runDiff } = await import('./diff.ts');
      code = runDiff(p.reportsDir, io, a, b, c);
    });
  hook(program.command('show'))
    .description("print a stage's JSON output as stored and list its tensors (dtype, shape), for the params in force")
    .argument('<stage>')
    .addOption(opt.set()).addOption(opt.noBuild()).addOption(opt.json()).addOption(opt.quiet())
    .addHelpText('after', '\nA stage not in the cache is built first (with progress), unless --no-build.\n--json prints {"stage","key","builtAt","json":{...},"tensors":{NAME:{"dtype","shape"}}}.')
    .action(async (stage: string, c) => {
      await prepare(c);
      code = await cmd.show(p, io, stage, c);
    });
  hook(program.command('export'))
    .description("write a stage's tensor as NumPy .npy (STAGE.TENSOR), or the model's weights in the authors' layout (model)")
    .argument('<target>', 'STAGE.TENSOR, or model')
    .requiredOption('-o, --out <file>', 'where to write')
    .addOption(opt.set()).addOption(opt.noBuild()).addOption(opt.json()).addOption(opt.quiet())
    .addHelpText('after', `\nexamples:\n  ${PROG} export trace.z --out z.npy\n  ${PROG} export model --out weights.bin   (82,304 little-endian float32 for H=128: Wx, Wh, bh, Wy, by)`)
    .action(async (target: string, c) => {
      await prepare(c);
      code = await cmd.exportTensor(p, io, target, c);
    });

  try {
    await program.parseAsync(o.argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      const sub = program.commands.find((c) => o.argv.includes(c.name()));
      if (sub) command = sub.name();
      const message = e.message.replace(/^error: /, '').replace(/\n\(Did you mean (.*)\)$/s, ' (did you mean $1)');
      return fail(Object.assign(new Error(message), { reason: 'usage' }));
    }
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
