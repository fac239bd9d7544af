// total-interp: the CLI entry and the list of stages, in the paper's order.
// `npx tsx pipeline.ts --help` explains the commands; docs/stages.md explains a stage.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const STAGES = [
  'stages/data.ts', //            the first N bytes of enwik9
  'stages/train.ts', //           §2   BPTT-50 training
  'stages/model.ts', //           §2   trained or imported weights
  'stages/trace.ts', //           §2   the one float32 forward pass
  'stages/isomorphism.ts', //     §3.1 RNN-UM isomorphism
  'stages/boolean.ts', //         §3.2 Boolean automaton
  'stages/skipgrams.ts', //       §3.4 skip-gram counting
  'stages/factor-map.ts', //      §3.3 Table 1 and the explanation ladder
  'stages/construction.ts', //    §4.1 shift-register weight construction
  'stages/reverse-iso.ts', //     §4.2 reverse isomorphism
  'stages/carrier-pattern.ts', // §5.2 Table 2
  'stages/influence.ts', //       §5.3 Table 3
  'stages/decomposition.ts', //   §5.4 output decomposition
  'stages/baselines.ts', //       §5.1 three failed attributions
  'stages/timing-carrier.ts', //  §6.2 Q1 the carrier from timing rules
  'stages/pattern-tables.ts', //  §6.2 Q2 pattern units' lookup tables
  'stages/kn.ts', //              §6.5 the counting baseline: byte-level Kneser–Ney
  'stages/describe.ts', //        §6.2 Q4 descriptions, marginal to full
  'stages/rebuild.ts', //         §6.2 Q4 weights written back from them
  'stages/rebuild-score.ts', //   §6.2 Q4 the rebuilt RNNs scored beside the trained one
  'stages/viewer.ts', //          the per-position viewer (reports/<label>/viewer.html)
  'stages/report.ts', //          the report
];

const root = path.dirname(fileURLToPath(import.meta.url));

// ---- the no-op shortcut ----
// A `report` or `run` that found everything cached and wrote nothing leaves a memo
// (lib/cli/noop.ts writes it): what it printed, each environment variable it read, and the
// stat of every file it read or could have loaded. The same command, with all of those
// unchanged, prints the same again from here, with node builtins only: no CLI or engine
// module is loaded (each costs ~10 ms through tsx). Anything else runs the full CLI.

/** Whether these words are a build the memo may answer: report or run, local, no sweep, no queue. */
export function memoizable(argv: readonly string[], env: Record<string, string | undefined>): boolean {
  const other = /^(status|dag|gc|diff|ls|exp|show|export|worker|help)$/;
  if (argv.length && !argv[0].startsWith('-') ? !/^(report|run)$/.test(argv[0]) : argv.some((a) => other.test(a))) return false;
  if (argv.some((a) => /^--(remote-cache|queue|sweep|seeds|q3|help|version)(=|$)|^-h$/.test(a))) return false;
  return !env.TOTAL_INTERP_REMOTE_CACHE;
}

export interface MemoAt {
  /** Everything the memo is for besides what it lists: the words, where, which node, which terminal. */
  key: string;
  file: string;
}

/** Where the memo for this command line is (one per key, named by a hash of it). */
export function memoAt(o: { root: string; argv: readonly string[]; env: Record<string, string | undefined> }): MemoAt {
  const tty = (s: { isTTY?: boolean; columns?: number }) => (s.isTTY ? s.columns ?? 0 : null);
  // Read by Node in C++ (os.tmpdir, os.homedir), not through process.env: always part of the key.
  const nativeEnv = ['HOME', 'TMPDIR', 'TMP', 'TEMP', 'TOTAL_INTERP_CACHE'].map((k) => o.env[k] ?? null);
  const key = JSON.stringify([1, o.argv, process.cwd(), path.resolve(o.root), process.version, process.execArgv, tty(process.stdout), tty(process.stderr), nativeEnv]);
  let h = 0x811c9dc5; // FNV-1a: a name, not a check (the memo holds the whole key)
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  const cache = path.resolve(o.env.TOTAL_INTERP_CACHE || path.join(o.root, 'cache'));
  return { key, file: path.join(cache, 'noop', `${h.toString(16).padStart(8, '0')}.json`) };
}

/** The memo's output when it is in force: same key, same env values, every file's stat the same. */
function replay(at: MemoAt, env: Record<string, string | undefined>): { out: string; err: string } | null {
  let memo: any;
  try {
    memo = JSON.parse(fs.readFileSync(at.file, 'utf8'));
  } catch {
    return null;
  }
  const miss = (why: string) => {
    if (env.TOTAL_INTERP_DEBUG) process.stderr.write(`debug: no-op memo not used: ${why}\n`);
    return null;
  };
  if (memo?.key !== at.key || typeof memo.out !== 'string' || typeof memo.err !== 'string') return miss('another command line');
  for (const [k, v] of Object.entries(memo.env ?? {})) if ((env[k] ?? null) !== v) return miss(`${k} changed`);
  for (const [f, k] of Object.entries(memo.files ?? {})) {
    const st = fs.statSync(f, { bigint: true, throwIfNoEntry: false });
    // keep/hash.ts statKey: size, mtime and ctime (ns), device, inode
    if ((st ? `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.dev}:${st.ino}` : 'absent') !== k) return miss(`${f} changed`);
  }
  if (env.TOTAL_INTERP_DEBUG) process.stderr.write('debug: no-op memo used\n');
  return { out: memo.out, err: memo.err };
}

/** The command line: the no-op memo's output when it is in force, else the full CLI (watched for a new memo). */
export async function commandLine(o: { root: string; stageFiles: string[]; argv: string[] }): Promise<number> {
  const env = process.env;
  const at = memoizable(o.argv, env) ? memoAt({ ...o, env }) : null;
  const again = at && replay(at, env);
  if (again) {
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
    process.stderr.write(again.err);
    process.stdout.write(again.out);
    return 0;
  }
  const memo = at && (await import('./lib/cli/noop.ts')).record(at, { root: o.root, env });
  const { main, quietOnEpipe } = await import('./lib/cli/main.ts');
  quietOnEpipe();
  const code = await main({ root: o.root, stageFiles: o.stageFiles, argv: o.argv });
  memo?.finish(code);
  return code;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await commandLine({ root, stageFiles: STAGES, argv: process.argv.slice(2) });
}
