// Property tests in Vitest: fcTest.prop(arbitraries, params)(name, body, timeout) is a test that runs `body` under
// fast-check's assert, as @fast-check/vitest's test.prop does for these tests, without that package's cost on
// loading (it builds an enriched copy of every chain of Vitest's test modifiers: about 4 s of CPU per worker,
// more than most test files take). A failure reports fast-check's seed and counterexample. Entry points: fcTest, fc.
import fc from 'fast-check';
import { it } from 'vitest';

export { fc };

/** The arbitraries of a property, one per argument of its body. */
type Arbitraries<Ts extends [unknown, ...unknown[]]> = { [K in keyof Ts]: fc.Arbitrary<Ts[K]> };

/** Vitest's `test` with a `prop` for properties. */
export const fcTest = {
  /** A test `name` that holds when `body` passes (returns nothing or true) for every generated argument list. */
  prop<Ts extends [unknown, ...unknown[]]>(arbitraries: Arbitraries<Ts>, params?: fc.Parameters<Ts>) {
    return (
      name: string,
      body: (...args: Ts) => boolean | void | Promise<boolean | void>,
      timeout?: number,
    ): void => {
      it(
        name,
        async () => {
          await fc.assert(
            fc.asyncProperty<Ts>(...arbitraries, async (...args: Ts) => body(...args)),
            params,
          );
        },
        timeout,
      );
    };
  },
};
