import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // the browser view's end-to-end tests run with their own config (npm run test:e2e)
    exclude: ['test/e2e/**', 'node_modules/**'],
    pool: 'threads',
    // Every processor: Vitest's default for a run leaves one idle, which on a 2-core machine runs one file at a time.
    maxWorkers: '100%',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
