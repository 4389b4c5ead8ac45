import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { BaseSequencer } from 'vitest/node';
import type { TestSpecification } from 'vitest/node';
import { splitByIsolation } from './test/helpers/isolation.ts';

// The files that take longest, longest first: they start before all others, whatever Vitest remembers of earlier
// runs (a fresh checkout, as in CI, remembers nothing, and would start the largest files first), so that the run
// does not wait on a long file started last. The run ends when its longest file does. The isolated file among
// them starts beside the first: a shared worker is handed on only to a shared file next in line, so an isolated
// file later in the list would end a shared worker that has loaded the sources, and the shared file after it
// would start another that loads them again (with @fast-check/vitest, about 4 s of CPU).
const SLOW_FIRST = [
  'test/unit/docs/readme.test.ts',
  'test/unit/cli/runner.test.ts',
  'test/unit/servers/ds/restart_every_step_1.test.ts',
  'test/unit/servers/ds/restart_every_step_2.test.ts',
  'test/unit/docs/docs_cli.test.ts',
  'test/unit/docs/docs.test.ts',
  'test/unit/sim/faults.test.ts',
  'test/unit/docs/claims.test.ts',
  'test/unit/cli/scenariofile.test.ts',
  'test/unit/model/differential.test.ts',
];

/** `files` in an order drawn from `seed` (Fisher-Yates with a linear congruential generator). */
function shuffled(files: TestSpecification[], seed: number): TestSpecification[] {
  const out = [...files];
  let x = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j] as TestSpecification, out[i] as TestSpecification];
  }
  return out;
}

/**
 * With a seed (`--sequence.seed N`, which `--sequence.shuffle` also sets), the files in an order drawn from it: a
 * check that no file depends on the files run before it in its worker. Without, Vitest's order, in its order, then the files that share workers, then the isolated
 * ones: a worker is handed on to the next file only when that file shares too (Vitest's pool), so the sharing
 * files run one after another.
 */
class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seed = this.ctx.config.sequence.seed;
    if (seed !== undefined) return shuffled(await super.sort(files), seed);
    const rank = (f: TestSpecification): number => {
      const i = SLOW_FIRST.findIndex((s) => f.moduleId.endsWith(s));
      if (i !== -1) return i;
      return SLOW_FIRST.length + (f.project.config.isolate ? 1 : 0);
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

// Most files run one after another in the same worker, which imports the sources once (isolate: false); a file
// that changes state outliving it (a mock, the process's fields, a module's setting) gets a fresh worker of its
// own. test/helpers/isolation.ts decides which from each file's source, when Vitest starts.
const { shared, isolated } = splitByIsolation(fileURLToPath(new URL('.', import.meta.url)));

export default defineConfig({
  test: {
    // the browser view's end-to-end tests run with their own config (npm run test:e2e)
    exclude: ['test/e2e/**', 'node_modules/**'],
    pool: 'threads',
    // Every processor: Vitest's default for a run leaves one idle, which on a 2-core machine runs one file at a time.
    maxWorkers: '100%',
    sequence: { sequencer: SlowFirst },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // toEqual of two equal typed arrays (memory contents) without Vitest's comparison index by index
    setupFiles: ['test/helpers/equality-setup.ts'],
    projects: [
      // The global setup makes the store of the runs the docs tests share (test/helpers/cli-host-runs.ts).
      {
        extends: true,
        test: {
          name: 'shared',
          include: shared,
          isolate: false,
          globalSetup: ['test/helpers/cli-host-runs-setup.ts'],
        },
      },
      { extends: true, test: { name: 'isolated', include: isolated, isolate: true } },
    ],
  },
});
