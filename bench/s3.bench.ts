// Benchmark: the four §3 analysis stages (isomorphism, boolean, skipgrams, factor-map) on
// the paper's weights and data. Budget: all four together ≤ 3 s (the authors'
// C tools take about 1.3 s).   node --import tsx bench/s3.bench.ts [reps]
import isomorphism from '../stages/isomorphism.ts';
import boolean from '../stages/boolean.ts';
import skipgrams from '../stages/skipgrams.ts';
import factorMap from '../stages/factor-map.ts';
import { isMain, output, printTimings, referenceInputs, timeStages } from './stage-bench.ts';

export async function benchS3(reps = 5) {
  const inputs = referenceInputs();
  // factor-map reads its offsets from skipgrams, which runs before it in each round
  return timeStages([isomorphism, boolean, skipgrams, factorMap], inputs, reps, (def, res) => {
    if (def.name === 'skipgrams') inputs.skipgrams = output(res.json, {}, 'skipgrams');
  });
}

if (isMain(import.meta.url)) {
  const reps = Number(process.argv[2] ?? 5);
  printTimings('all §3', await benchS3(reps), 3000, reps);
}
