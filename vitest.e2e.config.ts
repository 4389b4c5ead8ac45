// End-to-end tests of the browser view (npm run test:e2e): build web/dist if it is stale, serve it with
// `grantvm ui`, drive Debian's chromium with playwright-core. Kept apart from the unit tests (npm test).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/setup.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
