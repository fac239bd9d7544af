// Runs once per `vitest run`: says, in one line, how to enable the tests that are skipped
// because this machine has no copy of the paper's weights.
import { ENABLE_PAPER_TESTS, paperWeights } from './reference.ts';

export default function setup(): void {
  if (!paperWeights()) console.log(`note: ${ENABLE_PAPER_TESTS}`);
}
