import os from 'node:os';
import { defineConfig, defaultExclude } from 'vitest/config';

// End-to-end tests: they build on a copy of the project (real stages), run the CLI in
// child processes, drive a browser, or start servers. `npm run test:quick` runs everything else (the unit
// project, ≤ 60 s on 2 cores); `npm test` runs both.
//
// Kept out of the quick project because each spends seconds on a child process or a whole
// build, not on the code it checks (file times on 2 cores):
//   - test/docs/definitions-report.test.ts: builds a whole tiny report (9 s); the doc's own
//     checks stay in the unit project (test/docs/definitions.test.ts);
//   - test/engine/gc-lock.test.ts: gc against a build in another CLI process (10 s);
//   - test/engine/placement.test.ts: stages run in child processes beside a 2.5 s wall-clock
//     spinner, and its "within 2× of its time alone" would race the other unit worker (7 s);
//   - test/stages/describe-file.test.ts: hand-edited descriptions through the CLI (10 s);
//   - test/stages/kn-cli.test.ts, test/stages/s6-dag-cli.test.ts: the CLI's side of the kn
//     and §6.3 DAG tests, whose in-process halves stay unit tests (3 s, 1 s);
//   - test/cli/q3.test.ts: `report --q3` refusals through the CLI (4 s);
//   - test/stages/provenance.test.ts: builds the real stages, training included, in a temporary
//     cache again and again (3 s; training, a `long` stage, runs in a child process).
export const E2E = [
  'test/browser/**',
  'test/distributed/**',
  'test/cli/cli.test.ts',
  'test/cli/export.test.ts',
  'test/cli/paper-reference.test.ts',
  'test/cli/project.test.ts',
  'test/cli/q3.test.ts',
  'test/cli/sweep.test.ts',
  'test/cli/sweep-grid.test.ts',
  'test/docs/definitions-report.test.ts',
  'test/engine/cache-faults.test.ts',
  'test/engine/cli.test.ts',
  'test/engine/gc-lock.test.ts',
  'test/engine/lock.test.ts',
  'test/engine/placement.test.ts',
  'test/report/reference.test.ts',
  'test/report/seeds.test.ts',
  'test/stages/describe-file.test.ts',
  'test/stages/kn-cli.test.ts',
  'test/stages/long-data.test.ts',
  'test/stages/provenance.test.ts',
  'test/stages/relocatable.test.ts',
  'test/stages/report.test.ts',
  'test/stages/s6-dag-cli.test.ts',
];

export default defineConfig({
  test: {
    // One line, once per run, when tests needing the paper's weights are skipped.
    globalSetup: ['test/helpers/global-setup.ts'],
    projects: [
      // One file per core: a unit file is one single-threaded process, and vitest's default
      // (cores − 1) would run them one at a time on 2 cores. Unit tests assert no wall-clock
      // bound that a neighbour could upset (those are e2e). isolate: false: a worker imports
      // the project's modules once for all its files, not once per file (that import was
      // half of the project's CPU time); a unit test leaves no global state behind (env
      // variables, fake timers and spies are restored in afterEach).
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...defaultExclude, ...E2E], maxWorkers: Math.max(2, os.availableParallelism()), isolate: false, sequence: { groupOrder: 0 } } },
      // vitest's default (cores − 1), after the unit files: they start child processes of
      // their own, and some time them.
      { extends: true, test: { name: 'e2e', include: E2E.map((p) => (p.endsWith('/**') ? `${p}/*.test.ts` : p)), maxWorkers: Math.max(1, os.availableParallelism() - 1), sequence: { groupOrder: 1 } } },
    ],
  },
});
