// The flag tables' parser (lib/cli/args.ts) on a small table: values, repeats, optional
// values, short groups, `--`, and every usage error it raises. The project's own commands
// are exercised end to end in cli.test.ts.

import { describe, expect, it } from 'vitest';
import { ArgError, commandHelp, parse, programHelp, suggest, type CommandSpec } from '../../lib/cli/args.ts';
import { COMMANDS } from '../../lib/cli/main.ts';

const int = (v: string) => {
  if (!/^\d+$/.test(v)) throw new Error(`expected an integer, got ${JSON.stringify(v)}`);
  return Number(v);
};
const TABLE: CommandSpec[] = [
  {
    name: 'build',
    description: 'the default',
    flags: [
      { long: 'set', value: '<k=v>', repeat: true, help: 'repeatable' },
      { long: 'force', value: '[stage]', repeat: true, help: 'optional value' },
      { long: 'jobs', short: 'j', value: '<n>', parse: int, help: 'parsed' },
      { long: 'dry-run', short: 'n', help: 'boolean' },
      { long: 'quiet', short: 'q', help: 'boolean' },
      { long: 'no-build', key: 'build', constant: false, help: 'negation' },
    ],
  },
  { name: 'pair', description: 'two arguments', args: [{ name: 'a' }, { name: 'b' }], flags: [{ long: 'out', short: 'o', value: '<file>', required: true, help: 'required' }] },
  { name: 'many', description: 'variadic', args: [{ name: 'stage', variadic: true }], flags: [{ long: 'force', value: '[stage]', repeat: true, help: '' }] },
];

const run = (argv: string[]) => {
  const r = parse(argv, TABLE);
  if (r.kind !== 'run') throw new Error(`not a run: ${r.kind}`);
  return r;
};
const usage = (argv: string[]) => {
  try {
    parse(argv, TABLE);
  } catch (e) {
    expect(e).toBeInstanceOf(ArgError);
    expect((e as ArgError).reason).toBe('usage');
    return (e as Error).message;
  }
  throw new Error(`no error for ${argv.join(' ')}`);
};

describe('args: parsing a command line against a flag table', () => {
  it('the first command is the default; values, repeats, short groups, camelCase keys and --no-X', () => {
    expect(run([])).toEqual({ kind: 'run', command: 'build', args: [], opts: { build: true } });
    expect(run(['--set', 'a=1', '--set=b=2', '-nqj3', '--no-build']).opts).toEqual({ set: ['a=1', 'b=2'], dryRun: true, quiet: true, jobs: 3, build: false });
    expect(run(['build', '-j', '2']).opts.jobs).toBe(2);
  });

  it('an optional value takes the next word, or is true alone; a bare --force means all', () => {
    expect(run(['--force']).opts.force).toBe(true);
    expect(run(['--force', 'x', '--force=y']).opts.force).toEqual(['x', 'y']);
    expect(run(['--force', 'x', '--force']).opts.force).toBe(true);
    expect(run(['--force', '-q']).opts).toEqual({ force: true, quiet: true, build: true });
    expect(parse(['many', 'a', '--force', 'b', 'c'], TABLE)).toMatchObject({ args: ['a', 'c'], opts: { force: ['b'] } });
  });

  it('positionals: counted, and everything after -- is one', () => {
    expect(parse(['pair', 'x', '-o', 'f', '--', '--y'], TABLE)).toMatchObject({ args: ['x', '--y'], opts: { out: 'f' } });
    expect(usage(['pair', 'x', '-o', 'f'])).toBe("missing required argument 'b'");
    expect(usage(['pair', 'x', 'y', 'z', '-o', 'f'])).toBe("too many arguments for 'pair'. Expected 2 arguments but got 3.");
    expect(usage(['build', 'extra'])).toBe("too many arguments for 'build'. Expected 0 arguments but got 1.");
    expect(parse(['many', 'a', 'b', 'c'], TABLE)).toMatchObject({ args: ['a', 'b', 'c'] });
  });

  it('usage errors: unknown options (with a suggestion), missing or invalid values, values given to flags, required options, unknown commands', () => {
    expect(usage(['--forse'])).toBe("unknown option '--forse' (did you mean --force?)");
    expect(usage(['--zzzzzz'])).toBe("unknown option '--zzzzzz'");
    expect(usage(['-x'])).toBe("unknown option '-x'");
    expect(usage(['pair', 'a', 'b', '--jobs', '2'])).toMatch(/^unknown option '--jobs'/);
    expect(usage(['--set'])).toBe("option '--set <k=v>' argument missing");
    expect(usage(['-j', 'two'])).toBe('option \'-j, --jobs <n>\' argument \'two\' is invalid. expected an integer, got "two"');
    expect(usage(['--quiet=yes'])).toBe("option '-q, --quiet' takes no value");
    expect(usage(['pair', 'a', 'b'])).toBe("required option '-o, --out <file>' not specified");
    expect(usage(['biuld'])).toBe("unknown command 'biuld' (did you mean build?)");
    expect(usage(['help', 'nosuch'])).toMatch(/^unknown command 'nosuch'/);
  });

  it('help and version, at the top or per command', () => {
    expect(parse(['--version'], TABLE)).toEqual({ kind: 'version' });
    expect(parse(['-h'], TABLE)).toEqual({ kind: 'help', command: null });
    expect(parse(['help'], TABLE)).toEqual({ kind: 'help', command: null });
    expect(parse(['help', 'pair'], TABLE)).toEqual({ kind: 'help', command: 'pair' });
    expect(parse(['help', '--help'], TABLE)).toEqual({ kind: 'help', command: null });
    expect(parse(['help', 'help'], TABLE)).toEqual({ kind: 'help', command: null });
    expect(() => parse(['help', 'nosuch'], TABLE)).toThrow(/unknown command 'nosuch'/);
    expect(parse(['pair', '--help'], TABLE)).toEqual({ kind: 'help', command: 'pair' });
    expect(parse(['-q', '-h'], TABLE)).toEqual({ kind: 'help', command: 'build' });
  });

  it("a two-word alias is its command: flags, help and the project's exp show", () => {
    const aliased: CommandSpec[] = [...TABLE, { name: 'ls', alias: 'exp show', description: 'a table', flags: [{ long: 'json', help: '' }] }];
    expect(parse(['exp', 'show', '--json'], aliased)).toEqual(parse(['ls', '--json'], aliased));
    expect(parse(['exp', 'show', '--help'], aliased)).toEqual({ kind: 'help', command: 'ls' });
    expect(parse(['help', 'exp', 'show'], aliased)).toEqual({ kind: 'help', command: 'ls' });
    expect(() => parse(['exp'], aliased)).toThrow(/^exp needs a subcommand: exp show \(the same as ls\)$/);
    expect(() => parse(['exp', 'list'], aliased)).toThrow(/^exp has no subcommand 'list': exp show \(the same as ls\)$/);
    expect(commandHelp('prog', aliased[3])).toMatch(/^usage: prog ls \[options\]\n   or: prog exp show \[options\]\n/);
    expect(programHelp('prog', 'what it does', aliased)).toMatch(/a table \(also: exp show\)/);
    // the project's table
    expect(parse(['exp', 'show', '--csv', '--metrics', 'trained_bpc'], COMMANDS)).toEqual(parse(['ls', '--csv', '--metrics', 'trained_bpc'], COMMANDS));
  });

  it('suggestions only for near misses', () => {
    expect(suggest('forse', ['force', 'set'])).toBe('force');
    expect(suggest('dryrun', ['dry-run', 'jobs'])).toBe('dry-run');
    expect(suggest('xyz', ['force', 'set'])).toBeNull();
  });
});

describe("args: help from the same table", () => {
  it('a command lists its own flags, wrapped to the width, with its usage line', () => {
    const h = commandHelp('prog', TABLE[1], 60);
    expect(h).toMatch(/^usage: prog pair \[options\] <a> <b>\n/);
    expect(h).toMatch(/-o, --out <file>\s+required/);
    expect(h).toMatch(/-h, --help\s+display help for command/);
    expect(h).not.toMatch(/--jobs|--set/);
    // the wrapped part (the text after the flags is written by hand); one word longer than the column stays whole
    for (const c of COMMANDS) {
      for (const line of commandHelp('npx tsx pipeline.ts', { ...c, after: '' }).split('\n')) if (line.trim().includes(' ')) expect(line.length, line).toBeLessThanOrEqual(80);
    }
  });

  it('the program lists every command, the default first', () => {
    const h = programHelp('prog', 'what it does', TABLE);
    expect(h).toMatch(/^usage: prog \[options\] \[command\]/);
    expect(h.indexOf('build [options]')).toBeLessThan(h.indexOf('pair [options] <a> <b>'));
    expect(h).toMatch(/many \[options\] <stage\.\.\.>/);
    expect(h).toMatch(/help \[command\]/);
  });

  it("the project's table: every flag name unique within its command, and every short letter too", () => {
    for (const c of COMMANDS) {
      const longs = c.flags.map((f) => f.long);
      const shorts = c.flags.flatMap((f) => (f.short ? [f.short] : []));
      expect(new Set(longs).size, c.name).toBe(longs.length);
      expect(new Set(shorts).size, c.name).toBe(shorts.length);
      expect(longs, c.name).not.toContain('help');
    }
  });

  it("the project's --seeds: a seed listed twice (42 and 042) is an error, not one model counted twice", () => {
    const seeds = COMMANDS.find((c) => c.name === 'report')!.flags.find((f) => f.long === 'seeds')!.parse!;
    expect(seeds('42,43')).toEqual([42, 43]);
    expect(() => seeds('42,042')).toThrow(/^seed 42 is listed twice in "42,042"/);
    const keep = COMMANDS.find((c) => c.name === 'gc')!.flags.find((f) => f.long === 'keep-recent')!.parse!;
    expect(keep('0')).toBe(0);
    expect(keep('2.5')).toBe(2.5);
    expect(() => keep('-1')).toThrow(/expected a number of minutes/);
  });
});
