// The command line: report (default), run, status, dag, gc. Human output and progress go
// to stderr; --json prints exactly one JSON object on stdout (shapes fixed, see README).

import path from 'node:path';
import { Pipeline, PipelineError, type Overrides, type StageRun } from './pipeline.ts';
import { parseValue, paramNames, ParamError } from './params.ts';
import { makeReporter, silentReporter } from './progress.ts';

export interface CliArgs {
  command: string;
  stages: string[];
  sets: string[];
  force: boolean | string[];
  dryRun: boolean;
  json: boolean;
  jobs: number;
  help: boolean;
  seeds: number[] | null;
  reference?: string;
  aggregate?: string;
  queue?: string; // [remote] lib/queue/cli.ts
  remoteCache?: string; // [remote]
  rest: Record<string, string>;
}

const COMMANDS: Record<string, { usage: string; summary: string; details: string }> = {
  report: {
    usage: 'report [--set stage.param=value]... [--seeds S1,S2,... [--queue redis://HOST:PORT]] [--remote-cache URL] [--reference LABEL] [--force [STAGE]] [--dry-run] [--jobs N] [--json]', // [remote]
    summary: 'build everything the report needs and write reports/<label>/report.{md,json} (default command)',
    details:
      'Prints one line per stage on stderr: "cached" or "ran" with seconds, then the report path.\n' +
      '--json prints {"stages":[{"name","status","key","seconds"}],"report":PATH,"reportJson":PATH}.\n' +
      '--seeds trains and analyses one model per seed (cached seeds are not retrained; --jobs N runs N seeds at\n' +
      'once), writes each seed\'s report and an aggregate (mean ± sd, min–max, audit, plots) whose paths --json\n' +
      'gives as report/reportJson. The paper\'s-weights column comes from the newest report on imported weights\n' +
      'for the same data, or from --reference LABEL|report.json.\n' +
      '--queue sends the seeds to `worker` processes (see worker --help); --remote-cache URL (or TOTAL_INTERP_REMOTE_CACHE,\n' + // [remote]
      'credentials in the URL or TOTAL_INTERP_REMOTE_CACHE_AUTH=user:pass) is a Bazel-style HTTP cache behind the local one.', // [remote]
  },
  run: {
    usage: 'run STAGE... [--set stage.param=value]... [--force [STAGE]] [--dry-run] [--jobs N] [--json]',
    summary: 'build the named stages and everything upstream of them',
    details: '--json prints the same shape as report --json, with report/reportJson null unless the report was built.',
  },
  status: {
    usage: 'status [--set stage.param=value]... [--json]',
    summary: 'show each stage as fresh, stale or missing, with the reasons',
    details: '--json prints {"stages":[{"name","state","reasons":[...]}]}.',
  },
  dag: {
    usage: 'dag [--set stage.param=value]...',
    summary: 'print the stage graph in force as Mermaid text',
    details: 'The graph depends on params: with --set model.source=FILE the model does not depend on train.',
  },
  diff: {
    usage: 'diff A B [--aggregate LABEL] [--json]',
    summary: 'what changed between two reports (labels under reports/ or report.json paths)',
    details:
      'Table by table and metric by metric. When an aggregate over seeds includes A or B (or --aggregate names one),\n' +
      'a change larger than 2 sd of the seeds is flagged.',
  },
  worker: { // [remote] lib/queue/cli.ts
    usage: 'worker --queue redis://HOST:PORT [--remote-cache URL]',
    summary: 'build sweep points from a BullMQ queue (report --seeds … --queue) until stopped',
    details: 'One sandboxed process per job, as many at once as cores (TOTAL_INTERP_WORKER_CONCURRENCY).\n--remote-cache URL (or TOTAL_INTERP_REMOTE_CACHE) is the HTTP cache the workers and the submitter share.',
  },
  gc: {
    usage: 'gc [--set stage.param=value]... [--seeds S1,S2,...] [--dry-run] [--json]',
    summary: 'delete cache entries and objects that no current stage key reaches; print bytes freed',
    details: 'Keeps what the given params (and, with --seeds, every listed seed) reach. Refuses to run while\nanother pipeline process holds a stage lock.',
  },
};

export function parseArgs(argv: string[], stageNames: string[]): CliArgs {
  const a: CliArgs = { command: '', stages: [], sets: [], force: false, dryRun: false, json: false, jobs: 1, help: false, seeds: null, rest: {} };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    const value = (flag: string) => {
      const eq = x.indexOf('=');
      if (x.startsWith('--') && eq > 0) return x.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new ParamError(`${flag} needs a value`);
      return v;
    };
    if (x === '--help' || x === '-h') a.help = true;
    else if (x === '--json') a.json = true;
    else if (x === '--dry-run' || x === '-n') a.dryRun = true;
    else if (x === '--set' || x.startsWith('--set=')) a.sets.push(value('--set'));
    else if (x === '--seeds' || x.startsWith('--seeds=')) {
      const v = value('--seeds');
      if (!/^\d+(,\d+)*$/.test(v)) throw new ParamError(`--seeds: expected a comma-separated list of integers, got ${JSON.stringify(v)}\nhint: --seeds 42,43,44`);
      a.seeds = [...new Set(v.split(',').map(Number))];
    } else if (x === '--reference' || x.startsWith('--reference=')) a.reference = value('--reference');
    else if (x === '--aggregate' || x.startsWith('--aggregate=')) a.aggregate = value('--aggregate');
    else if (x === '--queue' || x.startsWith('--queue=')) a.queue = value('--queue'); // [remote]
    else if (x === '--remote-cache' || x.startsWith('--remote-cache=')) a.remoteCache = value('--remote-cache'); // [remote]
    else if (x === '--jobs' || x === '-j' || x.startsWith('--jobs=')) {
      const v = value('--jobs');
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new ParamError(`--jobs: expected a positive integer, got ${JSON.stringify(v)}`);
      a.jobs = Number(v);
    } else if (x === '--force' || x.startsWith('--force=')) {
      const eq = x.indexOf('=');
      const next = eq > 0 ? x.slice(eq + 1) : argv[i + 1];
      if (next !== undefined && stageNames.includes(next)) {
        if (eq < 0) i++;
        a.force = [...(Array.isArray(a.force) ? a.force : []), next];
      } else if (eq > 0) {
        throw new ParamError(`--force: unknown stage "${next}"\nvalid stages: ${stageNames.join(', ')}`);
      } else if (a.force === false) a.force = true;
    } else if (x.startsWith('--') && x.includes('=')) {
      a.rest[x.slice(2, x.indexOf('='))] = x.slice(x.indexOf('=') + 1);
    } else if (x.startsWith('-')) {
      throw new ParamError(`unknown option ${x}\nhint: npx tsx pipeline.ts --help`);
    } else if (!a.command) a.command = x;
    else a.stages.push(x);
  }
  if (!a.command) a.command = 'report';
  return a;
}

/** Turn --set strings into typed overrides using each stage's schema. */
export function parseSets(p: Pipeline, sets: string[]): Overrides {
  const out: Overrides = {};
  for (const s of sets) {
    const m = /^([^.=]+)\.([^=]+)=(.*)$/s.exec(s);
    if (!m) throw new ParamError(`--set ${s}: expected stage.param=value\nhint: --set train.seed=43`);
    const [, stage, param, raw] = m;
    const st = p.byName.get(stage);
    if (!st) throw new ParamError(`--set ${s}: unknown stage "${stage}"\nvalid stages: ${[...p.byName.keys()].join(', ')}`);
    const prop = st.schemas.params?.properties?.[param];
    if (!prop) {
      const names = paramNames(st.schemas.params);
      throw new ParamError(`--set ${s}: unknown param "${stage}.${param}"\nvalid params of ${stage}: ${names.length ? names.join(', ') : '(none)'}`);
    }
    (out[stage] ??= {})[param] = parseValue(stage, param, raw, prop);
  }
  return out;
}

export function helpText(p: Pipeline, command?: string): string {
  if (command && COMMANDS[command]) {
    const c = COMMANDS[command];
    return `usage: npx tsx pipeline.ts ${c.usage}\n\n${c.summary}.\n${c.details}\n\nflags:\n` +
      '  --set stage.param=value  override a param (typed by schemas/<stage>.params.json)\n' +
      '  --force [STAGE]          re-run every stage, or only STAGE (repeatable)\n' +
      '  --dry-run                say what would run, run nothing\n' +
      '  --jobs N                 run up to N independent stages at once (child processes)\n' +
      '  --json                   one JSON object on stdout\n';
  }
  const lines = ['usage: npx tsx pipeline.ts [command] [flags]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(8)} ${c.summary}`);
  lines.push('', 'Run "npx tsx pipeline.ts COMMAND --help" for a command\'s flags.', '', 'stages and their params (--set stage.param=value):');
  for (const s of p.stages) {
    lines.push(`  ${s.def.name.padEnd(16)} ${s.def.section ? s.def.section.padEnd(6) : ''.padEnd(6)} ${s.def.description}`);
    for (const [k, prop] of Object.entries<any>(s.schemas.params?.properties ?? {})) {
      lines.push(`      ${`${s.def.name}.${k}`.padEnd(26)} ${JSON.stringify(prop.default)}  ${prop.description ?? ''}`);
    }
  }
  lines.push('', 'environment: ENWIK9=FILE (data source), TOTAL_INTERP_CACHE=DIR (cache location)');
  return lines.join('\n') + '\n';
}

function formatRuns(runs: (StageRun & { seed?: number })[]) {
  return runs.map((r) => ({
    name: r.name,
    status: r.status,
    key: r.key,
    seconds: Number(r.seconds.toFixed(3)),
    ...(r.seed !== undefined ? { seed: r.seed } : {}),
    ...(r.reasons ? { reasons: r.reasons } : {}),
  }));
}

/** Run the CLI; returns the exit code. */
export async function main(p: Pipeline, argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const err = process.stderr;
  try {
    const args = parseArgs(argv, [...p.byName.keys()]);
    if (args.command === 'help') {
      out.write(helpText(p, args.stages[0]));
      return 0;
    }
    if (!COMMANDS[args.command]) {
      throw new PipelineError('usage', `unknown command "${args.command}"\nvalid commands: ${Object.keys(COMMANDS).join(', ')}\nhint: npx tsx pipeline.ts --help`);
    }
    if (args.help) {
      out.write(helpText(p, argv.some((x) => x === args.command) ? args.command : undefined));
      return 0;
    }
    const unknown = Object.keys(args.rest);
    if (unknown.length) throw new ParamError(`unknown option --${unknown[0]}\nhint: npx tsx pipeline.ts ${args.command} --help`);
    const overrides = parseSets(p, args.sets);
    p.reporter = args.json ? makeReporter(process.stderr) : makeReporter(process.stderr);
    const queueCli = await import('../queue/cli.ts'); // [remote]
    queueCli.attachRemote(p, args.remoteCache); // [remote]
    if (args.command === 'worker') return await queueCli.workerCommand(p, args); // [remote]
    if (args.queue && !args.seeds) throw new PipelineError('usage', '--queue goes with report --seeds (one job per seed)\nhint: npx tsx pipeline.ts report --seeds 42,43 --queue redis://HOST:PORT --remote-cache URL'); // [remote]
    switch (args.command) {
      case 'diff': {
        if (args.stages.length !== 2) throw new PipelineError('usage', 'diff: name two reports\nhint: npx tsx pipeline.ts diff LABEL_A LABEL_B');
        const { runDiff } = await import('../report/seeds.ts');
        out.write(runDiff(p.reportsDir, args.stages[0], args.stages[1], { json: args.json, aggregate: args.aggregate }));
        return 0;
      }
      case 'report':
      case 'run': {
        if (args.seeds) {
          if (args.command !== 'report') throw new PipelineError('usage', '--seeds goes with the report command\nhint: npx tsx pipeline.ts report --seeds 42,43');
          if (args.dryRun) throw new PipelineError('usage', '--seeds cannot be combined with --dry-run');
          const { runSeeds } = await import('../report/seeds.ts');
          if (args.queue) await queueCli.submitSeeds(p, { queue: args.queue, seeds: args.seeds, overrides, force: args.force }); // [remote] then every seed below is pulled
          const r = await runSeeds(p, { seeds: args.seeds, overrides, sets: args.sets, jobs: args.queue ? 1 : args.jobs, force: args.force, reference: args.reference });
          const stages = r.runs.flatMap((s) => s.stages.map((x) => ({ ...x, seed: s.seed })));
          if (args.json) {
            out.write(JSON.stringify({ stages: formatRuns(stages), report: r.report, reportJson: r.reportJson, seeds: r.runs.map((s) => ({ seed: s.seed, report: s.report, reportJson: s.reportJson })) }) + '\n');
          } else {
            const ran = stages.filter((x) => x.status === 'ran').length;
            err.write(`${r.runs.length} seeds: ${ran} stages ran, ${stages.length - ran} cached\n`);
            for (const s of r.runs) out.write(`${path.relative(process.cwd(), s.report)}\n`);
            out.write(`${path.relative(process.cwd(), r.report)}\n`);
          }
          return 0;
        }
        const targets = args.command === 'report' ? ['report'] : args.stages;
        if (!targets.length) throw new PipelineError('usage', 'run: name at least one stage\nhint: npx tsx pipeline.ts run trace');
        if (args.command === 'report' && !p.byName.has('report')) throw new PipelineError('usage', 'this pipeline has no "report" stage');
        const { runs, entries } = await p.build(targets, { overrides, force: args.force, dryRun: args.dryRun, jobs: args.jobs });
        let report: string | null = null;
        let reportJson: string | null = null;
        if (entries.report && !args.dryRun) {
          const j = p.json(entries.report);
          if (typeof j.report === 'string') report = path.join(p.reportsDir, j.report);
          if (typeof j.reportJson === 'string') reportJson = path.join(p.reportsDir, j.reportJson);
        }
        if (args.json) out.write(JSON.stringify({ stages: formatRuns(runs), report, reportJson }) + '\n');
        else {
          if (args.dryRun) for (const r of runs) out.write(`${r.status.padEnd(9)} ${r.name}${r.reasons ? `  (${r.reasons.join('; ')})` : ''}\n`);
          const ran = runs.filter((r) => r.status === 'ran').length;
          if (!args.dryRun) err.write(`${ran} ran, ${runs.length - ran} cached\n`);
          if (report) out.write(`${path.relative(process.cwd(), report) || report}\n`);
        }
        return 0;
      }
      case 'status': {
        const st = p.status({ overrides });
        if (args.json) out.write(JSON.stringify({ stages: st.map((s) => ({ name: s.name, state: s.state, reasons: s.reasons })) }) + '\n');
        else {
          for (const s of st) {
            out.write(`${s.state.padEnd(8)} ${s.name.padEnd(16)}${s.needed ? '' : ' (not used by the report with these params)'}\n`);
            for (const r of s.reasons) out.write(`           ${r}\n`);
          }
        }
        return 0;
      }
      case 'dag':
        out.write(p.dag({ overrides }));
        return 0;
      case 'gc': {
        // With --seeds, every seed's build is current: keep all of them.
        const sets = args.seeds ? args.seeds.map((seed) => ({ ...overrides, train: { ...(overrides.train ?? {}), seed } })) : [overrides];
        const r = p.gc({ overrides: sets, dryRun: args.dryRun, graceMs: 0 });
        if (args.json) out.write(JSON.stringify({ ...r, dryRun: args.dryRun }) + '\n');
        else out.write(`${args.dryRun ? 'would free' : 'freed'} ${r.bytes} bytes (${r.entries} entries, ${r.objects} objects)\n`);
        return 0;
      }
    }
    return 0;
  } catch (e) {
    const error = e as Error & { reason?: string };
    err.write(`error: ${error.message}\n`);
    if (!error.reason && !(e instanceof ParamError) && process.env.TOTAL_INTERP_DEBUG) err.write(`${error.stack}\n`);
    return error instanceof ParamError || error.reason === 'usage' ? 2 : 1;
  }
  void silentReporter;
}
