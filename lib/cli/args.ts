// Parsing the command line from one table per command, on node:util's parseArgs (its
// tokens: long and short flags, `--flag=value`, `-abc` groups, `--`), and printing each
// command's help from the same table. Why not commander, which this replaced: under tsx, requiring commander cost 13-16 ms of CPU on every run (measured
// with process.cpuUsage around the require), 5 % of a no-op `report`, the command users run
// most; parseArgs ships with Node and costs nothing to load. What commander gave is kept:
// flags per command, unknown options as errors with a suggestion, stray words as errors,
// `--version`, and per-command `--help` listing only that command's flags.

import { parseArgs } from 'node:util';

export interface FlagSpec {
  /** The long name without dashes: 'dry-run' (its key in the options is camelCase: dryRun). */
  long: string;
  short?: string;
  /** '<n>': takes a value; '[stage]': the value may be left out (then the option is true). */
  value?: string;
  help: string;
  /** Repeatable: the options hold every value, in order. */
  repeat?: boolean;
  /** Turns the text into the option's value; throws with the reason when it does not fit. */
  parse?: (text: string) => unknown;
  /** The option's key and the value a flag without a value gives ('no-build': build = false). */
  key?: string;
  constant?: unknown;
  required?: boolean;
}

export interface CommandSpec {
  name: string;
  description: string;
  /** Positional arguments, all required; a variadic one takes the rest. */
  args?: { name: string; variadic?: boolean }[];
  flags: FlagSpec[];
  /** Help text after the flags. */
  after?: string;
  /** Another name of two words, as other tools spell it ('exp show': DVC's name for `ls`). */
  alias?: string;
}

export type Parsed =
  | { kind: 'run'; command: string; args: string[]; opts: Record<string, unknown> }
  | { kind: 'help'; command: string | null }
  | { kind: 'version' };

/** A usage error: one message (the caller adds the hint and exits 2). */
export class ArgError extends Error {
  readonly reason = 'usage';
  readonly hint?: string;
  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
  }
}

const HELP: FlagSpec = { long: 'help', short: 'h', help: 'display help for command' };
const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const keyOf = (f: FlagSpec) => f.key ?? camel(f.long);
const label = (f: FlagSpec) => `${f.short ? `-${f.short}, ` : ''}--${f.long}${f.value ? ` ${f.value}` : ''}`;

/** Levenshtein distance (for "did you mean"). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The closest of `names` to `word`, when it is close enough to be a typo. */
export function suggest(word: string, names: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const n of names) {
    const d = distance(word, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best !== null && bestD <= Math.max(1, Math.floor(word.length * 0.4)) ? best : null;
}

/**
 * `argv` with a command's two-word alias written as its name (`exp show --json` is `ls
 * --json`; `help exp show` is `help ls`). The first word of an alias alone, or with another
 * second word, is a usage error naming what it can be followed by.
 */
export function unalias(argv: readonly string[], commands: readonly CommandSpec[]): string[] {
  const at = argv[0] === 'help' ? 1 : 0;
  const word = argv[at];
  const aliased = commands.filter((c) => c.alias && c.alias.split(' ')[0] === word);
  if (!aliased.length) return [...argv];
  const c = aliased.find((x) => x.alias!.split(' ')[1] === argv[at + 1]);
  if (c) return [...argv.slice(0, at), c.name, ...argv.slice(at + 2)];
  const seconds = aliased.map((x) => x.alias!.split(' ')[1]);
  const got = argv[at + 1];
  throw new ArgError(
    `${word} ${got === undefined ? 'needs a subcommand' : `has no subcommand '${got}'`}: ${aliased.map((x) => `${x.alias} (the same as ${x.name})`).join(', ')}`,
    `e.g. ${word} ${seconds[0]} --help`,
  );
}

/** Parse `argv` (without node and the script) against the commands; the first one is the default. */
export function parse(argv: readonly string[], commands: readonly CommandSpec[]): Parsed {
  argv = unalias(argv, commands);
  const first = argv[0];
  if (first === '-V' || first === '--version') return { kind: 'version' };
  if (first === '-h' || first === '--help') return { kind: 'help', command: null };
  if (first === 'help') {
    // `help`, `help --help`, `help help`: the program's help; `help COMMAND`: that command's.
    const what = argv[1];
    if (what === undefined || what === 'help' || what.startsWith('-')) return { kind: 'help', command: null };
    if (argv.length > 2) throw new ArgError(`help takes one command, got ${argv.length - 1} words`, `e.g. help ${commands[0].name}`);
    return { kind: 'help', command: commandNamed(what, commands).name };
  }
  const spec = first !== undefined && !first.startsWith('-') ? commandNamed(first, commands) : commands[0];
  const rest = spec.name === first ? argv.slice(1) : argv.slice();
  return parseCommand(spec, rest);
}

function commandNamed(word: string, commands: readonly CommandSpec[]): CommandSpec {
  const c = commands.find((x) => x.name === word);
  if (c) return c;
  const s = suggest(word, commands.map((x) => x.name));
  throw new ArgError(`unknown command '${word}'${s ? ` (did you mean ${s}?)` : ''}`, `${commands.map((x) => x.name).join(', ')} are the commands; --help explains them`);
}

function parseCommand(spec: CommandSpec, argv: string[]): Parsed {
  const flags = [...spec.flags, HELP];
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple: true }> = {};
  // A value that may be left out is read as a boolean here, and its value taken below.
  for (const f of flags) options[f.long] = { type: f.value?.startsWith('<') ? 'string' : 'boolean', multiple: true, ...(f.short ? { short: f.short } : {}) };
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const byLong = new Map(flags.map((f) => [f.long, f]));
  const opts: Record<string, unknown> = {};
  const args: string[] = [];
  const taken = new Set<number>();
  for (const f of spec.flags) if (f.long.startsWith('no-')) opts[keyOf(f)] = true; // --no-X: X is true unless given
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === 'positional') {
      if (!taken.has(t.index)) args.push(t.value);
      continue;
    }
    if (t.kind !== 'option') continue;
    const f = byLong.get(t.name);
    if (!f) {
      const s = suggest(t.rawName.replace(/^-+/, ''), flags.map((x) => x.long));
      throw new ArgError(`unknown option '${t.rawName}'${s ? ` (did you mean --${s}?)` : ''}`);
    }
    if (f === HELP) return { kind: 'help', command: spec.name };
    let text: string | undefined = t.value;
    if (f.value?.startsWith('[') && text === undefined) {
      const next = tokens[i + 1];
      if (next?.kind === 'positional' && next.index === t.index + 1) {
        text = next.value;
        taken.add(next.index);
      }
    } else if (!f.value && t.inlineValue) throw new ArgError(`option '${label(f)}' takes no value`);
    if (f.value?.startsWith('<') && text === undefined) throw new ArgError(`option '${label(f)}' argument missing`);
    let value: unknown = text === undefined ? (f.constant ?? true) : text;
    if (text !== undefined && f.parse) {
      try {
        value = f.parse(text);
      } catch (e) {
        throw new ArgError(`option '${label(f)}' argument '${text}' is invalid. ${(e as Error).message}`);
      }
    }
    const k = keyOf(f);
    const prev = opts[k];
    // Repeated values collect; a repeatable flag given without a value means "all" (--force).
    if (f.repeat) opts[k] = value === true || prev === true ? true : [...(Array.isArray(prev) ? prev : []), value];
    else opts[k] = value;
  }
  for (const f of spec.flags) if (f.required && opts[keyOf(f)] === undefined) throw new ArgError(`required option '${label(f)}' not specified`);
  const want = spec.args ?? [];
  const variadic = want.some((a) => a.variadic);
  if (args.length < want.length) throw new ArgError(`missing required argument '${want[args.length].name}'`);
  if (!variadic && args.length > want.length) {
    throw new ArgError(`too many arguments for '${spec.name}'. Expected ${want.length} argument${want.length === 1 ? '' : 's'} but got ${args.length}.`);
  }
  return { kind: 'run', command: spec.name, args, opts };
}

/** Two columns: terms, and their text wrapped to the width. */
function columns(rows: [string, string][], width: number): string {
  const w = Math.max(...rows.map(([t]) => t.length)) + 2;
  return rows
    .map(([term, text]) => {
      const lines = wrap(text, Math.max(20, width - w - 2));
      return lines.map((l, i) => `  ${(i ? '' : term).padEnd(w)}${l}`.trimEnd()).join('\n');
    })
    .join('\n');
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...out, line];
}

const usageArgs = (c: CommandSpec) => (c.args ?? []).map((a) => ` <${a.name}${a.variadic ? '...' : ''}>`).join('');

/** One command's help: usage, description, its flags, and its text after them. */
export function commandHelp(prog: string, c: CommandSpec, width = 80): string {
  const rows = [...c.flags, HELP].map((f): [string, string] => [label(f), f.help]);
  const alias = c.alias ? `\n   or: ${prog} ${c.alias} [options]${usageArgs(c)}` : '';
  return `usage: ${prog} ${c.name} [options]${usageArgs(c)}${alias}\n\n${wrap(c.description, width).join('\n')}\n\noptions:\n${columns(rows, width)}\n${c.after ?? ''}`;
}

/** The program's help: every command with its description. */
export function programHelp(prog: string, description: string, commands: readonly CommandSpec[], width = 80): string {
  const opts = columns([['-V, --version', 'output the version number'], ['-h, --help', 'display help for command']], width);
  const rows = commands.map((c): [string, string] => [`${c.name} [options]${usageArgs(c)}`, `${c.description}${c.alias ? ` (also: ${c.alias})` : ''}`]);
  rows.push(['help [command]', 'display help for command']);
  return `usage: ${prog} [options] [command]\n\n${wrap(description, width).join('\n')}\n\noptions:\n${opts}\n\ncommands:\n${columns(rows, width)}\n`;
}
