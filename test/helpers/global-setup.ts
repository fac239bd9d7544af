// Runs once per `vitest run`: says, in one line, how to enable the tests that are skipped
// because this machine has no copy of the paper's weights.
import { ENABLE_PAPER_TESTS, paperWeights } from './reference.ts';

/** Once per run, though each vitest project (unit, e2e) calls it (the flag is in the runner's environment). */
export default function setup(): void {
  if (process.env.TOTAL_INTERP_TEST_NOTE_SAID) return;
  process.env.TOTAL_INTERP_TEST_NOTE_SAID = '1';
  if (!paperWeights()) console.log(`note: ${ENABLE_PAPER_TESTS}`);
}
