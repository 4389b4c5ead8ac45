import { defineConfig } from 'vitest/config';
import { BaseSequencer } from 'vitest/node';
import type { TestSpecification } from 'vitest/node';

// The files that take longest, longest first: they start before all others, whatever Vitest remembers of earlier
// runs (a fresh checkout, as in CI, remembers nothing, and would start the largest files first), so that the run
// does not wait on a long file started last. The run ends when its longest file does.
const SLOW_FIRST = [
  'test/unit/docs/readme.test.ts',
  'test/unit/servers/ds/restart_every_step_1.test.ts',
  'test/unit/servers/ds/restart_every_step_2.test.ts',
  'test/unit/docs/docs_cli.test.ts',
  'test/unit/docs/docs.test.ts',
  'test/unit/sim/faults.test.ts',
  'test/unit/docs/claims.test.ts',
  'test/unit/cli/runner.test.ts',
  'test/unit/cli/scenariofile.test.ts',
  'test/unit/model/differential.test.ts',
];

/** Vitest's order, but with SLOW_FIRST first, in its order. */
class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification): number => {
      const i = SLOW_FIRST.findIndex((s) => f.moduleId.endsWith(s));
      return i === -1 ? SLOW_FIRST.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // the browser view's end-to-end tests run with their own config (npm run test:e2e)
    exclude: ['test/e2e/**', 'node_modules/**'],
    pool: 'threads',
    // Every processor: Vitest's default for a run leaves one idle, which on a 2-core machine runs one file at a time.
    maxWorkers: '100%',
    sequence: { sequencer: SlowFirst },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
