// Progress on stderr. On a TTY a long stage gets a redrawn bar with an ETA; elsewhere
// (CI, pipes) a plain line every few seconds. Stages call progress(done, total, msg) as
// often as they like: rendering is throttled here.

import type { Progress } from '../types.ts';

/**
 * What a build says about each stage, as data: a stage ran (its own seconds, where), was
 * served from the cache (by another process, or built from the same bytes under other
 * names: `note`), failed, or waits for another machine building it. The CLI prints it
 * (eventLine), a queue worker forwards it to the submitter as it is.
 */
export type BuildEvent =
  | { kind: 'ran'; stage: string; seconds: number; where: 'here' | 'pool' | 'child' }
  | { kind: 'cached'; stage: string; byOther?: boolean; note?: string }
  | { kind: 'failed'; stage: string; message: string }
  | { kind: 'waiting'; stage: string; holder: string };

export interface Reporter {
  /** Progress callback for one stage. */
  stage(name: string): Progress & { done(): void };
  line(text: string): void;
  /** Told every build event as data, before its line (a worker forwards them). */
  event?(e: BuildEvent): void;
}

/** The line a build event prints, or null (a failure is printed as the build's error). */
export function eventLine(e: BuildEvent): string | null {
  switch (e.kind) {
    case 'ran':
      return `  ran     ${e.stage}  ${e.seconds.toFixed(2)}s`;
    case 'cached':
      return `  cached  ${e.stage}${e.byOther ? ' (built by another process)' : ''}${e.note ? ` (${e.note})` : ''}`;
    case 'waiting':
      return `  waiting for ${e.holder} building ${e.stage}…`;
    case 'failed':
      return null;
  }
}

/** Tell a reporter one build event: as data, then as its line. */
export function emit(r: Reporter, e: BuildEvent): void {
  r.event?.(e);
  const text = eventLine(e);
  if (text !== null) r.line(text);
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`;
}

export function makeReporter(stream: NodeJS.WriteStream = process.stderr, opts: { tty?: boolean; everyMs?: number } = {}): Reporter {
  const tty = opts.tty ?? Boolean(stream.isTTY);
  const everyMs = opts.everyMs ?? (tty ? 100 : 5000);
  let barShown = false;
  const clearBar = () => {
    if (barShown) {
      stream.write('\r\x1b[2K');
      barShown = false;
    }
  };
  return {
    line(text) {
      clearBar();
      stream.write(text + '\n');
    },
    stage(name) {
      const start = performance.now();
      let last = 0;
      // The ETA is the rate since the stage's first report, not since it was started: a child
      // process's start-up, or loading inputs, is not progress and would inflate the ETA.
      let first: { at: number; frac: number } | null = null;
      const fn = ((done: number, total: number, message?: string) => {
        const now = performance.now();
        const frac = total > 0 ? Math.min(1, done / total) : 0;
        first ??= { at: now, frac };
        if (now - last < everyMs && done < total) return;
        if (!tty && now - start < 2000) return; // short stages print nothing extra
        last = now;
        const elapsed = (now - start) / 1000;
        const eta = frac > first.frac ? (((now - first.at) / 1000) * (1 - frac)) / (frac - first.frac) : NaN;
        const msg = message ? `  ${message}` : '';
        const count = Number.isInteger(done) && Number.isInteger(total) ? `  ${done}/${total}` : '';
        if (tty) {
          const width = 24;
          const fill = Math.round(frac * width);
          const bar = '█'.repeat(fill) + '░'.repeat(width - fill);
          const text = `  ${name.padEnd(16)} ${bar} ${(100 * frac).toFixed(0).padStart(3)}%${count}  ETA ${fmtTime(eta)}${msg}`;
          stream.write('\r\x1b[2K' + text.slice(0, (stream.columns || 120) - 1));
          barShown = true;
        } else {
          stream.write(`  ${name}: ${(100 * frac).toFixed(0)}%${count}, ${fmtTime(elapsed)} elapsed, ETA ${fmtTime(eta)}${msg}\n`);
        }
      }) as Progress & { done(): void };
      fn.done = clearBar;
      return fn;
    },
  };
}

/** A reporter that prints nothing (tests, --json with quiet). */
export const silentReporter: Reporter = {
  line() {},
  stage() {
    const f = (() => {}) as unknown as Progress & { done(): void };
    f.done = () => {};
    return f;
  },
};
