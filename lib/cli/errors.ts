// Errors as the user sees them: one `error:` line (or a few, for lists of valid names),
// one `hint:` line, and an exit code chosen by an exhaustive switch over the reasons.
// With --json the same error is also one object on stdout: {"error":{reason,message,hint}}.

import { reasonOf, type EngineReason } from '../engine/errors.ts';

/** Reasons of errors raised by the command line itself. */
export type CliReason = 'usage' | 'not-built' | 'no-report' | 'confirm' | 'write-failed';
export type Reason = EngineReason | CliReason | 'bug';

export class CliError extends Error {
  readonly reason: CliReason;
  readonly hint?: string;
  constructor(reason: CliReason, message: string, hint?: string) {
    super(message);
    this.reason = reason;
    this.hint = hint;
  }
}

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

/** Split an error into reason, message and hint (a trailing "hint: …" line of the message counts). */
export function describe(e: unknown, defaultHint: string): Reported {
  const err = e as Error & { hint?: string };
  const reason: Reason = e instanceof CliError ? e.reason : (reasonOf(e) ?? 'bug');
  let message = String(err?.message ?? e);
  let hint = err?.hint ?? null;
  const m = /\nhint: ([^\n]*)$/.exec(message);
  if (m) {
    message = message.slice(0, m.index);
    hint ??= m[1];
  }
  if (reason === 'bug' && !hint) hint = 'this is a bug; TOTAL_INTERP_DEBUG=1 prints the stack';
  return { reason, message, hint: hint ?? (exitCodeOf(reason) === 2 ? defaultHint : null) };
}
