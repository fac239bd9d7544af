// total-interp: the CLI entry and the list of stages, in the paper's order.
// `npx tsx pipeline.ts --help` explains the commands; docs/stages.md explains a stage.

import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Pipeline } from './lib/engine/pipeline.ts';
import { main } from './lib/engine/cli.ts';

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
  'stages/report.ts', //          the report
];

const root = path.dirname(fileURLToPath(import.meta.url));

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // The engine names no environment variable of ours for locks: it takes the wait limit as
  // an option. (To move with the CLI into lib/cli.)
  const waitS = Number(process.env.TOTAL_INTERP_LOCK_TIMEOUT);
  const lock = {
    ...(process.env.TOTAL_INTERP_LOCK_TIMEOUT && Number.isFinite(waitS) && waitS >= 0 ? { timeoutMs: waitS * 1000 } : {}),
    advice: 'to wait longer, set TOTAL_INTERP_LOCK_TIMEOUT=SECONDS',
  };
  const p = await Pipeline.load({ root, stageFiles: STAGES, lock }).catch((e) => {
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(2);
  });
  process.exitCode = await main(p, process.argv.slice(2));
}
