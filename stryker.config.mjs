// StrykerJS configuration for `npm run mutate -- <src dir or file>` (docs/testing.md, "Mutation testing").
// The script (scripts/mutate.mjs) passes --mutate and --incrementalFile; everything else is here.
// Not part of `npm test` nor of CI: a mutation run takes minutes to hours on two cores.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts', related: true },
  checkers: ['typescript'],
  // scripts/mutate.mjs writes a tsconfig of the mutated files alone (faster checks); tsconfig.json without it
  tsconfigFile: process.env.GRANTVM_MUTATE_TSCONFIG ?? 'tsconfig.json',
  // Each mutant runs only the tests that reached it in the dry run.
  coverageAnalysis: 'perTest',
  // A mutant of code that runs at import time would need every test file: too slow on two cores.
  ignoreStatic: true,
  // One test runner and one checker: the machine has two cores.
  concurrency: 1,
  incremental: true,
  timeoutMS: 10_000,
  // the first run of the related tests, with coverage, on a loaded machine
  dryRunTimeoutMinutes: 40,
  reporters: ['clear-text', 'progress', 'html'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  thresholds: { high: 95, low: 90, break: null },
  ignorePatterns: ['dist', 'web/dist', 'docs', 'coverage', 'out', 'test-artifacts', 'reports', 'test/e2e'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};

export default config;
