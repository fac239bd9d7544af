// Benchmark: the four §5 analysis stages (carrier-pattern, influence, decomposition,
// baselines) on the paper's weights and the N = 1024 reference bytes.
// Budget: all four together ≤ 10 s.   node --import tsx bench/s5.bench.ts [reps]
import carrierPattern from '../stages/carrier-pattern.ts';
import influence from '../stages/influence.ts';
import decomposition from '../stages/decomposition.ts';
import baselines from '../stages/baselines.ts';
import { isMain, printTimings, referenceInputs, timeStages } from './stage-bench.ts';

export const BUDGET_MS = 10_000;

export async function benchS5(reps = 3) {
  return timeStages([carrierPattern, influence, decomposition, baselines], referenceInputs(), reps);
}

if (isMain(import.meta.url)) {
  const reps = Number(process.argv[2] ?? 3);
  printTimings('all §5', await benchS5(reps), BUDGET_MS, reps);
}
