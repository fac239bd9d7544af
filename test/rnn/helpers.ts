// Shared helpers for the RNN tests: deterministic pseudo-random data and weights, the
// reference files, and a max-difference report for kernel-vs-twin comparisons.
import { mulberry32 } from '../../lib/rnn/prng.ts';

// The paper's data (shipped) and weights (a path, or '' when this machine has none: tests
// that read them use `it.skipIf(!REF_WEIGHTS)`): test/helpers/reference.ts.
export { REF_DATA, refBytes, PAPER_WEIGHTS as REF_WEIGHTS } from '../helpers/reference.ts';
import { REF_DATA as REF_DATA_PATH, PAPER_WEIGHTS as REF_WEIGHTS_PATH } from '../helpers/reference.ts';

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

// The paper's weights (null when this machine has none: the tests that need them skip) and
// the paper's 1024 bytes (shipped), as the recipe tests name them.
export const PAPER_WEIGHTS: string | null = REF_WEIGHTS_PATH || null;
export const PAPER_DATA: string = REF_DATA_PATH;
