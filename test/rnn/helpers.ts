// Shared helpers for the RNN tests: deterministic pseudo-random data and weights, the
// reference files, and a max-difference report for kernel-vs-twin comparisons.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../../lib/rnn/prng.ts';

export const REF_DATA = path.resolve('../shared/reference/enwik_1024.txt');
export const REF_WEIGHTS = path.resolve('../shared/reference/sat_model.bin');

export function refBytes(): Uint8Array {
  return new Uint8Array(readFileSync(REF_DATA));
}

/** n bytes drawn from a small alphabet (so that a tiny model can learn something). */
export function randomBytes(n: number, seed: number, alphabet = 'abcdefgh '): Uint8Array {
  const rng = mulberry32(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = alphabet.charCodeAt(Math.floor(rng.next() * alphabet.length));
  return out;
}

/** Values uniform in [-amp, amp). */
export function randomFill<A extends Float32Array | Float64Array>(a: A, seed: number, amp: number): A {
  const rng = mulberry32(seed);
  for (let i = 0; i < a.length; i++) a[i] = (rng.next() * 2 - 1) * amp;
  return a;
}

/** Max |a - b| / max(1, |b|) and where it is, for failure messages. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; at: number; msg: string } {
  let max = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (!(d <= max)) {
      max = d;
      at = i;
    }
  }
  return { max, at, msg: `max rel diff ${max.toExponential(3)} at ${at}: ${a[at]} vs ${b[at]}` };
}

// Local stand-ins for the shared finders the `fresh` helper is writing (issue 10 item 7):
// the paper's weights from TOTAL_INTERP_PAPER_WEIGHTS, else ../shared/reference if it is
// there; the paper's 1024 bytes likewise (ENWIK9 when it is the 1024-byte file). null when
// absent: the tests that need them are skipped.
function firstExisting(...candidates: (string | undefined)[]): string | null {
  for (const c of candidates) if (c && existsSync(c)) return path.resolve(c);
  return null;
}
export const PAPER_WEIGHTS = firstExisting(process.env.TOTAL_INTERP_PAPER_WEIGHTS, REF_WEIGHTS);
export const PAPER_DATA = firstExisting(REF_DATA, 'data/enwik9-head-1024.txt');
