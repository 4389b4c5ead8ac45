// The test set of mutation runs (stryker.config.mjs, docs/testing.md): the example-based unit and system tests.
// Left out: the command line and docs tests (they spawn grantvm as a child process, where Stryker can neither
// switch a mutant on nor see which mutants a test reaches) and the long random or exhaustive layers — the
// model-based fuzzing against the oracle, the security properties, the restart-at-every-step and fault sweeps,
// the exercise generators. With them a surviving mutant costs minutes; they remain in `npm test`.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';
import { splitByIsolation } from './test/helpers/isolation.ts';

// npm run mutate's --tests paths, comma-separated: directories or .test.ts files
const only = (process.env.GRANTVM_MUTATE_TESTS ?? '').split(',').filter((t) => t !== '');
const chosen = (f: string): boolean =>
  only.length === 0 || only.some((t) => (t.endsWith('.ts') ? f === t : f.startsWith(`${t}/`)));

// The narrowing goes into the projects: a project's include replaces the root's (vitest.config.ts's two projects
// would otherwise bring back every test file that imports the mutated code).
const { shared, isolated } = splitByIsolation(fileURLToPath(new URL('.', import.meta.url)));
const projects = [
  { extends: true as const, test: { name: 'shared', include: shared.filter(chosen), isolate: false } },
  { extends: true as const, test: { name: 'isolated', include: isolated.filter(chosen), isolate: true } },
].filter((p) => p.test.include.length > 0);

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    projects,
    exclude: [
      ...(base.test?.exclude ?? []),
      'test/unit/cli/**',
      'test/unit/docs/**',
      'test/unit/model/**',
      'test/security/**',
      'test/unit/servers/ds/restart_every_step_*.test.ts',
      'test/unit/sim/faults.test.ts',
      'test/unit/sim/exercise/**',
    ],
    // instrumented code on a loaded machine: a slow test is not a failure here
    testTimeout: 600_000,
  },
});
