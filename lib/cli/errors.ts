// Errors as the user sees them: one `error:` line (or a few, for lists of valid names),
// one `hint:` line, and an exit code chosen by an exhaustive switch over the reasons.
// With --json the same error is also one object on stdout: {"error":{reason,message,hint}}.

import { ReasonedError, reasonOf, splitHint, type EngineReason } from '../engine/errors.ts';
import type { ParamProblem } from '../engine/params.ts';

/** Reasons of errors raised by the command line itself. */
export type CliReason = 'usage' | 'not-built' | 'no-report' | 'confirm' | 'write-failed';
export type Reason = EngineReason | CliReason | 'bug';

export class CliError extends ReasonedError<CliReason> {}

/** Exit code for each reason: 2 for anything the user asked wrongly, 1 for failures. */
export function exitCodeOf(reason: Reason): 1 | 2 {
  switch (reason) {
    case 'usage':
    case 'unknown-stage':
    case 'unknown-tensor':
    case 'param':
    case 'no-report':
    case 'confirm':
    case 'not-built':
    case 'missing-file':
      return 2;
    case 'bad-stage':
    case 'duplicate':
    case 'unknown-input':
    case 'cycle':
    case 'stage-failed':
    case 'busy':
    case 'lock-timeout':
    case 'cache-write':
    case 'corrupt':
    case 'internal':
    case 'write-failed':
    case 'bug':
      return 1;
    default: {
      const never: never = reason;
      return never;
    }
  }
}

export interface Reported {
  reason: Reason;
  message: string;
  hint: string | null;
}

/** The hints that name the command line, for errors the engine raises without one. */
function cliHint(reason: Reason, hint: string | undefined, problem: ParamProblem | undefined, e?: { what?: string }): string | undefined {
  if (reason === 'cache-write' && hint) return `${hint} with TOTAL_INTERP_CACHE=DIR`;
  if (reason === 'usage' && e?.what === 'url') return '--remote-cache http://HOST:PORT/PREFIX (or TOTAL_INTERP_REMOTE_CACHE)'; // keep/remote-http.ts
  if (reason === 'duplicate') return 'every stage in pipeline.ts needs a unique name'; // decide/graph.ts
  if (hint !== undefined || !problem) return hint;
  if (problem.kind === 'bad-value') return `--set ${problem.stage}.${problem.param}=<${problem.expected}>`;
  if (problem.kind === 'unknown-param') return "npx tsx pipeline.ts --help lists every stage's params";
  return 'npx tsx pipeline.ts --help lists every param with its default and description';
}

/**
 * An error as reason, message and hint. Errors of the engine, the queue and the CLI carry
 * their hint as a field; text from elsewhere (a data reader's error raised while planning)
 * may end in the project's "hint: …" line, split off here (engine/errors.ts splitHint).
 */
export function describe(e: unknown, defaultHint: string): Reported {
  const err = e as Error & { hint?: string; problem?: ParamProblem };
  const reason: Reason = e instanceof CliError ? e.reason : (reasonOf(e) ?? 'bug');
  const split = splitHint(String(err?.message ?? e), err?.hint);
  const message = split.message;
  let hint = cliHint(reason, split.hint, err?.problem, err as { what?: string }) ?? null;
  if (reason === 'bug' && !hint) hint = 'this is a bug; TOTAL_INTERP_DEBUG=1 prints the stack';
  return { reason, message, hint: hint ?? (exitCodeOf(reason) === 2 ? defaultHint : null) };
}
