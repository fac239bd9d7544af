// total-interp: the CLI entry and the list of stages, in the paper's order.
// `npx tsx pipeline.ts --help` explains the commands; docs/stages.md explains a stage.

import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { main, quietOnEpipe } from './lib/cli/main.ts';

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

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  quietOnEpipe();
  process.exitCode = await main({ root, stageFiles: STAGES, argv: process.argv.slice(2) });
}
