import { defineConfig, defaultExclude } from 'vitest/config';

// End-to-end tests: they build on a copy of the project (real stages), run the CLI in
// child processes, drive a browser, or start servers. `npm run test:quick` runs everything else (the unit
// project); `npm test` runs both.
export const E2E = [
  'test/browser/**',
  'test/distributed/**',
  'test/cli/cli.test.ts',
  'test/cli/export.test.ts',
  'test/cli/paper-reference.test.ts',
  'test/cli/project.test.ts',
  'test/cli/sweep.test.ts',
  'test/cli/sweep-grid.test.ts',
  'test/engine/cache-faults.test.ts',
  'test/engine/cli.test.ts',
  'test/engine/lock.test.ts',
  'test/report/reference.test.ts',
  'test/report/seeds.test.ts',
  'test/stages/long-data.test.ts',
  'test/stages/relocatable.test.ts',
  'test/stages/report.test.ts',
];

export default defineConfig({
  test: {
    // One line, once per run, when tests needing the paper's weights are skipped.
    globalSetup: ['test/helpers/global-setup.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...defaultExclude, ...E2E] } },
      { extends: true, test: { name: 'e2e', include: E2E.map((p) => (p.endsWith('/**') ? `${p}/*.test.ts` : p)) } },
    ],
  },
});
