import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One line, once per run, when tests needing the paper's weights are skipped.
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
